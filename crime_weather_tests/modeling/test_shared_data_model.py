"""The model on the real shared data (CI has it): the model study's configuration backtested as a
retrain backtests it, against the study's own figures and the naive levels."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.modeling.estimation.config import DEFAULT_HGB
from crime_weather.modeling.estimation.pipeline import build_pipeline
from crime_weather.modeling.selection.evaluation import run_backtest
from crime_weather.modeling.selection.folds import MonthlyData, plan_folds
from harness.shared_data import daily_features

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def data(shared_raw) -> MonthlyData:
    return MonthlyData(pd.concat(daily_features(shared_raw).values(), ignore_index=True))


@pytest.fixture(scope="module")
def backtest(data: MonthlyData):
    with threadpool_limits(limits=1):
        return run_backtest(DEFAULT_HGB, data, plan_folds(data.months, 12, 6).backtest, seed=42)


def test_the_study_configuration_reproduces_the_study_and_beats_every_naive_level(backtest):
    assert backtest.months[0] == "2019-03" and backtest.months[-1] == "2020-02"
    assert backtest.deviance() == pytest.approx(1.2433, abs=0.0005)  # REPORT.md: 1.2433
    assert backtest.best_naive == "naive_91d" and backtest.deviance("naive_91d") == pytest.approx(
        1.3312, abs=1e-4
    )
    assert backtest.versus_best_naive.high < 0  # better than the best naive level, CI and all
    frame = backtest.frame
    assert frame["model"].sum() / frame["robberies"].sum() == pytest.approx(1.0, abs=0.05)
    folds = backtest.folds
    # Intervals calibrated on 2018-03..2019-02, where Poisson ones covered ~0.77 at h = 1: wider than
    # 2019 (a calmer year, Poisson 0.80) needs, so at or a little above nominal.
    assert 0.80 <= folds["coverage_80"].mean() <= 0.86
    assert 0.95 <= folds["coverage_95"].mean() <= 0.98


def test_a_request_without_weather_predicts_as_normal_weather_does(data: MonthlyData):
    with threadpool_limits(limits=1):
        pipeline = build_pipeline(DEFAULT_HGB).fit(data.inputs, data.y)
    normals = pipeline.named_steps["features"].normals_
    days = pd.date_range("2019-01-01", "2021-12-31", freq="7D")
    rows = pd.DataFrame(
        {"date": np.repeat(days.strftime("%Y-%m-%d"), 15), "comuna": np.tile(range(1, 16), len(days))}
    )
    without = rows.reindex(columns=["date", "comuna", *WEATHER_FIELDS])
    normal = without.copy()
    doy = pd.to_datetime(normal["date"]).dt.dayofyear.to_numpy()
    for i, name in enumerate(WEATHER_FIELDS):
        normal[name] = normals[i, doy - 1]
    assert np.abs(pipeline.predict(without) / pipeline.predict(normal) - 1).max() < 0.01
