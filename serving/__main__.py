"""`python -m serving`: the API under uvicorn, one worker, on settings.api_host:api_port."""

from __future__ import annotations

import logging
import os

import uvicorn

from crime_weather.core.settings import get_settings


def main() -> None:
    settings = get_settings()
    # The poller must notice an unreachable MLflow within seconds, not after MLflow's default
    # 7 retries with backoff (minutes); it asks again at the next poll anyway.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(settings.api_registry_timeout_seconds))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from serving.app import create_app

    uvicorn.run(
        create_app(settings, freeze_gc=True),
        host=settings.api_host,
        port=settings.api_port,
        workers=1,
        # One line per request costs more than a prediction's share of a model call.
        access_log=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
