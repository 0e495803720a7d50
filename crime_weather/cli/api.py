"""The running API as the command line calls it: one-line errors that say what to do."""

from __future__ import annotations

from typing import Any

import httpx

from serving.settings import ApiSettings


class CliError(RuntimeError):
    """A failure the command line reports in one line and exit code 1."""


def api_url(override: str | None = None) -> str:
    """Where the API answers: `--api-url`, else the API's own settings (CRIME_WEATHER_API_HOST/PORT)."""
    return (override or ApiSettings().url).rstrip("/")


def _problem(response: httpx.Response) -> str:
    """The reason of an RFC 9457 problem (what the API says), else the raw body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    field = f"{body['field']}: " if body.get("field") else ""
    return field + str(body.get("reason") or body.get("detail") or body.get("title") or body)


def call(url: str, method: str, path: str, *, json: dict | None = None, params: dict | None = None) -> Any:
    """The JSON answer of `method path`; unreachable or non-2xx -> CliError naming the URL and why."""
    params = {name: value for name, value in (params or {}).items() if value is not None}
    try:
        response = httpx.request(method, f"{url}{path}", json=json, params=params, timeout=30)
    except httpx.HTTPError as error:
        raise CliError(
            f"the API at {url} is unreachable ({type(error).__name__}): `crime-weather run` starts it"
        ) from error
    if response.status_code >= 400:
        raise CliError(f"{method} {url}{path} answered {response.status_code}: {_problem(response)}")
    return response.json()
