"""What the model assets show in the Dagster UI: scores with their CIs, the per-fold table, plots,
the decision and the links to MLflow."""

from __future__ import annotations

import json

import dagster as dg

from crime_weather.modeling.reporting import plots
from crime_weather.modeling.selection.promotion import BLOCKED, Contest, Decision
from crime_weather.modeling.selection.train import ChallengerReport
from crime_weather.orchestration.metadata import markdown_table
from crime_weather.orchestration.resources import MlflowTracking

# Shown as numbers on the asset page (the run logs them all).
HEADLINE = (
    "backtest_poisson_deviance",
    "backtest_no_weather_poisson_deviance",
    "backtest_best_naive_poisson_deviance",
    "backtest_baseline_365d_poisson_deviance",
    "backtest_weather_gain",
    "backtest_weather_gain_ci_low",
    "backtest_weather_gain_ci_high",
    "backtest_pred_over_obs",
    "backtest_coverage_80",
    "backtest_coverage_95",
    "test_poisson_deviance",
    "test_mae",
    "test_rmse",
    "baseline_test_poisson_deviance",
    "no_weather_test_poisson_deviance",
)


def challenger_metadata(tracking: MlflowTracking, report: ChallengerReport) -> dict[str, object]:
    trained, result = report.trained, report.search
    folds = trained.backtest.folds.round(4)
    return {
        "model_version": trained.version,
        "mlflow_model": dg.MetadataValue.url(tracking.version_url(trained.version)),
        "mlflow_run": dg.MetadataValue.url(tracking.run_url(trained.run_id)),
        "model_config": dg.MetadataValue.json(json.loads(trained.config.to_json())),
        "weather_verdict": f"{trained.verdict}: weather gain {trained.backtest.weather_gain} "
        "(no-weather - weather deviance, 95 % CI resampling whole months)",
        "best_naive": trained.backtest.best_naive,
        "model_minus_best_naive": str(trained.backtest.versus_best_naive),
        **{name: dg.MetadataValue.float(trained.metrics[name]) for name in HEADLINE},
        "backtest_folds": markdown_table(folds, rows=len(folds)),
        "backtest_plot": dg.MetadataValue.md(
            plots.markdown_image(report.plots["backtest_pred_vs_obs.png"], "predicted vs observed per month")
        ),
        "search_trials": result.trials,
        "search_trials_per_minute": dg.MetadataValue.float(round(result.trials_per_minute, 1)),
        "search_poisson_deviance": dg.MetadataValue.float(result.best_deviance),
        "stage_seconds": dg.MetadataValue.json({k: round(v, 1) for k, v in report.stages.seconds.items()}),
        "optuna_history": dg.MetadataValue.md(
            plots.markdown_image(report.plots["optuna_history.png"], "optuna history")
        ),
    }


def _optional(value: float | None) -> dg.MetadataValue:
    return dg.MetadataValue.float(value) if value is not None else dg.MetadataValue.text("none")


def decision_metadata(
    tracking: MlflowTracking,
    contest: Contest,
    decision: Decision,
    chosen: str,
    serving: str | None,
    metrics: dict[str, float],
    promoted_at: str | None,
    blocked_by: str | None,
) -> dict[str, object]:
    """`chosen`: the version the rule picked; `serving`: the champion after the gates (the previous
    one when `chosen` was blocked)."""
    comparison, champion = contest.comparison, contest.champion
    return {
        "decision": BLOCKED if blocked_by else decision.label,
        "action": decision.action.value,
        "reason": decision.reason,
        "gate": f"blocked, not served: {blocked_by}" if blocked_by else "passed",
        "chosen_version": chosen,
        "champion_version": serving or "none",
        "challenger_version": contest.challenger.version,
        "previous_champion_version": champion.version if champion else "none",
        "challenger_minus_champion": _optional(comparison.estimate if comparison else None),
        "ci_low": _optional(comparison.low if comparison else None),
        "ci_high": _optional(comparison.high if comparison else None),
        "folds": dg.MetadataValue.json(list(contest.folds)),
        "regression_guard": str(contest.guard) if contest.guard else "not applicable",
        "champion_backtest_poisson_deviance": _optional(metrics.get("backtest_poisson_deviance")),
        "best_naive_backtest_poisson_deviance": _optional(
            metrics.get("backtest_best_naive_poisson_deviance")
        ),
        "promoted_at": promoted_at or "not promoted",
        "mlflow_model": dg.MetadataValue.url(tracking.version_url(chosen)),
    }
