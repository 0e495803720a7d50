"""Which model serves: the rule (`decide`, the only place it lives) and its record in the registry.

Promotion compares procedures, not stale artifacts. The challenger's configuration and the champion's
are each calibrated and retrained per fold on the same backtest folds and data (modeling.contest) and
scored at every month horizon h = 1..6 (the API is asked about dates months past the data). A
different configuration takes over only when it is better at h = 1 (the paired 95 % CI of
challenger - champion deviance lies entirely below 0) and not worse at any later horizon (no CI
entirely above 0). Every horizon's difference is recorded in the decision's reason. Whichever
configuration wins is served refit on all the data present, so new months always reach the API:

- the same configuration as the champion's, refit on new data, is served without a contest;
- unless the regression guard trips: on the days both its backtest and the champion's recorded
  backtest cover, scored against today's data, the refreshed procedure predicts measurably worse
  (paired CI of refreshed - recorded entirely above 0). Then the champion version stays. The guard
  sees a change of code, libraries or revised history that hurts the same configuration; it does not
  compare new months, so a sudden change of level (which every model misses for a month) never
  freezes the model on the old level.

Deciding and serving are two steps: the version the rule chooses is served (`promote` moves the
`champion` alias) only after it passed the champion's blocking checks; one that fails is tagged
`blocked` (`record`) and the previous champion keeps serving.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import Enum

from mlflow.tracking import MlflowClient

from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.registry.versions import CHAMPION, PROMOTION, TAG_PROMOTED_AT
from crime_weather.modeling.selection.bootstrap import Difference


@dataclass(frozen=True)
class Candidate:
    """A registered version as promotion sees it."""

    version: str
    run_id: str
    config: ModelConfig | None  # None: registered without a configuration, it cannot be retrained
    fingerprint: str | None  # of the data it was trained on


@dataclass(frozen=True)
class Contest:
    challenger: Candidate
    champion: Candidate | None
    data_fingerprint: str  # of the data present now
    folds: tuple[str, ...] = ()
    comparison: Difference | None = None  # challenger - champion configuration, same folds, h = 1
    guard: Difference | None = None  # the champion's configuration now - its recorded backtest
    horizons: tuple[tuple[int, Difference], ...] = ()  # (h, challenger - champion) per month horizon

    @property
    def worse_horizons(self) -> list[int]:
        """The horizons past the first where the challenger is worse beyond the CI."""
        return [h for h, difference in self.horizons if h > 1 and difference.low > 0]

    @property
    def horizon_summary(self) -> str:
        return "; ".join(f"h{h} {difference}" for h, difference in self.horizons)

    @property
    def same_configuration(self) -> bool:
        challenger, champion = self.challenger.config, self.champion.config if self.champion else None
        return challenger is not None and champion is not None and challenger.to_json() == champion.to_json()

    @property
    def champion_is_fresh(self) -> bool:
        """The champion was trained on exactly the data present: refitting it would change nothing."""
        return self.champion is not None and self.champion.fingerprint == self.data_fingerprint


# The label of a version the contest chose but a blocking check refused: registered, never served.
BLOCKED = "blocked"


class Action(Enum):
    SERVE_CHALLENGER = "serve the challenger version"
    REFIT_CHAMPION = "refit the champion's configuration on all data and serve it"
    KEEP_CHAMPION = "keep the champion version"


@dataclass(frozen=True)
class Decision:
    action: Action
    label: str  # recorded on the challenger: promoted, refreshed, rejected, kept
    reason: str
    record: bool = True  # False when there is nothing to record (the challenger already serves)


def _regressed(contest: Contest) -> bool:
    return contest.guard is not None and contest.guard.low > 0


def _holds(contest: Contest, why: str) -> Decision:
    """The champion's configuration wins: refreshed on new data unless that regressed or is moot."""
    champion = contest.champion
    assert champion is not None
    if _regressed(contest):
        return Decision(
            Action.KEEP_CHAMPION,
            "rejected",
            f"{why}; refit regressed on the same days {contest.guard}: v{champion.version} stays",
        )
    if contest.champion_is_fresh:
        return Decision(
            Action.KEEP_CHAMPION, "rejected", f"{why}; v{champion.version} was trained on this data"
        )
    if contest.same_configuration:
        return Decision(Action.SERVE_CHALLENGER, "refreshed", f"{why}: served refit on the new data")
    return Decision(Action.REFIT_CHAMPION, "rejected", f"{why}; its configuration is refit on the new data")


