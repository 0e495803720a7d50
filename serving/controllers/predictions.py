"""POST /predict and /predict/batch: expected robberies from the weather, on the champion served now.

A single prediction shares a model call with those that arrive meanwhile; a batch is one model call.
The champion is read once per request, so a swap mid-request does not change the model that answers.
"""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from serving.decoding import StrictBody
from serving.errors import Refused, problem_specs
from serving.horizon import as_days, check_horizon
from serving.predictor import Predictor
from serving.structs.requests import BatchRequest, Observation
from serving.structs.responses import BatchPrediction, Prediction

_PREDICT_ERRORS = problem_specs(400, 413, 422, 503)


async def _require_body(request: Request) -> None:
    """An empty body never reaches the decoder (Litestar skips it); refuse it here, clearly."""
    if not await request.body():
        raise Refused(400, "request body is empty: send a JSON object", None, "empty body")


class PredictionController(Controller):
    tags = ("predictions",)

    @post(
        "/predict",
        dto=StrictBody[Observation],
        return_dto=None,
        before_request=_require_body,
        status_code=200,
        responses=_PREDICT_ERRORS,
        summary="Expected robberies for one (date, comuna) and its weather",
    )
    async def predict(self, data: JSONBody[Observation], predictor: NamedDependency[Predictor]) -> Prediction:
        champion = predictor.store.require_champion()
        check_horizon(champion.window, as_days([data.date]), predictor.max_horizon_days, lambda _: "date")
        row = await predictor.predict(champion, data)
        return Prediction(
            row.expected_robberies, champion.version, row.interval_80, row.interval_95, row.horizon_days
        )

    @post(
        "/predict/batch",
        dto=StrictBody[BatchRequest],
        return_dto=None,
        before_request=_require_body,
        status_code=200,
        responses=_PREDICT_ERRORS,
        summary="Expected robberies for many observations, in one model call",
    )
    async def predict_batch(
        self, data: JSONBody[BatchRequest], predictor: NamedDependency[Predictor]
    ) -> BatchPrediction:
        limit = predictor.max_batch
        if (count := len(data.observations)) > limit:
            reason = f"{count} observations; a batch holds at most {limit}"
            raise Refused(413, f"batch too large: {reason}", "observations", reason)
        champion = predictor.store.require_champion()
        days = as_days([row.date for row in data.observations])
        check_horizon(champion.window, days, predictor.max_horizon_days, "observations[{}].date".format)
        rows = await predictor.run(champion, data.observations, "batch")
        return BatchPrediction(predictions=rows, model_version=champion.version)
