"""The multi-horizon backtest against an independent computation, and its record in a real MLflow
(sqlite, temp artifacts). Generated months only."""

import io

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson
from sklearn.metrics import mean_absolute_error, mean_poisson_deviance
from threadpoolctl import threadpool_limits

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_name
from crime_weather.modeling.estimation.pipeline import build_pipeline
from crime_weather.modeling.registry.tracking import client_for, experiment_id, read_artifact, run
from crime_weather.modeling.selection.backtest import MODEL, predict_folds
from crime_weather.modeling.selection.evaluation import backtest_metrics, run_backtest
from crime_weather.modeling.selection.folds import MonthlyData
from crime_weather.modeling.selection.horizons import horizon_frame, horizon_table, shift_month
from crime_weather.modeling.selection.split import temporal_split
from crime_weather.modeling.selection.train import (
    BACKTEST_HORIZONS,
    HORIZON_PLOT,
    HORIZON_PREDICTIONS,
    Stages,
    TrainingBudget,
    TrainingData,
    train_configuration,
)
from harness.models import model_config, synthetic_features, tracking_uri

MONTHS = [f"2019-{m:02d}" for m in range(1, 11)]
ORIGINS = MONTHS[-4:]  # 2019-07..2019-10: 3 months ahead leaves 4, 3 and 2 origins at h = 1, 2, 3
CONFIG = model_config(max_iter=10)
SEED = 3


@pytest.fixture(scope="module")
def data() -> MonthlyData:
    return MonthlyData(pd.concat(synthetic_features(MONTHS).values(), ignore_index=True))


@pytest.fixture(scope="module")
def scored(data):
    with threadpool_limits(limits=1):
        frame = horizon_frame(CONFIG, data, ORIGINS, SEED, months=3)
    return frame, horizon_table(frame, SEED, days=3).set_index("horizon")


