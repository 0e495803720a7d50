"""Can the data support the weather effects? Sparse, collinear and rank-deficient inputs are refused
or handled from the data themselves, before fitting, so every machine gives the same answer.

Every assertion here is on a decision (a count, a rank at a tolerance far from rounding) and its
message; where numbers are compared, the tolerance holds across BLAS kernels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from crime_weather.modeling.effects.adequacy import (
    InadequateData,
    covariance_problem,
    identified_terms,
    require_identified_by_events,
)
from crime_weather.modeling.effects.estimate import weather_effects
from crime_weather.modeling.effects.sample import build_sample, fixed_effects
from crime_weather.modeling.reporting import plots
from harness.planted import planted_features

SPAN = "181-day sample (2019-01-01..2019-06-30)"


def _features(first: str = "2019-01-01", last: str = "2019-06-30") -> pd.DataFrame:
    frames = planted_features(seed=4, first=first, last=last)
    return pd.concat(frames.values(), ignore_index=True).sort_values(["date", "comuna"], ignore_index=True)


def _refusal(features: pd.DataFrame) -> str:
    with pytest.raises(InadequateData) as refused:
        weather_effects(features)
    return str(refused.value)


def test_a_comuna_weekday_cell_without_robberies_is_refused_by_name():
    features = _features()
    features.loc[(features["comuna"] == 3) & (features["weekday"] == 0), "robberies"] = 0
    assert _refusal(features) == (
        f"1 of 105 comuna x weekday cells have fewer than 10 robberies in the {SPAN}, the least each "
        "cell's fixed effect needs: comuna 3 on Mon (0)"
    )


def test_a_month_without_robberies_is_refused_by_name():
    features = _features()
    features.loc[features["date"].dt.month == 3, "robberies"] = 0
    assert _refusal(features) == (
        f"1 of 6 calendar months have fewer than 10 robberies in the {SPAN}, the least each month's "
        "fixed effect needs: month 3 (0)"
    )


def test_too_few_robberies_per_parameter_are_refused_with_the_count_and_the_minimum():
    """Ten robberies in every comuna x weekday cell, spread over the year: every cell and month is
    covered, but 1,050 robberies cannot carry some 125 coefficients."""
    features = _features(last="2019-12-31")
    features["robberies"] = 0
    for index in features.groupby(["comuna", "weekday"]).groups.values():
        features.loc[index[np.linspace(0, len(index) - 1, 10).round().astype(int)], "robberies"] = 1
    message = _refusal(features)
    assert message.startswith("1050 robberies for ") and "at least 10 per parameter" in message
    parameters = int(message.split(" parameters")[0].rsplit(" ", 1)[-1])
    assert 100 < parameters < 140 and f"({10 * parameters}) are needed" in message


def test_parameters_that_only_days_without_robberies_pin_down_are_refused():
    """A column set only where nothing happened has its estimate at minus infinity."""
    y = pd.Series([0.0, 0.0, 1.0, 2.0, 3.0, 1.0])
    design = pd.DataFrame({"const": 1.0, "trend_3": [1.0, 1.0, 0, 0, 0, 0], "x": [0.5, 1, 2, 3, 1, 2]})
    with pytest.raises(
        InadequateData, match=r"identify only 2 of the design's 3 parameters; never set on them: trend_3"
    ):
        require_identified_by_events(y, design)
    require_identified_by_events(y.replace(0.0, 1.0), design)  # with robberies there: identified


def test_a_required_term_the_data_cannot_separate_refuses_the_estimate():
    features = _features()
    features["temp_mean"] = 20.0
    assert _refusal(features) == (
        "temperature anomaly (+1 °C above the day-of-year normal) cannot be estimated: "
        f"temp_mean is 20 on every day of the {SPAN}"
    )
    features = _features()
    features["precipitation_mm"] = 0.0
    assert _refusal(features) == (
        f"rain (rain >= 1 mm vs drier days) cannot be estimated: rain_day is 0 on every day of the {SPAN}"
    )


def _noise(features: pd.DataFrame) -> np.ndarray:
    """A relative difference of 1e-12: what another machine's rounding could make of a derived value."""
    return 1.0 + 1e-12 * np.random.default_rng(0).standard_normal(len(features))


