"""The framework's ceiling: a bare Litestar + msgspec handler that decodes the same request body and
returns a constant, under the uvicorn settings of `python -m serving` (one worker, uvloop, httptools,
no access log). With `--instrumented`, our request metrics (serving/instrument.py) wrap it: the two
side by side show what measuring every request costs where it is most visible.

    .venv/bin/python -m harness.bare_litestar PORT [--instrumented]
"""

from __future__ import annotations

import argparse
import datetime
import gc

import msgspec
import uvicorn
from litestar import Litestar, post


class Observation(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    comuna: int
    temp_mean: float | None = None
    temp_min: float | None = None
    temp_max: float | None = None
    precipitation_mm: float | None = None
    humidity_pct: float | None = None
    wind_speed_kmh: float | None = None
    pressure_hpa: float | None = None


class Prediction(msgspec.Struct):
    expected_robberies: float
    model_version: str


CONSTANT = Prediction(expected_robberies=1.0, model_version="0")


@post("/predict", status_code=200)
async def predict(data: Observation) -> Prediction:
    return CONSTANT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--instrumented", action="store_true", help="wrap it in our request metrics")
    args = parser.parse_args()
    app = Litestar(route_handlers=[predict])
    if args.instrumented:
        from serving.instrument import Instrumented
        from serving.metrics import Metrics

        app.asgi_handler = Instrumented(app.asgi_handler, Metrics())
    gc.collect()
    gc.freeze()  # as `python -m serving` does once its model is loaded
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
