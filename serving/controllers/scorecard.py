"""GET /scorecard: the platform's grades of its own claims, as forecast_scorecard stored them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from crime_weather.core.names import FORECAST_MAX_DAYS
from crime_weather.modeling.forecasting.horizon import MAX_HORIZON_MONTHS
from serving.errors import Refused, problem_specs
from serving.model_store import ModelStore
from serving.scorecard_reader import ScorecardReader, scorecard_response
from serving.structs.responses import ForecastScorecard

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
VERSION_PATTERN = r"^[1-9][0-9]*$"


class ScorecardController(Controller):
    tags = ("forecasts",)

    @get(
        "/scorecard",
        responses=problem_specs(400, 404, 503),
        summary="How the platform's claims fared: the stored forecast_scorecard",
        description="Each stored claim source (a champion's outlook, a forecast issue) per month and "
        "horizon: n, mean Poisson deviance, MAE, predicted/observed, 80 % and 95 % coverage, and the "
        "naive levels issued with an outlook. 404 until a month is scored.",
    )
    async def scorecard(
        self,
        scorecards: NamedDependency[ScorecardReader],
        store: NamedDependency[ModelStore],
        month: Annotated[
            str | None,
            Parameter(pattern=MONTH_PATTERN, description="Only this scored month (YYYY-MM)."),
        ] = None,
        version: Annotated[
            str | None,
            Parameter(pattern=VERSION_PATTERN, description="Only the claims of this model version."),
        ] = None,
        horizon: Annotated[
            int | None,
            Parameter(
                ge=1,
                le=max(MAX_HORIZON_MONTHS, FORECAST_MAX_DAYS),
                description="Only this horizon: a month (1..6) for outlooks, a lead day (1..7) for forecasts.",
            ),
        ] = None,
        source: Annotated[
            Literal["outlook", "forecast"] | None,
            Parameter(description="Only outlooks or only forecast issues."),
        ] = None,
    ) -> ForecastScorecard:
        try:
            # Read within the TTL: answered on the loop. Else the warehouse is read (a file or S3): off it.
            snapshot = scorecards.fresh() or await asyncio.get_running_loop().run_in_executor(
                None, scorecards.current
            )
        except Exception as error:  # an unreachable bucket, a damaged file: say so, do not crash
            detail = f"the scorecard cannot be read from the warehouse ({type(error).__name__})"
            raise Refused(503, detail) from error
        champion = store.champion
        return scorecard_response(
            snapshot,
            champion.version if champion else None,
            month=month,
            version=version,
            horizon=horizon,
            source=source,
        )
