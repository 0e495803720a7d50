"""GET /forecast: the latest issue of robbery_forecast, as the platform wrote it to the warehouse."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from crime_weather.core.names import COMUNAS, FORECAST_MAX_DAYS
from serving.errors import Refused, problem_specs
from serving.forecast_reader import ForecastReader, forecast_response
from serving.structs.responses import Forecast


class ForecastController(Controller):
    tags = ("forecasts",)

    @get(
        "/forecast",
        sync_to_thread=True,  # a warehouse read (a file or S3) blocks
        responses=problem_specs(400, 404, 503),
        summary="Expected robberies per comuna for the coming days, from the weather forecast",
        description="The latest issue of robbery_forecast: every (day, comuna) with its horizon, 80 % "
        "and 95 % prediction intervals and the forecast weather used. Days more than max_horizon_days "
        "after data_through (the champion's last day of crime data) have no counts: a reason and the "
        "weather rate ratio (forecast weather / normal weather) instead.",
    )
    def forecast(
        self,
        forecasts: NamedDependency[ForecastReader],
        comuna: Annotated[
            int | None, Parameter(ge=COMUNAS[0], le=COMUNAS[-1], description="Only this comuna (1..15).")
        ] = None,
        days: Annotated[
            int | None,
            Parameter(
                ge=1,
                le=FORECAST_MAX_DAYS,
                description="Only the issue date and the N - 1 days after it (1..7).",
            ),
        ] = None,
    ) -> Forecast:
        try:
            latest = forecasts.latest()
        except Exception as error:  # an unreachable bucket, a damaged file: say so, do not crash
            detail = f"the forecast cannot be read from the warehouse ({type(error).__name__})"
            raise Refused(503, detail) from error
        if latest is None:
            reason = (
                "no forecast has been issued yet: one is issued every morning, after every promotion of "
                "a champion, and when a weather forecast file lands in the landing zone"
            )
            raise Refused(404, reason, None, reason)
        return forecast_response(*latest, comuna, days, forecasts.max_horizon_days)
