"""The weather-effects GLM: planted effects are found, days without weather leave, the real data's answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crime_weather.modeling.effects.adequacy import InadequateData
from crime_weather.modeling.effects.estimate import weather_effects
from crime_weather.modeling.effects.table import COMUNA_COLUMNS, TABLE_COLUMNS, Effects
from harness.planted import RAIN_RATIO, TEMP_RATIO, planted_features


def _row(effects: Effects, variable: str) -> pd.Series:
    return effects.table.set_index("variable").loc[variable]


def _covers(row: pd.Series, truth: float) -> bool:
    return row["ci_low"] <= truth <= row["ci_high"]


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, Effects]:
    """Two planted years whose first two months have only temperature and rain (like 2016 in the
    real data): humidity and wind are unknown there."""
    features = pd.concat(planted_features(seed=7).values(), ignore_index=True)
    early = features["date"] < "2018-03-01"
    features.loc[early, ["humidity_pct", "wind_speed_kmh"]] = np.nan
    return features, weather_effects(features)


def test_planted_rain_and_temperature_effects_are_inside_their_confidence_intervals(planted):
    _, effects = planted
    rain, temp = _row(effects, "rain"), _row(effects, "temperature anomaly")
    assert _covers(rain, RAIN_RATIO) and rain["ci_high"] < 1  # found, and called
    assert _covers(temp, TEMP_RATIO) and temp["ci_low"] > 1
    assert rain["verdict"].startswith("fewer robberies") and temp["verdict"].startswith("more robberies")
    for null in ("humidity", "wind"):  # planted at no effect
        assert _covers(_row(effects, null), 1.0)
        assert _row(effects, null)["verdict"].startswith("no detectable effect")
    assert _covers(_row(effects, "public holiday"), 0.75)


def test_overdispersed_counts_get_a_negative_binomial_and_the_report_says_so(planted):
    _, effects = planted
    info = effects.info
    assert 1.2 < info["overdispersion"] < 2.0
    assert info["family"].startswith("negative binomial") and 0.01 < info["nb_alpha"] < 0.08
    assert info["clustered_by"] == "day" and info["clusters"] == info["sample_days"]


def test_days_without_weather_leave_the_sample_and_are_counted(planted):
    features, effects = planted
    info = effects.info
    assert info["excluded_days"] == 31 + 28
    assert info["excluded_months"] == ["2018-01", "2018-02"]
    assert "59 of 730 days" in info["sample_note"] and "2018-01..2018-02" in info["sample_note"]
    assert info["first_day"] == "2018-03-01" and info["comuna_days"] == 15 * (730 - 59)
    assert info["mean_per_comuna_day"] == pytest.approx(
        features.loc[features["date"] >= "2018-03-01", "robberies"].mean(), abs=1e-4
    )


def test_each_row_counts_its_days_and_converts_the_ratio_to_robberies(planted):
    features, effects = planted
    days = features[features["date"] >= "2018-03-01"].drop_duplicates("date")
    rain = _row(effects, "rain")
    assert rain["days"] == (days["precipitation_mm"] >= 1).sum()
    assert rain["reference_days"] == len(days) - rain["days"]
    mean = effects.info["mean_per_comuna_day"]
    assert rain["change_per_comuna_day"] == pytest.approx((rain["rate_ratio"] - 1) * mean, rel=1e-3)
    assert rain["change_per_city_day"] == pytest.approx(15 * rain["change_per_comuna_day"])
    bins = effects.table[effects.table["model"] == "temperature bins"]
    assert len(bins) == 5 and (bins["reference_days"] == bins["reference_days"].iloc[0]).all()
    assert bins["days"].sum() + bins["reference_days"].iloc[0] == len(days)
    # The planted effect is linear in the anomaly: the hottest bin is above the coldest.
    assert bins["rate_ratio"].iloc[-1] > bins["rate_ratio"].iloc[0]


def test_rain_per_comuna_has_one_interval_per_comuna_around_the_planted_ratio(planted):
    _, effects = planted
    by_comuna = effects.by_comuna
    assert list(by_comuna.columns) == list(COMUNA_COLUMNS)
    assert by_comuna["comuna"].tolist() == list(range(1, 16))
    assert (by_comuna["ci_low"] < by_comuna["rate_ratio"]).all()
    assert (by_comuna["rate_ratio"] < by_comuna["ci_high"]).all()
    assert ((by_comuna["ci_low"] <= RAIN_RATIO) & (by_comuna["ci_high"] >= RAIN_RATIO)).mean() >= 0.8
    assert effects.info["rain_heterogeneity_p"] > 0.01  # planted the same in every comuna


def test_the_json_is_strict_and_complete(planted):
    _, effects = planted
    payload = json.loads(json.dumps(effects.as_json(), allow_nan=False))
    assert set(payload) == {"effects", "by_comuna", "model"}
    assert all(set(row) == set(TABLE_COLUMNS) for row in payload["effects"])
    assert [row["variable"] for row in payload["effects"]][:5] == [
        "public holiday",
        "rain",
        "temperature anomaly",
        "humidity",
        "wind",
    ]
    assert payload["model"]["caveats"] and len(payload["by_comuna"]) == 15


def test_counts_without_overdispersion_stay_poisson_and_missing_fields_drop_their_terms():
    frames = planted_features(seed=3, first="2019-01-01", last="2019-12-31", alpha=0.0, day_shock_sd=0.0)
    features = pd.concat(frames.values(), ignore_index=True).drop(columns=["humidity_pct"])
    features["wind_speed_kmh"] = np.nan
    effects = weather_effects(features)
    assert effects.info["family"] == "Poisson" and effects.info["overdispersion"] < 1.2
    assert effects.info["dropped_terms"] == {
        "humidity": "no humidity_pct in the data",
        "wind": "no wind_speed_kmh in the data",
    }
    assert effects.info["excluded_days"] == 0
    assert "humidity" not in set(effects.table["variable"])
    assert _covers(_row(effects, "rain"), RAIN_RATIO) and _covers(
        _row(effects, "temperature anomaly"), TEMP_RATIO
    )


def test_too_few_days_with_weather_is_refused_with_the_reason():
    features = pd.concat(planted_features(seed=0, first="2019-01-01", last="2019-02-15").values())
    with pytest.raises(ValueError, match="only 46 days have"):
        weather_effects(features)
    features["precipitation_mm"] = np.nan
    with pytest.raises(ValueError, match="precipitation_mm and temp_mean"):
        weather_effects(features)


def test_counts_too_sparse_to_fit_are_refused_not_reported_as_infinite_ratios():
    """Most comuna x weekday cells all zero (as on a test platform's few crime rows): their effects run
    to minus infinity, and whether a fit overflows or "converges" there is the CPU's call. The refusal
    is decided from the counts, before any fit, and names the comunas (test_effects_adequacy.py has
    the other cases)."""
    features = pd.concat(planted_features(seed=2, first="2019-01-01", last="2019-04-30").values())
    features.loc[features["comuna"] > 1, "robberies"] = 0  # 98 of 105 comuna x weekday cells all zero
    expected = (
        "14 of 15 comunas have fewer than 10 robberies in the 120-day sample (2019-01-01..2019-04-30), "
        "the least each comuna's fixed effects need: " + ", ".join(f"comuna {c} (0)" for c in range(2, 16))
    )
    with pytest.raises(InadequateData) as refused:
        weather_effects(features)
    assert str(refused.value) == expected


@pytest.mark.shared_data
def test_on_the_shared_data_rain_and_holidays_lower_robberies_as_the_reference_found(shared_raw):
    from harness.shared_data import daily_features

    effects = weather_effects(pd.concat(daily_features(shared_raw).values(), ignore_index=True))
    rain, holiday = _row(effects, "rain"), _row(effects, "public holiday")
    # The reference: rain 0.941 [0.919, 0.963], holiday 0.747 [0.707, 0.789], overdispersion ~1.5.
    assert 0.91 < rain["rate_ratio"] < 0.96 and rain["ci_high"] < 1
    assert 0.70 < holiday["rate_ratio"] < 0.80 and holiday["ci_high"] < 1
    assert 1.3 < effects.info["overdispersion"] < 1.7
    for null in ("humidity", "wind"):
        assert _row(effects, null)["verdict"].startswith("no detectable effect")
    # All of 2016 has only a mean temperature: it leaves the weather model's sample.
    assert effects.info["excluded_months"] == [f"2016-{m:02d}" for m in range(1, 13)]
    assert (effects.info["first_day"], effects.info["last_day"]) == ("2017-01-01", "2020-02-29")
