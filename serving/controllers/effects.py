"""GET /effects: what the weather does to robberies, as the champion's MLflow run holds it."""

from __future__ import annotations

import asyncio

from litestar import Controller, get
from litestar.di import NamedDependency

from serving.effects_reader import EffectsReader
from serving.errors import problem_specs
from serving.structs.responses import WeatherEffects


class EffectsController(Controller):
    tags = ("weather effects",)

    @get(
        "/effects",
        responses=problem_specs(404, 503),
        summary="What the weather does to robberies: rate ratios with 95 % CIs (the champion's)",
    )
    async def effects(self, effects: NamedDependency[EffectsReader]) -> WeatherEffects:
        # It may read from MLflow, which blocks: off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, effects.current)
