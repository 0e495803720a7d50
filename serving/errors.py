"""Every error as RFC 9457 problem details: bad input -> 400 naming the field and the reason, oversized
input -> 413 saying the limit, a date outside the model's evidence -> 422 (serving/horizon.py), no
champion -> 503, and Litestar's own 404, 405 and 500 in the same shape.

One handler for every exception (`problem_response`), so no error path answers in another shape.
msgspec reports the first problem as "<reason> - at `$.<path>`"; these turn that into a field name a
client can act on (`comuna`, `observations[3].temp_max`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import ResponseSpec

from serving.structs.requests import INTEGER_FIELDS
from serving.structs.responses import FieldProblem, Problem

log = logging.getLogger(__name__)

PROBLEM_JSON: Final = "application/problem+json"

_AT = re.compile(r"^(?P<reason>.*?) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
# Problems msgspec (or our __post_init__) names inside the message: unknown, missing, out-of-range fields.
_NAMED = re.compile(r"^(?:Object (?:contains unknown|missing required) field |)`(?P<name>[^`]+)`")
_INTEGRAL_BOUND = re.compile(r"(?<=[<>]= )(-?\d+)\.0\b")


@dataclass(frozen=True)
class ProblemType:
    uri: str
    title: str
    description: str


# The API's own problem types (URNs: identifiers, not pages to fetch); any other status is about:blank.
INVALID_INPUT: Final = ProblemType(
    "urn:crime-weather:problem:invalid-input",
    "Invalid input",
    "Invalid input: `field` and `reason` say what to fix.",
)
TOO_LARGE: Final = ProblemType(
    "urn:crime-weather:problem:too-large",
    "Request too large",
    "Body or batch above the limits; `detail` says which limit.",
)
OUTSIDE_EVIDENCE: Final = ProblemType(
    "urn:crime-weather:problem:outside-evidence",
    "Date outside the model's evidence",
    "A date before the model's first day of data or beyond the horizon its backtest validated; "
    "`errors` names every such date.",
)
NO_MODEL: Final = ProblemType(
    "urn:crime-weather:problem:no-model",
    "No model loaded",
    "No champion is loaded yet; `detail` says why.",
)
_TYPES: Final = {400: INVALID_INPUT, 413: TOO_LARGE, 422: OUTSIDE_EVIDENCE, 503: NO_MODEL}
INTERNAL: Final = "the server failed to answer this request; the error is in its log"


class Refused(ClientException):
    """A request refused before it reaches the model."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        field: str | None = None,
        reason: str | None = None,
        errors: list[FieldProblem] | None = None,
    ):
        super().__init__(detail=detail, status_code=status_code)
        self.field = field
        self.reason = reason or detail
        self.errors = errors


def field_and_reason(error: msgspec.DecodeError) -> tuple[str | None, str]:
    """(`field path` or None for the whole body, reason) of a msgspec decoding error."""
    message = str(error)
    path = ""
    if match := _AT.match(message):
        message, path = match["reason"], match["path"]
    if named := _NAMED.match(message):
        path = f"{path}.{named['name']}"
    field = path.removeprefix(".") or None
    if field and field.rsplit(".", 1)[-1] in INTEGER_FIELDS:  # decoded as integral floats: say "int"
        message = message.replace("`float` that's a multiple of 1.0", "an integer").replace(
            "`float`", "`int`"
        )
        message = _INTEGRAL_BOUND.sub(r"\1", message)  # "<= 15.0" -> "<= 15"
    if not isinstance(error, msgspec.ValidationError) and field is None:
        message = message if message.startswith("JSON is malformed") else f"JSON is malformed: {message}"
    return field, message


def invalid_body(error: msgspec.DecodeError) -> Refused:
    field, reason = field_and_reason(error)
    detail = f"invalid `{field}`: {reason}" if field else f"invalid request body: {reason}"
    return Refused(400, detail, field, reason)


def _invalid_parameter(exc: ValidationException) -> Refused:
    """Litestar's own validation (query and path parameters): its first error as field and reason."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    field, reason = first.get("key"), first.get("message") or exc.detail
    return Refused(400, f"invalid `{field}`: {reason}" if field else exc.detail, field, reason)


def _too_large(request: Request) -> Refused:
    limit = request.route_handler.resolve_request_max_body_size()
    return Refused(413, f"request body is larger than the limit of {limit} bytes")


def to_problem(request: Request, exc: Exception) -> tuple[Problem, dict[str, str] | None]:
    """The problem details of an exception, and the headers its response needs (e.g. `Allow`)."""
    if isinstance(exc, msgspec.DecodeError):  # ValidationError is a DecodeError
        exc = invalid_body(exc)
    elif isinstance(exc, RequestEntityTooLarge):
        exc = _too_large(request)
    elif isinstance(exc, ValidationException):
        exc = _invalid_parameter(exc)
    if isinstance(exc, Refused):
        kind = _TYPES.get(exc.status_code)
        problem = Problem(
            type=kind.uri if kind else "about:blank",
            title=kind.title if kind else HTTPStatus(exc.status_code).phrase,
            status=exc.status_code,
            detail=exc.detail,
            field=exc.field,
            reason=exc.reason,
            errors=exc.errors,
        )
        return problem, exc.headers
    if isinstance(exc, HTTPException) and exc.status_code < 500:  # Litestar's own: 404, 405, ...
        phrase = HTTPStatus(exc.status_code).phrase
        return Problem("about:blank", phrase, exc.status_code, exc.detail or phrase), exc.headers
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return Problem("about:blank", HTTPStatus(status).phrase, status, INTERNAL), None


def problem_response(request: Request, exc: Exception) -> Response[Problem]:
    """The one exception handler of the app (registered for `Exception`)."""
    problem, headers = to_problem(request, exc)
    if problem.status >= 500:
        # Litestar logs unhandled exceptions only in debug mode; a server error must reach the log.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def problem_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses` for these statuses and 500: problem details, with what each means here."""
    descriptions = {status: kind.description for status, kind in _TYPES.items()}
    descriptions[500] = "Unexpected server error (logged); `detail` says no more."
    return {
        status: ResponseSpec(
            Problem,
            generate_examples=False,
            description=descriptions.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_JSON,
        )
        for status in (*statuses, 500)
    }
