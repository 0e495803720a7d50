"""GET /: the page people look at (README, "The page"): the week's forecast on a map of the comunas,
the weather effects, the live scorecard and the champion's card, rendered on the server."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from serving.boundaries_reader import BoundariesReader
from serving.effects_reader import EffectsReader
from serving.forecast_reader import ForecastReader
from serving.model_store import ModelStore
from serving.page.assemble import gather
from serving.page.champion import VerdictReader
from serving.page.render import render_page


class PageController(Controller):
    include_in_schema = False  # a page, not an operation of the API: the OpenAPI tests stay as they are

    @get("/", media_type=MediaType.HTML, sync_to_thread=True, include_in_schema=False)
    def page(
        self,
        store: NamedDependency[ModelStore],
        forecasts: NamedDependency[ForecastReader],
        effects: NamedDependency[EffectsReader],
        boundaries: NamedDependency[BoundariesReader],
        verdicts: NamedDependency[VerdictReader],
        # The scorecard reader, when the API serves GET /scorecard; the page says so when it does not.
        scorecards: NamedDependency[Any] = None,
        day: Annotated[str | None, Parameter(description="The day shown (YYYY-MM-DD).")] = None,
    ) -> Response[str]:
        page = gather(store, forecasts, effects, boundaries, verdicts, scorecards, day)
        return Response(render_page(page), media_type=MediaType.HTML)
