"""The evidence promotion decides on: the challenger's and the champion's configurations retrained per
fold on the same backtest folds and data, and the regression guard of a refresh (modeling.promotion)."""

from __future__ import annotations

import io
import json

import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.registry.tracking import read_artifact
from crime_weather.modeling.registry.versions import TAG_CONFIG, TAG_FINGERPRINT
from crime_weather.modeling.selection.backtest import MODEL, fold_rows, predict_folds
from crime_weather.modeling.selection.bootstrap import Difference, paired_difference
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
    """The configuration's backtest predictions on the plan's folds (column `model`)."""
    frame = fold_rows(training.data, training.plan.backtest)
    frame[MODEL] = predict_folds(config, training.data, training.plan.backtest, seed)
    return frame


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
    comparison = None
    if not contest.same_configuration:
        challenger_now = backtest_of(mine, training, seed)
        challenger_now["champion"] = champion_now[MODEL].to_numpy()
        comparison = paired_difference(challenger_now, MODEL, "champion", seed=seed)
    guard = None
    if not contest.champion_is_fresh:
        guard = regression_guard(champion_now, recorded_backtest(client, contest.champion.run_id), seed)
    return Contest(
        contest.challenger, contest.champion, contest.data_fingerprint, contest.folds, comparison, guard
    )
