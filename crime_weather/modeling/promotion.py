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


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    challenger_deviance: float
    champion_deviance: float | None


def decide(challenger_deviance: float, champion_deviance: float | None, margin: float) -> Decision:
    """Promote when there is no champion, or when the challenger's test deviance is lower by `margin`."""
    if champion_deviance is None:
        return Decision(True, "no champion yet", challenger_deviance, None)
    threshold = champion_deviance * (1 - margin)
    if challenger_deviance < threshold:
        return Decision(
            True,
            f"challenger {challenger_deviance:.4f} < champion {champion_deviance:.4f} x (1 - {margin})",
            challenger_deviance,
            champion_deviance,
        )
    return Decision(
        False,
        f"challenger {challenger_deviance:.4f} is not below champion {champion_deviance:.4f} x (1 - {margin})",
        challenger_deviance,
        champion_deviance,
    )


def test_deviance(tracking_uri: str, version: ModelVersion, test: pd.DataFrame) -> float:
    pipeline = load_pipeline(tracking_uri, version)
    return scores(test[TARGET].to_numpy(), pipeline.predict(model_input(test)))["poisson_deviance"]


def record(
    client: MlflowClient,
    name: str,
    challenger: ModelVersion,
    champion: ModelVersion | None,
    decision: Decision,
) -> str | None:
    """Tag both versions and the challenger's run with the decision; move the alias if promoting."""
    tags = {
        "promotion_decision": "promoted" if decision.promote else "rejected",
        "promotion_reason": decision.reason,
        "promotion_challenger_test_deviance": f"{decision.challenger_deviance:.6f}",
        "promotion_champion_test_deviance": ""
        if decision.champion_deviance is None
        else f"{decision.champion_deviance:.6f}",
        "promotion_champion_version": str(champion.version) if champion else "",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, challenger.version, key, value)
        client.set_tag(challenger.run_id, key, value)
    if not decision.promote:
        return None
    promoted_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, challenger.version, TAG_PROMOTED_AT, promoted_at)
    client.set_registered_model_alias(name, CHAMPION, challenger.version)
    return promoted_at
