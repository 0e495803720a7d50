"""The per-horizon calibration on generated counts whose level drops by a quarter and recovers months
later, again and again (never real data; fixed seed), with a rain rate ratio of 0.90 planted:

- drops in the same months every year are the season: the calibration carries their step; drops off
  the calendar are not carried, and widen the intervals of later horizons instead;

- the intervals, calibrated on the year before the backtest, cover at their nominal rates at
  every month horizon of the backtest year, where Poisson intervals around a frozen level do not;
- the calibration comes only from months before the backtest;
- the fitted pipeline recovers the rain ratio.
"""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import DEFAULT_GLM
from crime_weather.modeling.estimation.intervals import coverage, prediction_intervals
from crime_weather.modeling.estimation.pipeline import build_pipeline, model_input
from crime_weather.modeling.features.horizon import HORIZON_MONTHS
from crime_weather.modeling.selection.backtest import DISPERSION, MODEL
from crime_weather.modeling.selection.calibration import calibrate, calibration_origins
from crime_weather.modeling.selection.folds import MonthlyData, plan_folds
from crime_weather.modeling.selection.horizons import horizon_rows, predict_horizons
from harness.planted import RAIN_RATIO, planted_features

# A quarter down for 3 months, then 3 months back up, twice a year: the calibration year sees the
# drops and recoveries the backtest year sees (a calibration can only carry what the past shows).
DROPS = pd.date_range("2016-02-01", "2019-12-31", freq="6MS")
STEPS = tuple(
    step
    for drop in DROPS
    for step in ((f"{drop:%Y-%m-%d}", 0.75), (f"{drop + pd.DateOffset(months=3):%Y-%m-%d}", 1 / 0.75))
)
CONFIG = DEFAULT_GLM
SEED = 5


@pytest.fixture(scope="module")
def data() -> MonthlyData:
    frames = planted_features(SEED, "2016-01-01", "2019-12-31", trend_per_year=0.0, level_steps=STEPS)
    return MonthlyData(pd.concat(frames.values(), ignore_index=True))


@pytest.fixture(scope="module")
def backtest(data):
    origins = plan_folds(data.months, backtest_folds=12, search_folds=6).backtest
    with threadpool_limits(limits=1):
        calibration = calibrate(CONFIG, data, origins[0], SEED)
        frame = horizon_rows(data, origins)
        frame[MODEL], frame[DISPERSION] = predict_horizons(
            CONFIG, data, origins, SEED, calibration=calibration
        )
    return origins, calibration, frame


def test_calibration_comes_from_the_year_before_the_backtest_only(data, backtest):
    origins, calibration, _ = backtest
    used = calibration_origins(data, origins[0])
    assert used[0] == "2018-01" and used[-1] == "2018-12" and origins[0] == "2019-01"
    assert len(calibration.factors) == len(calibration.dispersion) == HORIZON_MONTHS
    # The drops come in the same months every year: they are the season, and the calibration carries
    # most of the seasonal step a frozen level misses (features.season); the planted level has no
    # trend to correct.
    assert min(calibration.seasonal) > 0.6 and calibration.dispersion[0] > 0
    assert calibration.factors == (1.0,) * HORIZON_MONTHS


def test_level_moves_off_the_calendar_are_not_carried_and_widen_the_later_intervals():
    """Drops every 5 months (no calendar month keeps its level from one year to the next): there is
    no seasonal step to carry, and a level frozen months ago is uncertain, so the intervals widen."""
    drops = pd.date_range("2016-02-01", "2019-12-31", freq="5MS")
    steps = tuple(
        step
        for drop in drops
        for step in ((f"{drop:%Y-%m-%d}", 0.75), (f"{drop + pd.DateOffset(months=3):%Y-%m-%d}", 1 / 0.75))
    )
    frames = planted_features(SEED, "2016-01-01", "2019-12-31", trend_per_year=0.0, level_steps=steps)
    data = MonthlyData(pd.concat(frames.values(), ignore_index=True))
    with threadpool_limits(limits=1):
        calibration = calibrate(CONFIG, data, "2019-01", SEED)
    assert calibration.seasonal == (0.0,) * HORIZON_MONTHS
    assert max(calibration.dispersion[1:]) > calibration.dispersion[0] > 0


@pytest.mark.parametrize("h", range(1, HORIZON_MONTHS + 1))
def test_calibrated_intervals_cover_at_nominal_at_every_horizon(backtest, h):
    _, _, frame = backtest
    rows = frame[frame["horizon"] == h]
    y, mu, alpha = rows[TARGET].to_numpy(), rows[MODEL].to_numpy(), rows[DISPERSION].to_numpy()
    assert 0.77 <= coverage(y, mu, 0.8, alpha) <= 0.83
    assert 0.93 <= coverage(y, mu, 0.95, alpha) <= 0.97


def test_poisson_intervals_around_a_frozen_level_would_not(backtest):
    _, _, frame = backtest
    far = frame[frame["horizon"] == HORIZON_MONTHS]
    assert coverage(far[TARGET], far[MODEL], 0.8) < 0.77


def test_the_pipeline_recovers_the_rain_ratio_and_serves_its_intervals(data, backtest):
    _, calibration, _ = backtest
    with threadpool_limits(limits=1):
        pipeline = build_pipeline(CONFIG, SEED, calibration).fit(data.inputs, data.y)
    days = pd.date_range("2020-03-02", periods=28)
    grid = pd.DataFrame({"date": np.repeat(days, 15), "comuna": np.tile(np.arange(1, 16), len(days))})
    dry = model_input(grid.assign(precipitation_mm=0.0))
    wet = model_input(grid.assign(precipitation_mm=6.0))
    ratio = pipeline.predict(wet).sum() / pipeline.predict(dry).sum()
    assert ratio == pytest.approx(RAIN_RATIO, abs=0.03)
    # 2020-03 is month 3 after the data: the API's intervals are that horizon's.
    low_80, high_80, low_95, high_95 = prediction_intervals(pipeline, dry, pipeline.predict(dry))
    assert (pipeline.named_steps["features"].dispersion(dry) == calibration.dispersion[2]).all()
    assert (low_95 <= low_80).all() and (low_80 < high_80).all() and (high_80 <= high_95).all()