def decide(contest: Contest) -> Decision:
    """The promotion rule (see the module docstring)."""
    challenger, champion = contest.challenger, contest.champion
    if champion is None:
        return Decision(Action.SERVE_CHALLENGER, "promoted", "no champion yet")
    if champion.version == challenger.version:
        return Decision(Action.KEEP_CHAMPION, "kept", "the challenger already is the champion", record=False)
    if challenger.config is None:
        return Decision(
            Action.KEEP_CHAMPION,
            "rejected",
            f"challenger v{challenger.version} has no configuration to retrain",
        )
    if champion.config is None:
        return Decision(
            Action.SERVE_CHALLENGER,
            "promoted",
            f"champion v{champion.version} has no configuration to retrain",
        )
    if contest.same_configuration:
        return _holds(contest, "same configuration as the champion")
    comparison, worse = contest.comparison, contest.worse_horizons
    evidence = f" (per horizon: {contest.horizon_summary})" if contest.horizons else ""
    if comparison is not None and comparison.high < 0 and not worse:
        return Decision(
            Action.SERVE_CHALLENGER, "promoted", f"challenger - champion {comparison}: better{evidence}"
        )
    if comparison is not None and comparison.high < 0:
        why = f"challenger - champion {comparison}: better at h = 1 but worse at h = {worse}{evidence}"
        return _holds(contest, why)
    return _holds(contest, f"challenger - champion {comparison}: not better{evidence}")


def changes_champion(contest: Contest, served: str) -> bool:
    """Whether serving `served` moves the alias: then the champion's blocking checks gate it."""
    return contest.champion is None or contest.champion.version != served


def promotion_tags(contest: Contest, decision: Decision, label: str) -> dict[str, str]:
    comparison, champion = contest.comparison, contest.champion
    return {
        f"{PROMOTION}decision": label,
        f"{PROMOTION}reason": decision.reason,
        f"{PROMOTION}difference": f"{comparison.estimate:.6f}" if comparison else "",
        f"{PROMOTION}ci_low": f"{comparison.low:.6f}" if comparison else "",
        f"{PROMOTION}ci_high": f"{comparison.high:.6f}" if comparison else "",
        f"{PROMOTION}folds": json.dumps(list(contest.folds)),
        f"{PROMOTION}champion_version": champion.version if champion else "",
        f"{PROMOTION}guard": str(contest.guard) if contest.guard else "",
    }


def record(
    client: MlflowClient,
    name: str,
    contest: Contest,
    decision: Decision,
    served: str,
    blocked_by: str | None = None,
) -> None:
    """Tag the challenger (and a refit champion) with the decision. `blocked_by`: why the version
    `served` failed the champion's blocking checks; it is labelled `blocked` with that reason, and the
    caller does not `promote` it. Moves no alias: deciding is done before anything is served."""
    if not decision.record:
        return
    tagged = {contest.challenger.version: (contest.challenger.run_id, decision.label)}
    if decision.action is Action.REFIT_CHAMPION:
        tagged[served] = (client.get_model_version(name, served).run_id, "refreshed")
    if blocked_by is not None and served in tagged:
        tagged[served] = (tagged[served][0], BLOCKED)
    for version, (run_id, label) in tagged.items():
        tags = promotion_tags(contest, decision, label)
        if label == BLOCKED:
            tags[f"{PROMOTION}blocked_by"] = blocked_by or ""
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
            client.set_tag(run_id, key, value)


def promote(client: MlflowClient, name: str, version: str) -> str:
    """Serve `version`: stamp it and move the `champion` alias (the API follows the alias). Only for a
    version that passed every blocking check. Returns the promotion time."""
    promoted_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, version, TAG_PROMOTED_AT, promoted_at)
    client.set_registered_model_alias(name, CHAMPION, version)
    return promoted_at
