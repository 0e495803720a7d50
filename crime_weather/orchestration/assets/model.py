"""train_test_split -> challenger_model -> champion_model (when they run: sensors/retrain.py)."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from crime_weather.core.months import months_of
from crime_weather.core.names import TARGET
from crime_weather.modeling import plots
from crime_weather.modeling.metrics import comuna_weekday_baseline, scores
from crime_weather.modeling.promotion import Contest, Decision, decide, record, test_deviance
from crime_weather.modeling.registry import CHALLENGER, CHAMPION, alias_version
from crime_weather.modeling.split import TemporalSplit, fingerprint, temporal_split
from crime_weather.modeling.train import SearchBudget, train_challenger
from crime_weather.orchestration.metadata import date_range
from crime_weather.orchestration.resources import MlflowTracking, TrainingPolicy
from crime_weather.tables.validation import validate_split


def _split_from(frames: dict[str, pd.DataFrame]) -> TemporalSplit:
    train, test = frames["train"], frames["test"]
    return TemporalSplit(train, test, months_of(train["date"]), months_of(test["date"]))


@dg.asset(
    ins={"daily_features": dg.AssetIn()},
    io_manager_key="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "temporal_split",
            asset="train_test_split",
            blocking=True,
            description="Train and test are valid, disjoint, test strictly after train, target never null.",
        )
    ],
    group_name="model",
    kinds={"pandas", "parquet"},
)
def train_test_split(
    context: dg.AssetExecutionContext, daily_features: dict[str, pd.DataFrame], training: TrainingPolicy
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Temporal split of every month: test = the last `test_months` months present, train = before."""
    try:
        split = temporal_split(daily_features, training.test_months)
    except ValueError as error:
        raise dg.Failure(str(error)) from error
    problems = validate_split(split.train, split.test)
    yield dg.Output(
        {"train": split.train, "test": split.test},
        metadata={
            "dagster/row_count": len(split.train) + len(split.test),
            "train_rows": len(split.train),
            "test_rows": len(split.test),
            "train_range": date_range(split.train),
            "test_range": date_range(split.test),
            "train_months": len(split.train_months),
            "test_months": dg.MetadataValue.json(split.test_months),
            "train_fingerprint": fingerprint(split.train),
            "test_robberies": int(split.test[TARGET].sum()),
        },
    )
    yield dg.AssetCheckResult(
        passed=not problems, metadata={"problems": problems}, description="; ".join(problems) or None
    )


@dg.asset(
    ins={"train_test_split": dg.AssetIn()},
    group_name="model",
    kinds={"mlflow", "sklearn", "optuna"},
)
def challenger_model(
    context: dg.AssetExecutionContext,
    train_test_split: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
    training: TrainingPolicy,
) -> dg.MaterializeResult:
    """Optuna search tracked in MLflow -> the best pipeline, registered with alias `challenger`."""
    split = _split_from(train_test_split)
    budget = SearchBudget(
        training.search_trials, training.search_timeout_seconds, training.cv_splits, training.seed
    )
    with mlflow_tracking.run(context, run_name=f"challenger {context.run.run_id[:8]}") as run:
        report = train_challenger(
            split,
            budget,
            run,
            registered_model=mlflow_tracking.registered_model,
            dagster_run_id=context.run.run_id,
        )
    m = report.metrics
    context.log.info(
        f"challenger v{report.version}: test deviance {m['test_poisson_deviance']:.4f}, without weather "
        f"{m['no_weather_test_poisson_deviance']:.4f}, baseline {m['baseline_test_poisson_deviance']:.4f}"
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": report.version,
            "mlflow_model": dg.MetadataValue.url(mlflow_tracking.version_url(report.version)),
            "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(report.run_id)),
            **{name: dg.MetadataValue.float(value) for name, value in m.items()},
            "weather_gain_pct": dg.MetadataValue.float(round(100 * report.weather_gain, 3)),
            "trials": dg.MetadataValue.json(report.trials),
            "search_seconds": dg.MetadataValue.float(round(report.search_seconds, 1)),
            "best_params": dg.MetadataValue.json(report.best_params),
            "permutation_importance": dg.MetadataValue.md(
                plots.markdown_image(report.plots["permutation_importance.png"], "permutation importance")
            ),
            "optuna_history": dg.MetadataValue.md(
                plots.markdown_image(report.plots["optuna_history.png"], "optuna history")
            ),
        }
    )


