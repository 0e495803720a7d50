"""Fold plans, naive levels, paired bootstrap CIs and Poisson intervals (generated data only)."""

import numpy as np
import pandas as pd
import pytest

from crime_weather.modeling.estimation.intervals import coverage, poisson_interval
from crime_weather.modeling.selection.backtest import MODEL, fold_table, naive_columns
from crime_weather.modeling.selection.bootstrap import Difference, day_block_difference, paired_difference
from crime_weather.modeling.selection.evaluation import weather_verdict
from crime_weather.modeling.selection.folds import MonthlyData, plan_folds
from harness.models import synthetic_features

MONTHS = [f"2019-{m:02d}" for m in range(1, 13)]


def test_the_backtest_takes_the_last_months_and_the_search_the_months_before():
    plan = plan_folds(MONTHS, backtest_folds=4, search_folds=3)
    assert plan.backtest == MONTHS[-4:] and plan.search == MONTHS[5:8]
    assert not plan.search_overlaps_backtest


def test_with_few_months_every_fold_keeps_two_months_of_history_and_the_search_says_it_overlaps():
    plan = plan_folds(MONTHS[:4], backtest_folds=12, search_folds=6)
    assert plan.backtest == MONTHS[2:4] and plan.search == MONTHS[2:4]
    assert plan.search_overlaps_backtest
    with pytest.raises(ValueError, match="needs at least 3"):
        plan_folds(MONTHS[:2], backtest_folds=1, search_folds=1)


def test_naive_levels_use_only_the_days_before_each_fold():
    frames = synthetic_features(MONTHS[:3])
    frames["2019-03"]["robberies"] = 1000  # the fold's own counts must not leak into its naive level
    data = MonthlyData(pd.concat(frames.values(), ignore_index=True))
    columns = naive_columns(data, ["2019-03"])
    assert all(values.max() < 100 for values in columns.values())
    frame = data.frame
    history = frame[(frame["date"] >= "2019-02-01") & (frame["date"] < "2019-03-01")]  # the 28 days before
    first = data.frame[data.within("2019-03")].iloc[0]
    cell = history[
        (history["comuna"] == first["comuna"]) & (history["date"].dt.weekday == first["date"].weekday())
    ]
    assert columns["naive_28d"][0] == pytest.approx(cell["robberies"].mean())


def _paired_frame(rng: np.random.Generator, days: int = 120, shift: float = 0.0) -> pd.DataFrame:
    dates = np.repeat(pd.date_range("2019-01-01", periods=days), 15)
    rate = rng.uniform(5, 15, len(dates))
    frame = pd.DataFrame(
        {"date": dates, "month": pd.DatetimeIndex(dates).strftime("%Y-%m"), "robberies": rng.poisson(rate)}
    )
    frame["good"] = rate
    frame["bad"] = rate * (1 + shift)
    return frame


def test_the_paired_difference_is_seeded_and_finds_a_real_gap():
    rng = np.random.default_rng(0)
    frame = _paired_frame(rng, shift=0.15)
    gap = paired_difference(frame, "good", "bad", seed=1)
    assert gap == paired_difference(frame, "good", "bad", seed=1)
    assert gap.high < 0 and gap.excludes_zero  # 15 % too high everywhere: clearly worse
    assert paired_difference(frame, "good", "good", seed=1) == Difference(0.0, 0.0, 0.0)


def test_with_independent_days_the_day_bootstrap_covers_zero_about_95_percent_of_the_time():
    covered = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        frame = _paired_frame(rng, days=40)
        frame["a"], frame["b"] = (frame["good"] * rng.normal(1, 0.05, len(frame)) for _ in range(2))
        difference = day_block_difference(frame, "a", "b", seed=seed, resamples=400)
        covered += difference.low < 0 < difference.high
    assert 52 <= covered <= 60  # 57 expected


@pytest.mark.parametrize(
    "gain, verdict",
    [
        (Difference(0.01, 0.004, 0.02), "weather helps"),
        (Difference(-0.01, -0.02, -0.003), "weather hurts"),
        (Difference(0.002, -0.003, 0.008), "no detectable predictive difference"),
    ],
)
def test_a_weather_claim_needs_a_ci_that_excludes_zero(gain, verdict):
    assert weather_verdict(gain) == verdict


def test_poisson_intervals_cover_at_least_their_nominal_rates():
    rng = np.random.default_rng(0)
    expected = rng.uniform(2, 30, 40_000)
    observed = rng.poisson(expected)
    low, high = poisson_interval(np.array([10.0]), 0.8)
    assert (low[0], high[0]) == (6.0, 14.0)
    # Inclusive ends make them conservative on exact Poisson counts (the real counts' mild
    # overdispersion brings them back to nominal: intervals.py).
    assert 0.80 <= coverage(observed, expected, 0.8) <= 0.87
    assert 0.95 <= coverage(observed, expected, 0.95) <= 0.975
    assert coverage(observed, expected * 1.5, 0.8) < 0.6  # a biased mean is caught


def test_the_fold_table_reports_calibration_per_month():
    rng = np.random.default_rng(0)
    frame = _paired_frame(rng, days=59, shift=0.1)
    frame[MODEL] = frame["bad"]
    table = fold_table(frame, [MODEL, "good"])
    assert list(table["month"]) == ["2019-01", "2019-02"]
    assert table["pred_over_obs"].between(1.07, 1.13).all()
    assert (table["model_deviance"] > table["good_deviance"]).all()
    assert table["coverage_95"].between(0.85, 1.0).all()
