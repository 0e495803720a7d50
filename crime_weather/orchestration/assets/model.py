"""train_test_split -> challenger_model -> champion_model (when they run: their `automation_condition`,
orchestration/conditions.py, evaluated by sensors/retrain.py).

Thin wiring: the search, the backtest, the contest and the promotion rule are plain functions in
crime_weather.modeling; these assets feed them the data and MLflow, and show what they decided.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from threadpoolctl import threadpool_limits

from crime_weather.core.months import months_of
from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.forecasting.horizon import MAX_HORIZON_DAYS
from crime_weather.modeling.registry.cards import write_model_card
from crime_weather.modeling.registry.versions import CHALLENGER, CHAMPION, alias_version
from crime_weather.modeling.selection.contest import candidate, hold_contest
from crime_weather.modeling.selection.promotion import (
    Action,
    Contest,
    Decision,
    changes_champion,
    decide,
    promote,
    record,
)
from crime_weather.modeling.selection.search import TrialCallback
from crime_weather.modeling.selection.split import TemporalSplit, fingerprint, temporal_split
from crime_weather.modeling.selection.train import Stages, TrainingData, train_challenger, train_configuration
from crime_weather.orchestration.assets.ingest import daily_features
from crime_weather.orchestration.assets.model_metadata import challenger_metadata, decision_metadata
from crime_weather.orchestration.checks import CHAMPION_GATES, failed_gates
from crime_weather.orchestration.conditions import FOLLOW_UPSTREAM, RETRAIN_ON_NEW_FEATURES
from crime_weather.orchestration.metadata import date_range
from crime_weather.orchestration.resources import MlflowTracking, TrainingPolicy
from crime_weather.tables.validation import validate_split


def _write_card(context: dg.AssetExecutionContext, mlflow_tracking: MlflowTracking, version: str) -> None:
    """The version's model card as its MLflow description; a card that cannot be written is a
    warning, not a failed retrain (the version itself is registered and sound)."""
    try:
        write_model_card(
            mlflow_tracking.client(), mlflow_tracking.registered_model, version, MAX_HORIZON_DAYS
        )
    except Exception as error:
        context.log.warning(f"v{version}: the model card was not written ({type(error).__name__}: {error})")


def _search_progress(context: dg.AssetExecutionContext, budget: int) -> TrialCallback:
    """One line in the run log per search trial: the search is minutes long and otherwise silent."""
    best = [float("inf")]

    def log(number: int, config: ModelConfig, score: float, seconds: float) -> None:
        best[0] = min(best[0], score)
        context.log.info(
            f"search trial {number + 1}/{budget}: {config.label} deviance {score:.4f} "
            f"({seconds:.1f} s), best so far {best[0]:.4f}"
        )

    return log


def _split_from(frames: dict[str, pd.DataFrame]) -> TemporalSplit:
    train, test = frames["train"], frames["test"]
    return TemporalSplit(train, test, months_of(train["date"]), months_of(test["date"]))


@dg.asset(
    ins={"daily_features": dg.AssetIn(key=daily_features.key)},
    io_manager_key="warehouse",
    automation_condition=RETRAIN_ON_NEW_FEATURES,
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
    """Every month, split for the fixed window: test = the last `test_months` months, train = before.
    The backtest and the served model use both parts (all months present)."""
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
    ins={"train_test_split": dg.AssetIn(key=train_test_split.key)},
    automation_condition=FOLLOW_UPSTREAM,
    group_name="model",
    kinds={"mlflow", "sklearn", "optuna"},
)
def challenger_model(
    context: dg.AssetExecutionContext,
    train_test_split: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
    training: TrainingPolicy,
) -> dg.MaterializeResult:
    """Optuna search over family, level and hyperparameters (starting from the champion's
    configuration), backtest arms and fixed window, refit on all months: alias `challenger`."""
    with mlflow_tracking.explain_outage():
        champion = alias_version(mlflow_tracking.client(), mlflow_tracking.registered_model, CHAMPION)
    start_from = [config] if champion and (config := candidate(champion).config) else []
    with mlflow_tracking.run(context, run_name=f"challenger {context.run.run_id[:8]}") as run:
        report = train_challenger(
            _split_from(train_test_split),
            training.budget(),
            run,
            registered_model=mlflow_tracking.registered_model,
            dagster_run_id=context.run.run_id,
            start_from=start_from,
            on_trial=_search_progress(context, training.budget().search_trials),
        )
    trained = report.trained
    _write_card(context, mlflow_tracking, trained.version)
    context.log.info(
        f"challenger v{trained.version} ({trained.config.label}): backtest deviance "
        f"{trained.metrics['backtest_poisson_deviance']:.4f}, best naive "
        f"{trained.metrics['backtest_best_naive_poisson_deviance']:.4f}; {trained.verdict} "
        f"(weather gain {trained.backtest.weather_gain}); stages {report.stages.seconds}"
    )
    return dg.MaterializeResult(metadata=challenger_metadata(mlflow_tracking, report))


def _served(
    context: dg.AssetExecutionContext,
    decision: Decision,
    contest: Contest,
    training_data: TrainingData,
    mlflow_tracking: MlflowTracking,
    seed: int,
) -> str:
    """The version that serves after `decision`: a refit of the champion's configuration is trained
    and registered here."""
    if decision.action is Action.SERVE_CHALLENGER:
        return contest.challenger.version
    champion = contest.champion
    assert champion is not None and champion.config is not None
    if decision.action is Action.KEEP_CHAMPION:
        return champion.version
    with (
        mlflow_tracking.run(context, run_name=f"champion refresh {context.run.run_id[:8]}") as run,
        threadpool_limits(limits=1),
    ):
        trained = train_configuration(
            champion.config,
            training_data,
            run,
            Stages(),
            registered_model=mlflow_tracking.registered_model,
            dagster_run_id=context.run.run_id,
            seed=seed,
        )
    return trained.version


def _aliases(mlflow_tracking: MlflowTracking) -> tuple[ModelVersion, ModelVersion | None]:
    client, name = mlflow_tracking.client(), mlflow_tracking.registered_model
    with mlflow_tracking.explain_outage():
        challenger = alias_version(client, name, CHALLENGER)
        champion = alias_version(client, name, CHAMPION)
    if challenger is None:
        raise dg.Failure(
            f"No '{CHALLENGER}' alias on registered model {name}: materialize challenger_model first."
        )
    return challenger, champion


def _gate(
    context: dg.AssetExecutionContext,
    mlflow_tracking: MlflowTracking,
    contest: Contest,
    decision: Decision,
    chosen: str,
) -> tuple[dict[str, float], list[dg.AssetCheckResult], str | None, str | None]:
    """Decide every gate on `chosen`, record the decision, and only then move the alias if it moves
    and every gate passed. Returns the metrics judged, the verdicts, the promotion time and why
    `chosen` was blocked."""
    client, name = mlflow_tracking.client(), mlflow_tracking.registered_model
    metrics = client.get_run(client.get_model_version(name, chosen).run_id).data.metrics
    verdicts = [gate.verdict(metrics) for gate in CHAMPION_GATES]
    blocked_by = failed_gates(verdicts) if changes_champion(contest, chosen) else None
    record(client, name, contest, decision, chosen, blocked_by)
    if blocked_by:
        context.log.error(f"v{chosen} is not served: {blocked_by}")
        return metrics, verdicts, None, blocked_by
    promoted_at = promote(client, name, chosen) if changes_champion(contest, chosen) else None
    return metrics, verdicts, promoted_at, None


@dg.asset(
    deps=[challenger_model],
    ins={"train_test_split": dg.AssetIn(key=train_test_split.key)},
    automation_condition=FOLLOW_UPSTREAM,
    check_specs=[gate.spec("champion_model") for gate in CHAMPION_GATES],
    group_name="model",
    kinds={"mlflow"},
)
def champion_model(
    context: dg.AssetExecutionContext,
    train_test_split: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
    training: TrainingPolicy,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The challenger's configuration vs the champion's, retrained on the same backtest folds; the
    winner, refit on all months, gets alias `champion` (rule: modeling.selection.promotion.decide)
    once it passed every gate (checks.CHAMPION_GATES); one that fails is registered, tagged
    `blocked` and not served, and the previous champion keeps serving."""
    challenger, champion = _aliases(mlflow_tracking)
    client = mlflow_tracking.client()
    training_data = TrainingData.of(_split_from(train_test_split), training.budget())
    with threadpool_limits(limits=1):
        contest = hold_contest(client, challenger, champion, training_data, training.seed)
    decision = decide(contest)
    chosen = _served(context, decision, contest, training_data, mlflow_tracking, training.seed)
    if chosen != str(challenger.version):  # a champion refit (new) or kept (maybe from before cards)
        _write_card(context, mlflow_tracking, chosen)
    metrics, verdicts, promoted_at, blocked_by = _gate(context, mlflow_tracking, contest, decision, chosen)
    previous = str(champion.version) if champion else None
    serving = previous if blocked_by else chosen
    context.log.info(
        f"{decision.label}: {decision.reason}; "
        + (f"serving v{serving}" if serving else "nothing served yet")
    )
    yield dg.MaterializeResult(
        metadata=decision_metadata(
            mlflow_tracking, contest, decision, chosen, serving, metrics, promoted_at, blocked_by
        )
    )
    yield from verdicts
