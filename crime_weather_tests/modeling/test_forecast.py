"""forecast_table with a real fitted pipeline, validated by the robbery_forecast schema."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import FORECAST_COLUMNS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.estimation.intervals import poisson_interval
from crime_weather.modeling.estimation.pipeline import build_pipeline, model_input
from crime_weather.modeling.forecasting.forecast import forecast_table
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


def _table(weather, pipeline):
    return forecast_table(
        weather, pipeline.predict, model_version="3", weather_source="f.json", issued_at=ISSUED_AT
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


def test_the_schema_names_what_breaks(weather, pipeline):
    table = _table(weather, pipeline)
    missing = table[table["comuna"] != 4].reset_index(drop=True)
    assert "complete grid" in validate_forecast(missing, ISSUE.isoformat(), 7)
    crossed = table.assign(interval_80_high=table["interval_95_high"] + 1)
    assert "nested intervals" in validate_forecast(crossed, ISSUE.isoformat(), 7)
    outside = validate_forecast(table, "2026-12-02", 7)
    assert "every date falls in the issue's window 2026-12-02..2026-12-08 (15 rows)" in outside
    hot = table.assign(temp_max=80.0)
    assert validate_forecast(hot, ISSUE.isoformat(), 7).startswith("temp_max: in_range(-15.0, 55.0)")
    assert validate_forecast(table.iloc[:0], ISSUE.isoformat(), 7) == "no rows: the forecast has no day"


def test_schema_columns_are_the_contract():
    assert tuple(robbery_forecast_schema().columns) == FORECAST_COLUMNS
