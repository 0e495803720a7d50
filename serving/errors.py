"""Bad input -> 400 naming the field and the reason; oversized input -> 413 saying the limit.

msgspec reports the first problem as "<reason> - at `$.<path>`"; these turn that into a field name a
client can act on (`comuna`, `observations[3].temp_max`).
"""

from __future__ import annotations

import re

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException

from serving.structs import INTEGER_FIELDS, ErrorBody

_AT = re.compile(r"^(?P<reason>.*?) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
# Problems msgspec (or our __post_init__) names inside the message: unknown, missing, out-of-range fields.
_NAMED = re.compile(r"^(?:Object (?:contains unknown|missing required) field |)`(?P<name>[^`]+)`")


class Refused(ClientException):
    """A request refused before it reaches the model."""

    def __init__(self, status_code: int, detail: str, field: str | None = None, reason: str | None = None):
        super().__init__(detail=detail, status_code=status_code)
        self.field = field
        self.reason = reason or detail


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
    if not isinstance(error, msgspec.ValidationError) and field is None:
        message = message if message.startswith("JSON is malformed") else f"JSON is malformed: {message}"
    return field, message


def invalid_body(error: msgspec.DecodeError) -> Refused:
    field, reason = field_and_reason(error)
    detail = f"invalid `{field}`: {reason}" if field else f"invalid request body: {reason}"
    return Refused(400, detail, field, reason)


def refused_response(_: Request, exc: Refused) -> Response[ErrorBody]:
    body = ErrorBody(status_code=exc.status_code, detail=exc.detail, field=exc.field, reason=exc.reason)
    return Response(body, status_code=exc.status_code)


def decode_error_response(request: Request, exc: msgspec.DecodeError) -> Response[ErrorBody]:
    return refused_response(request, invalid_body(exc))


def too_large_response(request: Request, _: Exception) -> Response[ErrorBody]:
    limit = request.route_handler.resolve_request_max_body_size()
    detail = f"request body is larger than the limit of {limit} bytes"
    return refused_response(request, Refused(413, detail, None, detail))