@dg.asset(
    deps=["challenger_model"],
    ins={"train_test_split": dg.AssetIn()},
    check_specs=[
        dg.AssetCheckSpec(
            "beats_baseline",
            asset="champion_model",
            blocking=True,
            description="The champion's test deviance is below the comuna x weekday mean baseline's.",
        )
    ],
    group_name="model",
    kinds={"mlflow"},
)
def champion_model(
    context: dg.AssetExecutionContext,
    train_test_split: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
    training: TrainingPolicy,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Challenger vs champion on the same test split; alias `champion` moves only if better."""
    client = mlflow_tracking.client()
    name, uri = mlflow_tracking.registered_model, mlflow_tracking.tracking_uri
    with mlflow_tracking.explain_outage():
        challenger = alias_version(client, name, CHALLENGER)
        champion = alias_version(client, name, CHAMPION)
    if challenger is None:
        raise dg.Failure(
            f"No '{CHALLENGER}' alias on registered model {name}: materialize challenger_model first."
        )
    split = _split_from(train_test_split)
    contest = Contest(challenger, champion, test_deviance(uri, challenger, split.test))
    if champion is not None and champion.version != challenger.version:
        try:
            contest.champion_deviance = test_deviance(uri, champion, split.test)
        except Exception as error:  # a champion that cannot be scored cannot defend its title
            context.log.warning(f"champion v{champion.version} could not be scored: {error}")
    decision = decide(contest, training.promotion_margin)
    promoted_at = record(client, name, contest, decision)
    baseline = _baseline(client.get_run(challenger.run_id).data.metrics, split)
    context.log.info(f"{'promoted' if decision.promote else 'kept'}: {decision.reason}")
    yield dg.MaterializeResult(
        metadata=_decision_metadata(mlflow_tracking, contest, decision, baseline, promoted_at)
    )
    yield _beats_baseline(decision.serving_deviance, baseline)


def _baseline(logged: dict[str, float], split: TemporalSplit) -> float:
    """The baseline's test deviance as the challenger's run logged it (scored once, in training); a
    challenger registered outside the platform has none, so it is scored here."""
    if (value := logged.get("baseline_test_poisson_deviance")) is not None:
        return value
    return scores(split.test[TARGET], comuna_weekday_baseline(split.train, split.test))["poisson_deviance"]


def _decision_metadata(
    tracking: MlflowTracking, contest: Contest, decision: Decision, baseline: float, promoted_at: str | None
) -> dict[str, object]:
    champion = contest.champion
    return {
        "decision": "promoted" if decision.promote else "kept champion",
        "reason": decision.reason,
        "champion_version": decision.serving_version or "none",
        "challenger_version": str(contest.challenger.version),
        "previous_champion_version": str(champion.version) if champion else "none",
        "challenger_test_poisson_deviance": dg.MetadataValue.float(contest.challenger_deviance),
        "champion_test_poisson_deviance": dg.MetadataValue.float(contest.champion_deviance)
        if contest.champion_deviance is not None
        else dg.MetadataValue.text("none"),
        "baseline_test_poisson_deviance": dg.MetadataValue.float(baseline),
        "promoted_at": promoted_at or "not promoted",
        "mlflow_model": dg.MetadataValue.url(
            tracking.version_url(decision.serving_version or str(contest.challenger.version))
        ),
    }


def _beats_baseline(deviance: float | None, baseline: float) -> dg.AssetCheckResult:
    beats = deviance is not None and deviance < baseline
    return dg.AssetCheckResult(
        passed=beats,
        metadata={
            "champion_test_poisson_deviance": deviance or -1.0,
            "baseline_test_poisson_deviance": baseline,
        },
        description=None
        if beats
        else f"champion deviance {deviance} does not beat the baseline {baseline:.4f}",
    )
