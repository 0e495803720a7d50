"""Canonical column names shared by ingestion, the model and the API.

One list, so that the warehouse tables, the model's signature and the API's request fields never
disagree (DESIGN.md §1–2).
"""

from typing import Final

# Canonical crime events (raw_crime).
CRIME_COLUMNS: Final = (
    "event_id",
    "date",
    "hour",
    "crime_type",
    "crime_subtype",
    "comuna",
    "barrio",
    "latitude",
    "longitude",
    "count",
    "source_file",
)
ROBBERY_TYPE: Final = "robo"

# Canonical daily weather (raw_weather and the model's weather inputs), in units of DESIGN.md §1.
WEATHER_FIELDS: Final = (
    "temp_mean",
    "temp_min",
    "temp_max",
    "precipitation_mm",
    "humidity_pct",
    "wind_speed_kmh",
    "pressure_hpa",
)

# Calendar columns of daily_features (the model derives its own from `date`).
CALENDAR_COLUMNS: Final = ("weekday", "month", "day_of_year", "is_holiday")

# The grid and the target.
COMUNAS: Final = tuple(range(1, 16))
TARGET: Final = "robberies"

# What the model takes: the raw inputs of one (date, comuna) observation.
MODEL_INPUTS: Final = ("date", "comuna", *WEATHER_FIELDS)

# Physical bounds for weather values: anything outside is a defect, not weather.
WEATHER_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    "temp_mean": (-15.0, 50.0),
    "temp_min": (-20.0, 50.0),
    "temp_max": (-15.0, 55.0),
    "precipitation_mm": (0.0, 500.0),
    "humidity_pct": (0.0, 100.0),
    "wind_speed_kmh": (0.0, 250.0),
    "pressure_hpa": (850.0, 1100.0),
}