def _naive(history: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The comuna x weekday mean of `history` for each of `rows` (every cell is filled here)."""
    means = history.groupby([history["comuna"], history["date"].dt.weekday])[TARGET].mean()
    return np.array([means[(row.comuna, row.date.weekday())] for row in rows.itertuples()])


def _independent(frame: pd.DataFrame, origin: str, target: pd.Series) -> dict[str, np.ndarray]:
    """The model fitted on the days before `origin` and the 28-day naive level at it, for the rows
    of `frame` selected by `target`."""
    start = pd.Timestamp(f"{origin}-01")
    train, rows = frame[frame["date"] < start], frame[target]
    with threadpool_limits(limits=1):
        model = build_pipeline(CONFIG, SEED).fit(train[list(MODEL_INPUTS)], train[TARGET].to_numpy())
    history = train[train["date"] >= start - pd.Timedelta(days=28)]
    return {
        "y": rows[TARGET].to_numpy(dtype="float64"),
        "model": model.predict(rows[list(MODEL_INPUTS)]),
        "naive_28d": _naive(history, rows),
    }


def _coverage(y: np.ndarray, mu: np.ndarray, level: float) -> float:
    low, high = poisson.interval(level, mu)
    return float(np.mean((y >= low) & (y <= high)))


def test_month_horizons_equal_an_independent_computation(data, scored):
    _, table = scored
    frame = data.frame
    for h, origins in ((1, ORIGINS), (2, ORIGINS[:3]), (3, ORIGINS[:2])):
        parts = []
        for origin in origins:
            target = frame["date"].dt.strftime("%Y-%m") == shift_month(origin, h - 1)
            parts.append(_independent(frame, origin, target))
        row = table.loc[f"month {h}"]
        assert row["origins"] == len(origins)
        y, mu = (np.concatenate([p[key] for p in parts]) for key in ("y", "model"))
        deviance = np.mean([mean_poisson_deviance(p["y"], p["model"]) for p in parts])
        assert row["poisson_deviance"] == pytest.approx(deviance, rel=1e-9)
        assert row["mae"] == pytest.approx(np.mean([mean_absolute_error(p["y"], p["model"]) for p in parts]))
        assert row["pred_over_obs"] == pytest.approx(mu.sum() / y.sum())
        assert row["coverage_80"] == pytest.approx(_coverage(y, mu, 0.8))
        assert row["coverage_95"] == pytest.approx(_coverage(y, mu, 0.95))
        for name in ("pred_over_obs", "coverage_80", "coverage_95"):
            low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
            assert (low < row[name] < high) if len(origins) > 1 else (low, high) == (-np.inf, np.inf)
        naive = np.mean([mean_poisson_deviance(p["y"], p["naive_28d"]) for p in parts])
        assert row["naive_28d_poisson_deviance"] == pytest.approx(naive, rel=1e-9)
        naive_columns = [f"{naive_name(w)}_poisson_deviance" for w in NAIVE_WINDOWS]
        assert row["best_naive_poisson_deviance"] == pytest.approx(row[naive_columns].min())
    assert "month 4" not in table.index  # no origin has 4 months of data left: absent, not guessed


def test_day_horizons_are_the_days_after_each_origin(data, scored):
    _, table = scored
    frame = data.frame
    for day in (1, 3):
        parts = [
            _independent(
                frame, origin, frame["date"] == pd.Timestamp(f"{origin}-01") + pd.Timedelta(days=day - 1)
            )
            for origin in ORIGINS
        ]
        row = table.loc[f"day {day}"]
        assert row["rows"] == 15 * len(ORIGINS)
        deviance = np.mean([mean_poisson_deviance(p["y"], p["model"]) for p in parts])
        assert row["poisson_deviance"] == pytest.approx(deviance, rel=1e-9)
        assert row["minus_best_naive_ci_low"] <= row["minus_best_naive"] <= row["minus_best_naive_ci_high"]


def test_one_fit_per_origin_gives_the_one_month_backtest_at_h1(data, scored):
    frame, _ = scored
    first = frame[frame["horizon"] == 1]
    with threadpool_limits(limits=1):
        np.testing.assert_array_equal(first[MODEL].to_numpy(), predict_folds(CONFIG, data, ORIGINS, SEED))
        backtest = run_backtest(CONFIG, data, ORIGINS, SEED)
    metrics = backtest_metrics(backtest)
    assert metrics["backtest_h1_poisson_deviance"] == metrics["backtest_poisson_deviance"]
    assert (
        metrics["backtest_h1_best_naive_poisson_deviance"] == metrics["backtest_best_naive_poisson_deviance"]
    )
    assert metrics["backtest_h1_coverage_80"] == metrics["backtest_coverage_80"]
    assert {f"backtest_h{h}_pred_over_obs" for h in range(1, 7)} & set(metrics) == {
        f"backtest_h{h}_pred_over_obs" for h in (1, 2, 3, 4)
    }  # 4 origins: the last one only has its own month; horizons past the data are not logged


def test_the_horizon_metrics_table_and_plot_reach_the_mlflow_run(tmp_path):
    frames = synthetic_features(MONTHS[:7])
    split = temporal_split(frames, test_months=2)
    budget = TrainingBudget(
        search_trials=1, search_timeout_seconds=10, search_folds=1, backtest_folds=3, seed=SEED
    )
    training = TrainingData.of(split, budget)
    client = client_for(tracking_uri(tmp_path))
    experiment = experiment_id(client, "horizons", (tmp_path / "artifacts").as_uri())
    with run(client, experiment, "configuration") as parent, threadpool_limits(limits=1):
        trained = train_configuration(
            CONFIG, training, parent, Stages(), registered_model="m", dagster_run_id="test", seed=SEED
        )
    logged = client.get_run(trained.run_id).data.metrics
    for h, name in ((1, "poisson_deviance"), (2, "pred_over_obs"), (3, "coverage_80"), (3, "coverage_95")):
        assert logged[f"backtest_h{h}_{name}"] == pytest.approx(trained.metrics[f"backtest_h{h}_{name}"])
    assert logged["backtest_h3_best_naive_poisson_deviance"] > 0
    assert "backtest_h4_poisson_deviance" not in logged  # 3 origins reach 3 months ahead at most
    assert logged["backtest_h1_poisson_deviance"] == logged["backtest_poisson_deviance"]
    table = pd.read_csv(io.BytesIO(read_artifact(client, trained.run_id, BACKTEST_HORIZONS)))
    assert list(table["horizon"]) == [*(f"day {d}" for d in range(1, 8)), "month 1", "month 2", "month 3"]
    assert list(table["origins"]) == [3] * 8 + [2, 1]
    predictions = pd.read_parquet(io.BytesIO(read_artifact(client, trained.run_id, HORIZON_PREDICTIONS)))
    assert len(predictions) == table.loc[table["unit"] == "month", "rows"].sum()
    assert read_artifact(client, trained.run_id, HORIZON_PLOT).startswith(b"\x89PNG")