@pytest.mark.parametrize(
    ("wind", "reason"),
    [
        (lambda f: f["humidity_pct"], "wind is a linear function of humidity in the sample"),
        (lambda f: f["humidity_pct"] * _noise(f), "wind is a linear function of humidity in the sample"),
        (lambda f: 2.0 * f["month"], "wind is a linear combination of the fixed effects in the sample"),
        (
            lambda f: 2.0 * f["month"] * _noise(f),
            "wind is a linear combination of the fixed effects in the sample",
        ),
        (lambda f: f["wind_speed_kmh"], None),
    ],
    ids=["identical", "identical-to-rounding", "month", "month-to-rounding", "independent"],
)
def test_a_weather_column_the_design_cannot_separate_is_dropped_the_same_to_rounding(wind, reason):
    """Decided on the design's rank at a tolerance (1e-8 of the largest singular value of unit
    columns) far above rounding (1e-15) and far below real designs (~1e-3)."""
    features = _features()
    features["wind_speed_kmh"] = wind(features)
    sample = build_sample(features)
    terms, dropped = identified_terms(sample.rows, fixed_effects(sample.rows), sample.terms)
    names = [t.variable for t in terms]
    if reason is None:
        assert names == ["rain", "temperature anomaly", "humidity", "wind"] and dropped == {}
    else:
        assert names == ["rain", "temperature anomaly", "humidity"] and dropped == {"wind": reason}


def test_a_constant_and_a_collinear_column_leave_with_their_reasons_and_change_nothing_else():
    """Dropped terms leave the same estimates as terms the data never had."""
    features = _features()
    features["humidity_pct"] = 70.0
    features["wind_speed_kmh"] = np.where(features["precipitation_mm"] >= 1.0, 18.0, 12.0)
    effects = weather_effects(features)
    assert effects.info["weather_terms"] == ["rain", "temperature anomaly"]
    assert effects.info["dropped_terms"] == {
        "humidity": f"humidity is 70 on every day of the {SPAN}",
        "wind": "wind is a linear function of rain_day in the sample",
    }
    absent = _features()
    absent[["humidity_pct", "wind_speed_kmh"]] = np.nan
    reference = weather_effects(absent)
    columns = ["rate_ratio", "ci_low", "ci_high"]
    assert effects.table["variable"].tolist() == reference.table["variable"].tolist()
    np.testing.assert_allclose(effects.table[columns], reference.table[columns], rtol=1e-6)


def test_a_specification_the_data_cannot_support_is_left_out_and_said_so():
    """Rain of one amount makes log1p(mm) a multiple of the rain day; a comuna without robberies on
    rainy days has no rain effect of its own. The main table stands."""
    features = _features()
    features["precipitation_mm"] = np.where(features["precipitation_mm"] >= 1.0, 5.0, 0.0)
    rainy = features["precipitation_mm"] > 0
    features.loc[(features["comuna"] == 3) & rainy, "robberies"] = 0
    effects = weather_effects(features)
    dropped = effects.info["dropped_terms"]
    assert set(dropped) == {"rain amount", "rain per comuna"}
    assert dropped["rain amount"].startswith("its design has rank ")
    assert dropped["rain per comuna"] == "fewer than 10 robberies for rain in comuna 3 (0)"
    assert "rain amount" not in set(effects.table["variable"])
    assert {"rain", "temperature anomaly", "humidity", "wind"} <= set(effects.table["variable"])
    assert effects.by_comuna.empty and effects.info["rain_heterogeneity_p"] is None
    png = plots.forest(effects.table, effects.by_comuna, "no rain per comuna")
    assert png.startswith(b"\x89PNG")


def test_a_covariance_that_cannot_separate_the_reported_terms_is_named():
    """After a fit: errors clustered into 3 groups give a covariance of rank 2 at most (the scores sum
    to zero), however many coefficients it is asked to separate."""
    rng = np.random.default_rng(1)
    design = pd.DataFrame(rng.normal(size=(300, 4)), columns=["x1", "x2", "x3", "x4"]).assign(const=1.0)
    y = rng.poisson(np.exp(1.0 + 0.1 * design["x1"]))
    result = sm.GLM(y, design, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": np.arange(300) % 3}
    )
    assert covariance_problem(result, ["x1", "x2", "x3", "x4"]) == (
        "the covariance of x1, x2, x3, x4 has rank 2 of 4"
    )
    assert covariance_problem(result, ["x1", "x2"]) is None
