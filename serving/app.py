"""The prediction API (README, "Call the API"): `create_app()` assembles it, and nothing else lives here.

Litestar with msgspec structs (serving/structs/); the handlers (serving/controllers/) receive the
runtime's parts as dependencies (serving/runtime.py); the lifespan loads the champion and starts the
poller (serving/lifespan.py). Errors are problem details (serving/errors.py); every request is
measured for /metrics and, if asked, logged (serving/instrument.py).
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from serving.controllers.effects import EffectsController
from serving.controllers.forecast import ForecastController
from serving.controllers.page import PageController
from serving.controllers.predictions import PredictionController
from serving.controllers.scorecard import ScorecardController
from serving.controllers.status import StatusController
from serving.decoding import close_struct_schemas
from serving.errors import problem_response
from serving.instrument import Instrumented, access_logger
from serving.lifespan import lifespan
from serving.runtime import Runtime


def create_app(runtime: Runtime | None = None, *, freeze_gc: bool = False) -> Litestar:
    """The API over `runtime` (default: built from the environment's settings). `freeze_gc` is for a
    process that is only the API (`python -m serving`): it exempts everything loaded at startup from
    the cyclic GC, a process-wide change."""
    runtime = runtime or Runtime.from_settings()
    app = Litestar(
        route_handlers=[
            PredictionController,
            StatusController,
            EffectsController,
            ForecastController,
            PageController,
            ScorecardController,
        ],
        dependencies=runtime.dependencies(),
        lifespan=[lifespan(runtime, freeze_gc=freeze_gc)],
        request_max_body_size=runtime.settings.max_body_bytes,
        exception_handlers={Exception: problem_response},
        openapi_config=OpenAPIConfig(
            title="crime_weather",
            version="1.0.0",
            description="Expected robberies per comuna of Buenos Aires and day, from the weather.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path=["/swagger", "/"]), JsonRenderPlugin()],
        ),
    )
    close_struct_schemas(app)
    # Outside routing and its exception handling, so every request is measured, 404s and 500s included.
    logger = access_logger() if runtime.settings.access_log else None
    app.asgi_handler = Instrumented(app.asgi_handler, runtime.metrics, logger)
    return app
