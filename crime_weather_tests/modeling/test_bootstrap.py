"""The fold bootstrap resamples whole months: what one month shares across its days is one draw."""

import math

import numpy as np
import pandas as pd
import pytest

from crime_weather.modeling.selection.bootstrap import (
    Difference,
    Ratio,
    block_means,
    day_block_difference,
    fold_interval,
    fold_ratio,
    paired_difference,
)

MONTHS = 12


def _months_frame(rng: np.random.Generator, shift_a: np.ndarray, shift_b: np.ndarray) -> pd.DataFrame:
    """12 months x 30 days x 15 comunas; column a (b) is the true rate times 1 + its month's shift."""
    dates = np.repeat(pd.date_range("2019-01-01", "2019-12-30"), 15)
    frame = pd.DataFrame({"date": dates, "month": pd.DatetimeIndex(dates).strftime("%Y-%m")})
    rate = rng.uniform(5, 15, len(frame))
    month = pd.DatetimeIndex(dates).month.to_numpy() - 1
    frame["robberies"] = rng.poisson(rate)
    frame["a"], frame["b"] = rate * (1 + shift_a[month]), rate * (1 + shift_b[month])
    return frame


def test_a_month_level_shift_shared_by_its_days_widens_the_ci_beyond_the_day_bootstrap():
    rng = np.random.default_rng(0)
    frame = _months_frame(rng, rng.normal(0, 0.12, MONTHS), np.zeros(MONTHS))
    months = paired_difference(frame, "a", "b", seed=1)
    days = day_block_difference(frame, "a", "b", seed=1)
    assert months.estimate == pytest.approx(days.estimate)  # the same statistic, another resampling unit
    assert months.high - months.low > 3 * (days.high - days.low)


def test_only_whole_months_are_resampled():
    """Twelve copies of one month: its days differ, but every month has the same mean difference, so
    any resample of whole months has that mean and the interval has no width."""
    rng = np.random.default_rng(0)
    one = _months_frame(rng, np.zeros(MONTHS), np.zeros(MONTHS)).query("month == '2019-01'")
    one = one.assign(a=one["b"] * rng.uniform(0.7, 1.3, len(one)))
    frame = pd.concat([one.assign(month=f"2019-{m:02d}") for m in range(1, MONTHS + 1)], ignore_index=True)
    months = paired_difference(frame, "a", "b", seed=1)
    assert months.low == pytest.approx(months.estimate) and months.high == pytest.approx(months.estimate)
    days = day_block_difference(frame, "a", "b", seed=1)
    assert days.high - days.low > 0.01  # resampling days sees the spread within the month


def test_blocks_are_runs_of_consecutive_months():
    """+1, -1, +1, ...: every two consecutive months (the last and the first too) cancel, so every
    resample made of blocks of two has mean 0; months drawn one by one would not."""
    alternating = np.tile([1.0, -1.0], MONTHS // 2)
    means = block_means(alternating, np.random.default_rng(0), resamples=200)
    assert np.abs(means).max() == pytest.approx(0)
    assert fold_interval(alternating, seed=0) == Difference(0.0, 0.0, 0.0)


def test_between_two_equally_good_predictions_with_monthly_errors_the_ci_covers_zero_at_about_95_percent():
    covered_months = covered_days = 0
    for seed in range(80):
        rng = np.random.default_rng(seed)
        frame = _months_frame(rng, rng.normal(0, 0.08, MONTHS), rng.normal(0, 0.08, MONTHS))
        months = paired_difference(frame, "a", "b", seed=seed, resamples=500)
        days = day_block_difference(frame, "a", "b", seed=seed, resamples=500)
        covered_months += months.low < 0 < months.high
        covered_days += days.low < 0 < days.high
    # Measured on 400 such data sets: 0.915 (blocks of two months pay a little for the serial
    # dependence they allow; months drawn one by one: 0.945). The day bootstrap: below 0.6.
    assert covered_months >= 66
    assert covered_days < 50  # it claims a difference that is not there about half the time


def test_one_fold_supports_no_claim_and_the_same_seed_gives_the_same_ci():
    lone = fold_interval(np.array([-0.2]), seed=0)
    assert (lone.low, lone.high) == (-math.inf, math.inf) and not lone.excludes_zero
    values = np.random.default_rng(0).normal(-0.05, 0.05, MONTHS)
    assert fold_interval(values, seed=4) == fold_interval(values, seed=4)
    assert fold_interval(values, seed=4).low < values.mean() < fold_interval(values, seed=4).high


def test_a_ratio_of_sums_resamples_months_and_its_ci_covers_the_true_ratio_at_about_95_percent():
    """pred/obs of 12 months whose level is missed by a month-wide error (sd 6 %) around a true
    ratio of 1.05: the CI holds 1.05 about 95 % of the time, and a miss is only called beyond it."""
    held = 0
    for seed in range(80):
        rng = np.random.default_rng(seed)
        observed = rng.poisson(5000, MONTHS).astype(float)
        expected = observed * 1.05 * np.exp(rng.normal(0, 0.06, MONTHS))
        ratio = fold_ratio(expected, observed, seed=seed, resamples=500)
        assert ratio.estimate == pytest.approx(expected.sum() / observed.sum())
        held += ratio.low < 1.05 < ratio.high
    assert held >= 70
    assert ratio.misses(0.8, 0.9) == (ratio.low > 0.9)


def test_a_ratio_shared_by_every_month_has_no_width_and_one_month_supports_no_claim():
    observed = np.arange(100.0, 100.0 + MONTHS)
    same = fold_ratio(observed * 0.8, observed, seed=0)
    assert (same.low, same.estimate, same.high) == pytest.approx((0.8, 0.8, 0.8))
    assert same.misses(0.9, 1.1) and not same.misses(0.77, 0.83)
    lone = fold_ratio(np.array([90.0]), np.array([100.0]), seed=0)
    assert (lone.low, lone.high) == (-math.inf, math.inf) and not lone.misses(0.95, 1.05)


def test_a_share_keeps_its_ci_inside_0_and_1_however_much_it_is_widened():
    rows = np.full(MONTHS, 400.0)
    inside = rows * np.r_[np.ones(MONTHS - 2), 0.97, 0.99]  # nearly every count covered
    share = fold_ratio(inside, rows, seed=0, bounds=(0, 1))
    assert share.high == 1.0 and share.low < share.estimate < 1.0
    assert fold_ratio(inside[:1], rows[:1], seed=0, bounds=(0, 1)) == Ratio(inside[0] / rows[0], 0.0, 1.0)
