"""Blocking asset checks: the monthly tables' schemas (one check per asset, one verdict per run, the
failing months named with their problems) and the champion's gates.

A gate is a blocking check on `champion_model` decided *before* the `champion` alias moves: the asset
evaluates every gate on the version it would serve and serves it only when all pass. Adding a gate to
CHAMPION_GATES adds its check spec to the asset, so no blocking check on the champion can be decided
after the API already serves it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dagster as dg

SCHEMA_CHECK = "schema"


def schema_check(asset: str, what: str) -> dg.AssetCheckSpec:
    """The Pandera schema of `asset`, blocking: a failing partition stops what depends on it."""
    return dg.AssetCheckSpec(SCHEMA_CHECK, asset=asset, blocking=True, description=what)


def schema_result(problems: dict[str, str], partitions: list[str]) -> dg.AssetCheckResult:
    """The verdict of a run over `partitions`, from `validate_by_month`'s problems per month."""
    lines = [f"**{key}**: {problem}" for key, problem in sorted(problems.items())]
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "partitions_checked": len(partitions),
            "failing_partitions": sorted(problems),
            "problems": dg.MetadataValue.md("\n\n".join(lines) or "none"),
        },
        description="; ".join(
            f"{key}: {problem.splitlines()[0]}" for key, problem in sorted(problems.items())
        )
        or None,
    )


Metrics = Mapping[str, float]


def beats_baseline(metrics: Metrics) -> dg.AssetCheckResult:
    """The served model's backtest deviance against the best naive level's, on the same folds."""
    model = metrics.get("backtest_poisson_deviance")
    naive = metrics.get("backtest_best_naive_poisson_deviance")
    beats = model is not None and naive is not None and model < naive
    return dg.AssetCheckResult(
        passed=beats,
        metadata={
            "champion_backtest_poisson_deviance": model if model is not None else -1.0,
            "best_naive_backtest_poisson_deviance": naive if naive is not None else -1.0,
            "model_minus_best_naive_ci": dg.MetadataValue.json(
                [
                    metrics.get("backtest_minus_best_naive_ci_low"),
                    metrics.get("backtest_minus_best_naive_ci_high"),
                ]
            ),
        },
        description=None
        if beats
        else f"champion backtest deviance {model} does not beat the best naive level {naive}",
    )


@dataclass(frozen=True)
class Gate:
    """A blocking check on the champion: its name, what it requires, and its verdict on a version's
    MLflow metrics."""

    name: str
    description: str
    judge: Callable[[Metrics], dg.AssetCheckResult]

    def spec(self, asset: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(self.name, asset=asset, blocking=True, description=self.description)

    def verdict(self, metrics: Metrics) -> dg.AssetCheckResult:
        return self.judge(metrics)._replace(check_name=self.name)


CHAMPION_GATES = (
    Gate(
        "beats_baseline",
        "The champion's backtest deviance is below the best naive level's (comuna x weekday mean over "
        "the N days before each fold, the best N). Decided before the alias moves: a version that "
        "fails is registered and tagged `blocked`, never served.",
        beats_baseline,
    ),
)


def failed_gates(results: list[dg.AssetCheckResult]) -> str | None:
    """Why the version these verdicts judge must not be served, or None when every gate passed."""
    failed = [f"{r.check_name}: {r.description or 'failed'}" for r in results if not r.passed]
    return "; ".join(failed) or None
