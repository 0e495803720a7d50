"""What a client sends: one observation, or a batch of them, validated on decoding.

Field names and weather bounds come from `crime_weather.core.names`, so the API, the model and the
warehouse never disagree about what a field is called or which values are physically possible.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Final

import msgspec
from msgspec import Meta, Struct

from crime_weather.core.names import COMUNAS, WEATHER_BOUNDS

# Dates the calendar features are defined for; also stated in the schema as a year pattern so that
# clients (and schemathesis) know the range.
FIRST_DATE: Final = datetime.date(1900, 1, 1)
LAST_DATE: Final = datetime.date(2100, 12, 31)
_YEARS: Final = r"^(19\d\d|20\d\d|2100)-"

Date = Annotated[
    datetime.date,
    Meta(
        description=f"Day of the observation, YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}.",
        examples=["2019-03-24"],
        extra_json_schema={"extra": {"pattern": _YEARS}},
    ),
]
# An integer as JSON Schema means it (3 and 3.0 alike, not 3.5 or "3"): msgspec's strict `int` would
# refuse 3.0, so the field decodes as an integral float and __post_init__ stores it as an int.
Comuna = Annotated[
    float,
    Meta(
        ge=COMUNAS[0],
        le=COMUNAS[-1],
        multiple_of=1,
        description="Comuna of Buenos Aires, 1..15.",
        examples=[3],
        extra_json_schema={"extra": {"type": "integer", "multiple_of": None}},
    ),
]
INTEGER_FIELDS: Final = frozenset({"comuna"})


def _weather(name: str, unit: str) -> Any:
    low, high = WEATHER_BOUNDS[name]
    return Annotated[
        float,
        Meta(
            ge=low,
            le=high,
            description=f"{unit}, {low}..{high}; null or absent: unknown.",
            # Litestar's schema generator drops a bound of 0; stating both keeps the schema exact.
            extra_json_schema={"extra": {"minimum": low, "maximum": high}},
        ),
    ]


TempMean = _weather("temp_mean", "Mean temperature, °C")
TempMin = _weather("temp_min", "Minimum temperature, °C")
TempMax = _weather("temp_max", "Maximum temperature, °C")
Precipitation = _weather("precipitation_mm", "Precipitation, mm")
Humidity = _weather("humidity_pct", "Relative humidity, %")
Wind = _weather("wind_speed_kmh", "Wind speed, km/h")
Pressure = _weather("pressure_hpa", "Pressure, hPa")


class Observation(Struct, forbid_unknown_fields=True, frozen=True):
    """One (date, comuna) and that day's weather: the raw inputs the model takes."""

    date: Date
    comuna: Comuna
    temp_mean: TempMean | None = None
    temp_min: TempMin | None = None
    temp_max: TempMax | None = None
    precipitation_mm: Precipitation | None = None
    humidity_pct: Humidity | None = None
    wind_speed_kmh: Wind | None = None
    pressure_hpa: Pressure | None = None

    def __post_init__(self) -> None:
        # msgspec has no range constraint for dates; the message names the field like its own do.
        if not FIRST_DATE <= self.date <= LAST_DATE:
            raise ValueError(f"`date` must be from {FIRST_DATE} to {LAST_DATE}")
        msgspec.structs.force_setattr(self, "comuna", int(self.comuna))


class BatchRequest(Struct, forbid_unknown_fields=True, frozen=True):
    """Many observations predicted in one model call; the app bounds their number (ApiSettings.max_batch)."""

    observations: Annotated[
        list[Observation],
        Meta(
            min_length=1, description="At most CRIME_WEATHER_API_MAX_BATCH (default 10,000); more is a 413."
        ),
    ]
