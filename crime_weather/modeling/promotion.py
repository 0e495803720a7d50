"""Champion vs challenger on the same held-out data: the alias moves only if the challenger is better."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from crime_weather.core.names import TARGET
from crime_weather.modeling.metrics import scores
from crime_weather.modeling.pipeline import model_input
from crime_weather.modeling.registry import CHAMPION, TAG_PROMOTED_AT, load_pipeline


@dataclass
class Contest:
    """The challenger and the champion (if any), scored on the same held-out data."""

    challenger: ModelVersion
    champion: ModelVersion | None
    challenger_deviance: float
    champion_deviance: float | None = None


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    serving_version: str | None  # the champion after the decision
    serving_deviance: float | None
    record: bool = True  # False when there was no contest to record (the challenger already serves)


def decide(contest: Contest, margin: float) -> Decision:
    """Promote when there is no champion, or when the challenger's test deviance is lower by `margin`.
    A challenger that already is the champion (a rerun) is neither promoted again nor recorded."""
    challenger, champion = contest.challenger, contest.champion
    new, old = contest.challenger_deviance, contest.champion_deviance
    if champion is not None and champion.version == challenger.version:
        return Decision(False, "the challenger already is the champion", str(champion.version), new, False)
    if champion is None:
        return Decision(True, "no champion yet", str(challenger.version), new)
    if old is None:
        return Decision(
            True, f"champion v{champion.version} could not be scored", str(challenger.version), new
        )
    if new < old * (1 - margin):
        reason = f"challenger {new:.4f} < champion {old:.4f} x (1 - {margin})"
        return Decision(True, reason, str(challenger.version), new)
    reason = f"challenger {new:.4f} is not below champion {old:.4f} x (1 - {margin})"
    return Decision(False, reason, str(champion.version), old)


def test_deviance(tracking_uri: str, version: ModelVersion, test: pd.DataFrame) -> float:
    pipeline = load_pipeline(tracking_uri, version)
    return scores(test[TARGET].to_numpy(), pipeline.predict(model_input(test)))["poisson_deviance"]


def record(client: MlflowClient, name: str, contest: Contest, decision: Decision) -> str | None:
    """Tag the challenger's version and run with the decision; move the alias if promoting."""
    if not decision.record:
        return None
    champion = contest.champion
    tags = {
        "promotion_decision": "promoted" if decision.promote else "rejected",
        "promotion_reason": decision.reason,
        "promotion_challenger_test_deviance": f"{contest.challenger_deviance:.6f}",
        "promotion_champion_test_deviance": ""
        if contest.champion_deviance is None
        else f"{contest.champion_deviance:.6f}",
        "promotion_champion_version": str(champion.version) if champion else "",
    }
    version = contest.challenger.version
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
        client.set_tag(contest.challenger.run_id, key, value)
    if not decision.promote:
        return None
    promoted_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, version, TAG_PROMOTED_AT, promoted_at)
    client.set_registered_model_alias(name, CHAMPION, version)
    return promoted_at
