"""Canonical column names shared by ingestion, the model and the API.

One list, so that the warehouse tables, the model's signature and the API's request fields never
disagree.
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

# Canonical daily weather (raw_weather and the model's weather inputs), in the units their names
# say (°C, mm, %, km/h, hPa).
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

# robbery_forecast (README, "Forecasts for the coming week"): one row per (forecast day, comuna). Intervals are central
# prediction intervals of the count at these levels (%), named interval_<level>_low/high.
FORECAST_TABLE: Final = "robbery_forecast"
FORECAST_MAX_DAYS: Final = 7  # the coming week: the issue day and the six after it
# The longest horizon (days after the champion's data end) the backtest validates: six months. Beyond
# it no count is claimed (CRIME_WEATHER_MAX_HORIZON_DAYS; modeling/forecasting/horizon.py).
MAX_HORIZON_DAYS: Final = 184
INTERVAL_LEVELS: Final = (80, 95)
INTERVAL_COLUMNS: Final = tuple(
    f"interval_{level}_{side}" for level in INTERVAL_LEVELS for side in ("low", "high")
)
# Beyond the horizon the counts and intervals are null and `reason` says why; the weather rate ratio
# (forecast weather / normal weather, with its 95 % CI) is relative, so it is always given.
RATE_RATIO_COLUMNS: Final = ("weather_rate_ratio", "weather_rate_ratio_low", "weather_rate_ratio_high")
FORECAST_COLUMNS: Final = (
    "date",
    "comuna",
    "horizon_days",
    "expected_robberies",
    *INTERVAL_COLUMNS,
    "reason",
    *RATE_RATIO_COLUMNS,
    *WEATHER_FIELDS,
    "model_version",
    "weather_source",
    "issued_at",
)

# champion_outlook (one partition per champion version): the champion's claims for every comuna-day
# from the day after its data ends up to the maximum horizon, under normal weather, beside the naive
# levels known then (named as modeling.estimation.metrics.naive_name names them).
OUTLOOK_TABLE: Final = "champion_outlook"
NAIVE_COLUMNS: Final = ("naive_28d", "naive_56d", "naive_91d", "naive_182d", "naive_365d", "naive_all")
OUTLOOK_COLUMNS: Final = (
    "date",
    "comuna",
    "expected_robberies",
    *INTERVAL_COLUMNS,
    "horizon_days",
    *NAIVE_COLUMNS,
    "data_through",
    "model_version",
    "issued_at",
)

# forecast_scorecard (one partition per month): every stored claim on the month scored against the
# observed counts, one row per (source, horizon). Sources: "outlook" (key: version), "forecast" (key:
# issue date); horizons: months 1..6 for outlooks, lead days 1..7 for forecasts.
SCORECARD_TABLE: Final = "forecast_scorecard"
SCORE_FIELDS: Final = ("poisson_deviance", "mae", "pred_over_obs")
SCORECARD_COLUMNS: Final = (
    "month",
    "source",
    "source_key",
    "model_version",
    "issued_at",
    "horizon_unit",
    "horizon",
    "n",
    "observed_robberies",
    "expected_robberies",
    *SCORE_FIELDS,
    "coverage_80",
    "coverage_95",
    *(f"{naive}_{field}" for naive in NAIVE_COLUMNS for field in SCORE_FIELDS),
    "best_naive",
    "best_naive_poisson_deviance",
)
