"""The evidence promotion decides on: the challenger's and the champion's configurations retrained per
fold on the same backtest folds and data, each calibrated on the months before them, and scored at
every month horizon (one fit per origin predicts the fold month and the 5 after it), and the
regression guard of a refresh (modeling.promotion)."""

from __future__ import annotations

import io
import json

import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.registry.tracking import read_artifact
from crime_weather.modeling.registry.versions import TAG_CONFIG, TAG_FINGERPRINT
from crime_weather.modeling.selection.backtest import DISPERSION, MODEL
from crime_weather.modeling.selection.bootstrap import Difference, paired_difference
from crime_weather.modeling.selection.calibration import calibrate
from crime_weather.modeling.selection.horizons import first_month, horizon_rows, predict_horizons
from crime_weather.modeling.selection.promotion import Candidate, Contest
from crime_weather.modeling.selection.split import fingerprint
from crime_weather.modeling.selection.train import BACKTEST_PREDICTIONS, TrainingData

RECORDED = "recorded"


def candidate(version: ModelVersion) -> Candidate:
    tags = version.tags or {}
    try:
        config = ModelConfig.from_json(tags[TAG_CONFIG]) if TAG_CONFIG in tags else None
    except (TypeError, ValueError, json.JSONDecodeError):  # not a configuration this code can build
        config = None
    return Candidate(str(version.version), version.run_id, config, tags.get(TAG_FINGERPRINT))


def backtest_of(config: ModelConfig, training: TrainingData, seed: int) -> pd.DataFrame:
    """The configuration's multi-horizon backtest predictions from the plan's folds (column `model`,
    its calibration fitted on the months before them, as a retrain fits it)."""
    data, origins = training.data, training.plan.backtest
    calibration = calibrate(config, data, origins[0], seed, origins_wanted=training.plan.calibration_origins)
    frame = horizon_rows(data, origins)
    frame[MODEL], frame[DISPERSION] = predict_horizons(config, data, origins, seed, calibration=calibration)
    return frame


def horizon_differences(
    challenger: pd.DataFrame, champion: pd.DataFrame, seed: int
) -> tuple[tuple[int, Difference], ...]:
    """Per month horizon: challenger - champion deviance with its CI (origins resampled)."""
    both = challenger.assign(champion=champion[MODEL].to_numpy())
    return tuple(
        (int(h), paired_difference(rows, MODEL, "champion", seed=seed))
        for h, rows in both.groupby("horizon", sort=True)
    )


def recorded_backtest(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    data = read_artifact(client, run_id, BACKTEST_PREDICTIONS)
    return None if data is None else pd.read_parquet(io.BytesIO(data))


def regression_guard(now: pd.DataFrame, recorded: pd.DataFrame | None, seed: int) -> Difference | None:
    """now - recorded deviance on the rows both backtests predicted, scored against today's counts."""
    if recorded is None:
        return None
    before = recorded[["date", "comuna", MODEL]].rename(columns={MODEL: RECORDED})
    common = now.merge(before, on=["date", "comuna"], how="inner")
    return paired_difference(common, MODEL, RECORDED, seed=seed) if len(common) else None


def hold_contest(
    client: MlflowClient,
    challenger: ModelVersion,
    champion: ModelVersion | None,
    training: TrainingData,
    seed: int,
) -> Contest:
    """Retrain what has to be retrained on the current folds and measure the paired differences."""
    contest = Contest(
        candidate(challenger),
        candidate(champion) if champion is not None else None,
        fingerprint(training.data.frame),
        tuple(training.plan.backtest),
    )
    mine, theirs = contest.challenger.config, contest.champion.config if contest.champion else None
    if mine is None or theirs is None or contest.champion is None:
        return contest
    if contest.same_configuration and contest.champion_is_fresh:  # the same model again: nothing to measure
        return contest
    champion_now = backtest_of(theirs, training, seed)
    horizons: tuple[tuple[int, Difference], ...] = ()
    if not contest.same_configuration:
        horizons = horizon_differences(backtest_of(mine, training, seed), champion_now, seed)
    comparison = dict(horizons).get(1)
    guard = None
    if not contest.champion_is_fresh:
        recorded = recorded_backtest(client, contest.champion.run_id)
        guard = regression_guard(first_month(champion_now), recorded, seed)
    return Contest(
        contest.challenger,
        contest.champion,
        contest.data_fingerprint,
        contest.folds,
        comparison,
        guard,
        horizons,
    )
