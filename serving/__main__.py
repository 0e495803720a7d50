"""`python -m serving`: the API under uvicorn, one worker, on CRIME_WEATHER_API_HOST:CRIME_WEATHER_API_PORT."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from crime_weather.core.settings import get_settings
from serving.settings import ApiSettings


def main() -> None:
    api = ApiSettings()
    # The poller must notice an unreachable MLflow within seconds, not after MLflow's default
    # 7 retries with backoff (minutes); it asks again at the next poll anyway.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(api.registry_timeout_seconds))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from serving.app import create_app
    from serving.runtime import Runtime

    # Model calls run in a worker thread that holds the GIL through the pipeline's Python parts; by
    # default the event loop waits up to 5 ms for it, requests queue behind each model call, and the
    # next micro-batch is not ready when the model is free. 0.5 ms: +35 % req/s and p99 150 -> 120 ms
    # at 16 connections on a loaded 2-core machine (A/B/A/B, load average ~14; 0.2 ms no better).
    sys.setswitchinterval(api.switch_interval_ms / 1000)

    uvicorn.run(
        create_app(Runtime.from_settings(get_settings(), api), freeze_gc=True),
        host=api.host,
        port=api.port,
        workers=1,
        # uvicorn's own access log stays off: ours is JSON lines, off unless CRIME_WEATHER_API_ACCESS_LOG.
        access_log=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
