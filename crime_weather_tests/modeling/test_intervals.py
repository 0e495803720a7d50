import numpy as np
import pandas as pd
import pytest
from scipy.stats import nbinom, poisson

from crime_weather.modeling.estimation.intervals import (
    count_interval,
    coverage,
    poisson_interval,
    poisson_quantile,
    prediction_intervals,
)
from crime_weather.modeling.forecasting.forecast import city_totals


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_simulated_poisson_counts_fall_inside_at_least_at_the_level(level):
    rng = np.random.default_rng(7)
    means = rng.uniform(0.5, 40, 200_000)
    counts = rng.poisson(means)
    low, high = poisson_interval(means, level)
    coverage = float(np.mean((counts >= low) & (counts <= high)))
    # Discrete counts: the interval covers at least `level`, a few points more at these means.
    assert level - 0.005 <= coverage <= level + 0.06


def test_bounds_are_the_equal_tailed_quantiles():
    means = np.array([0.3, 2.0, 17.5, 250.0])
    for level in (0.8, 0.95):
        tail = (1 - level) / 2
        low, high = poisson_interval(means, level)
        assert np.all(poisson.cdf(low, means) >= tail) and np.all(poisson.cdf(low - 1, means) < tail)
        assert np.all(poisson.cdf(high, means) >= 1 - tail) and np.all(
            poisson.cdf(high - 1, means) < 1 - tail
        )
        assert low.dtype == high.dtype == np.int64


def test_wider_level_nests_the_narrower_and_zero_is_a_point():
    means = np.linspace(0, 60, 121)
    low_80, high_80 = poisson_interval(means, 0.8)
    low_95, high_95 = poisson_interval(means, 0.95)
    assert np.all(low_95 <= low_80) and np.all(low_80 <= high_80) and np.all(high_80 <= high_95)
    assert (low_95[0], high_95[0]) == (0, 0)


@pytest.mark.parametrize("bad", [[-1.0], [np.nan], [np.inf]])
def test_impossible_means_are_refused(bad):
    with pytest.raises(ValueError, match="finite and >= 0"):
        poisson_interval(bad, 0.8)


def test_a_level_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="level"):
        poisson_interval([1.0], 80)


def test_city_total_is_poisson_of_the_summed_means():
    days = pd.to_datetime(["2026-12-01"] * 15 + ["2026-12-02"] * 15)
    forecast = pd.DataFrame({"date": days, "expected_robberies": np.r_[np.full(15, 3.0), np.full(15, 4.0)]})
    totals = city_totals(forecast)
    assert totals["expected_robberies"].tolist() == [45.0, 60.0]
    low, high = poisson_interval([45.0, 60.0], 0.95)
    assert totals["interval_95_low"].tolist() == low.tolist()
    assert totals["interval_95_high"].tolist() == high.tolist()
    # Much narrower, relative to the mean, than fifteen comuna intervals added up.
    comuna_low, comuna_high = poisson_interval([3.0], 0.95)
    assert high[0] - low[0] < 15 * (comuna_high[0] - comuna_low[0])


@pytest.mark.parametrize("probability", [0.025, 0.1, 0.5, 0.9, 0.975])
def test_the_fast_quantile_is_scipys_exactly(probability):
    """poisson_quantile replaces scipy's slow poisson.ppf on the API's path: it must agree everywhere."""
    rng = np.random.default_rng(7)
    means = np.concatenate(
        [[0.0, 1e-12, 1e-3, 0.5, 1.0, 2.0], rng.uniform(0, 400, 50_000), rng.exponential(3, 20_000)]
    )
    assert np.array_equal(poisson_quantile(means, probability), poisson.ppf(probability, means))


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.3])
def test_negative_binomial_bounds_are_scipys_quantiles(alpha):
    means = np.array([0.0, 0.3, 2.0, 17.5, 60.0, 250.0])
    size = 1 / alpha
    for level in (0.8, 0.95):
        low, high = count_interval(means, level, alpha)
        tail = (1 - level) / 2
        expected_low = nbinom.ppf(tail, size, size / (size + means))
        expected_high = nbinom.ppf(1 - tail, size, size / (size + means))
        assert low.tolist() == expected_low.tolist() and high.tolist() == expected_high.tolist()


def test_a_dispersion_per_row_widens_only_its_rows_and_zero_is_poisson():
    means = np.full(4, 12.0)
    low, high = count_interval(means, 0.8, np.array([0.0, 0.0, 0.1, 0.1]))
    poisson_low, poisson_high = poisson_interval(means, 0.8)
    assert low[:2].tolist() == poisson_low[:2].tolist() and high[:2].tolist() == poisson_high[:2].tolist()
    assert low[2] < low[0] and high[2] > high[0]


def test_simulated_overdispersed_counts_are_covered_at_the_level_by_their_dispersion():
    rng = np.random.default_rng(3)
    means, alpha = rng.uniform(2, 40, 200_000), 0.08
    counts = rng.poisson(means * rng.gamma(1 / alpha, alpha, len(means)))
    for level in (0.8, 0.95):
        # Discrete counts: at least `level`, a few points more (as Poisson intervals of Poisson counts).
        assert level - 0.005 <= coverage(counts, means, level, alpha) <= level + 0.05
        assert coverage(counts, means, level) < level - 0.05  # Poisson intervals would not


class _Horizons:
    """A pipeline's features step as prediction_intervals sees it: a dispersion per row."""

    def __init__(self, alpha: np.ndarray) -> None:
        self.alpha = alpha

    def dispersion(self, inputs: pd.DataFrame) -> np.ndarray:
        return self.alpha


@pytest.mark.parametrize("alpha", [0.0, "mixed"])
def test_the_four_bounds_found_in_one_pass_are_each_levels_interval(alpha):
    rng = np.random.default_rng(3)
    means = np.r_[0.0, 0.04, rng.uniform(0.1, 80, 500)]
    dispersion = np.zeros(len(means)) if alpha == 0.0 else rng.choice([0.0, 0.015, 0.05, 0.3], len(means))
    pipeline = type("Pipeline", (), {"named_steps": {"features": _Horizons(dispersion)}})()
    low_80, high_80, low_95, high_95 = prediction_intervals(pipeline, pd.DataFrame(index=means), means)
    for level, (low, high) in ((0.8, (low_80, high_80)), (0.95, (low_95, high_95))):
        expected_low, expected_high = count_interval(means, level, dispersion)
        assert low.tolist() == expected_low.tolist() and high.tolist() == expected_high.tolist()
