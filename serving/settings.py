"""The API's own settings, read from `CRIME_WEATHER_API_*` environment variables (README, "Configuration").

Only serving/ reads them; where the registry and the warehouse live is the platform's business and
stays in `crime_weather.core.settings`, which the API shares with the rest of the platform.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from crime_weather.core.names import MAX_HORIZON_DAYS


class ApiSettings(BaseSettings):
    """How the API listens, batches, bounds its input and follows the registry."""

    # An empty variable means the default: compose passes optional settings as `${VAR:-}`.
    model_config = SettingsConfigDict(env_prefix="CRIME_WEATHER_API_", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = 8800
    poll_seconds: float = Field(
        default=10.0, description="How often the champion alias is asked for; also the effects' TTL."
    )
    max_batch: int = Field(default=10_000, description="Most observations in one /predict/batch (413 above).")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, description="Largest request body (413 above).")
    batch_wait_ms: float = Field(
        default=1.5,
        ge=0,
        le=50,
        description="Longest a single prediction waits for others to share its model call.",
    )
    batch_max_rows: int = Field(default=256, ge=1, description="Most single predictions in one model call.")
    predict_threads: int = Field(
        default=1, ge=1, description="Threads running model calls off the event loop."
    )
    registry_timeout_seconds: int = Field(
        default=5,
        ge=1,
        description="Per registry request of the API's poller: an unreachable MLflow fails fast.",
    )
    switch_interval_ms: float = Field(
        default=0.5,
        gt=0,
        le=5,
        description="How long the model thread may hold the GIL before the event loop gets it back "
        "(Python's default: 5 ms); `python -m serving` sets it.",
    )
    max_horizon_days: int = Field(
        default=MAX_HORIZON_DAYS,
        ge=1,
        # The platform's variable, not an API one: the forecast and the API refuse the same dates.
        validation_alias=AliasChoices("CRIME_WEATHER_MAX_HORIZON_DAYS", "max_horizon_days"),
        description="Dates more than this many days after the champion's data end are refused (422).",
    )
    access_log: bool = Field(
        default=False,
        description="One JSON line per request on the API's stdout (compose turns it on).",
    )

    @property
    def url(self) -> str:
        """Where the API answers, for `make run`'s supervisor and its readiness probe."""
        return f"http://{self.host}:{self.port}"
