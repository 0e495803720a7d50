"""forecast_table with a real fitted pipeline, validated by the robbery_forecast schema."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import FORECAST_COLUMNS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.estimation.intervals import poisson_interval
from crime_weather.modeling.estimation.pipeline import build_pipeline, model_input
from crime_weather.modeling.forecasting.forecast import forecast_table, source_label
from crime_weather.modeling.forecasting.horizon import data_through
from crime_weather.sources.forecast import read_forecast
from crime_weather.tables.schemas import robbery_forecast_schema
from crime_weather.tables.validation import validate_forecast
from crime_weather_tests import builders
from harness.models import model_config, synthetic_features

ISSUE = dt.date(2026, 12, 1)
ISSUED_AT = pd.Timestamp("2026-12-01T10:00:00Z")


@pytest.fixture(scope="module")
def pipeline():
    frame = synthetic_features(["2019-01", "2019-02"])["2019-01"]
    return build_pipeline(model_config(20)).fit(model_input(frame), frame[TARGET])


@pytest.fixture
def weather():
    return read_forecast(builders.forecast_json(ISSUE), "f.json", ["open-meteo"]).window(ISSUE, 7)


def _table(weather, pipeline, max_horizon_days: int = 3000, source: str = "f.json"):
    """The issue with the model's own data_through (2019-01-31); by default trusted far enough ahead
    (3000 days) to give counts in 2026, to test the counts."""
    return forecast_table(
        weather,
        pipeline.predict,
        model_version="3",
        weather_source=source,
        issued_at=ISSUED_AT,
        data_through=data_through(pipeline),
        max_horizon_days=max_horizon_days,
    )


def test_every_day_and_comuna_predicted_by_the_model_with_its_weather(weather, pipeline):
    table = _table(weather, pipeline)
    assert tuple(table.columns) == FORECAST_COLUMNS
    assert (
        len(table) == 7 * 15
        and table.groupby("date")["comuna"].apply(list).map(sorted).eq([list(range(1, 16))] * 7).all()
    )
    assert validate_forecast(table, ISSUE.isoformat(), 7) is None
    # The model's own answer for each row, from the same raw inputs the API would send.
    inputs = model_input(table[["date", "comuna", *WEATHER_FIELDS]])
    np.testing.assert_allclose(table["expected_robberies"], pipeline.predict(inputs))
    low, high = poisson_interval(table["expected_robberies"], 0.8)
    assert (table["interval_80_low"].to_numpy() == low).all() and (table["interval_80_high"] == high).all()
    rainy = table[table["date"] == pd.Timestamp("2026-12-03")]
    assert (rainy["precipitation_mm"] == 12.5).all() and (rainy["temp_mean"] == 21.0).all()
    assert table["pressure_hpa"].isna().sum() == 15  # the API's null stays unknown, still predicted
    assert set(table["model_version"]) == {"3"} and set(table["issued_at"]) == {ISSUED_AT}
    horizon = (pd.Timestamp(ISSUE) - pd.Timestamp("2019-01-31")).days
    assert sorted(set(table["horizon_days"])) == list(range(horizon, horizon + 7))
    assert table["reason"].isna().all() and table[list(FORECAST_COLUMNS[:8])].notna().all().all()
    assert (table["weather_rate_ratio"] > 0).all() and table["weather_rate_ratio_low"].isna().all()


def test_a_stale_champion_gives_no_counts_but_the_weather_rate_ratio(weather, pipeline):
    """Data through 2019-01-31, a forecast for 2026-12: far beyond 184 days. No count, no interval, a
    reason; the ratio is the model's prediction under the forecast weather over its prediction under
    normal weather (every weather field null: day-of-year normals), computed here independently."""
    table = _table(weather, pipeline, max_horizon_days=184)
    assert validate_forecast(table, ISSUE.isoformat(), 7) is None
    assert table["expected_robberies"].isna().all()
    assert all(
        table[f"interval_{level}_{side}"].isna().all() for level in (80, 95) for side in ("low", "high")
    )
    assert table["reason"].notna().all()
    assert "2019-01-31" in table["reason"].iloc[0] and "184 days" in table["reason"].iloc[0]
    rows = table[["date", "comuna", *WEATHER_FIELDS]]
    forecast_weather = pipeline.predict(model_input(rows))
    normal_weather = pipeline.predict(model_input(rows.assign(**{name: np.nan for name in WEATHER_FIELDS})))
    np.testing.assert_allclose(
        table["weather_rate_ratio"], forecast_weather / normal_weather, rtol=0, atol=1e-9
    )
    assert (table["weather_rate_ratio"] != 1).any()  # the forecast weather is not the normal weather
    rainy = table["date"] == pd.Timestamp("2026-12-03")
    assert not np.allclose(table.loc[rainy, "weather_rate_ratio"], 1.0)


def test_the_horizon_limit_is_inclusive(weather, pipeline):
    """Up to max_horizon_days after data_through a day has counts; the day after, none."""
    horizon = (pd.Timestamp(ISSUE) - pd.Timestamp("2019-01-31")).days  # the issue day's horizon
    table = _table(weather, pipeline, max_horizon_days=horizon + 2)
    counted = table.groupby("date")["expected_robberies"].apply(lambda values: values.notna().all())
    assert counted.tolist() == [True, True, True, False, False, False, False]
    assert validate_forecast(table, ISSUE.isoformat(), 7) is None


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("https://api.open-meteo.com/v1/forecast", "open-meteo"),
        ("http://127.0.0.1:8123", "open-meteo"),
        ("s3://landing/2026/12/01/pronostico.json", "pronostico.json"),
        ("/srv/crime_weather/forecasts/pronostico.csv", "pronostico.csv"),
        ("forecast.json", "forecast.json"),
    ],
)
def test_weather_source_is_a_name_never_a_path(weather, pipeline, source, label):
    assert source_label(source) == label
    assert set(_table(weather, pipeline, source=source)["weather_source"]) == {label}
    assert "/" not in label


def test_the_schema_names_what_breaks(weather, pipeline):
    table = _table(weather, pipeline)
    missing = table[table["comuna"] != 4].reset_index(drop=True)
    assert "complete grid" in validate_forecast(missing, ISSUE.isoformat(), 7)
    crossed = table.assign(interval_80_high=table["interval_95_high"] + 1)
    assert "nested intervals" in validate_forecast(crossed, ISSUE.isoformat(), 7)
    both = table.assign(reason="no count")
    assert "a count or, beyond the horizon, a reason" in validate_forecast(both, ISSUE.isoformat(), 7)
    outside = validate_forecast(table, "2026-12-02", 7)
    assert "every date falls in the issue's window 2026-12-02..2026-12-08 (15 rows)" in outside
    hot = table.assign(temp_max=80.0)
    assert validate_forecast(hot, ISSUE.isoformat(), 7).startswith("temp_max: in_range(-15.0, 55.0)")
    assert validate_forecast(table.iloc[:0], ISSUE.isoformat(), 7) == "no rows: the forecast has no day"


def test_schema_columns_are_the_contract():
    assert tuple(robbery_forecast_schema().columns) == FORECAST_COLUMNS
