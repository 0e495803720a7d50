"""Strict request decoding: the body goes straight from bytes to a validated struct.

Litestar converts request data with `strict=False`, which would accept `"comuna": "3"`. This DTO
decodes with msgspec's strict JSON decoder instead (wrong types are refused) while the OpenAPI schema
stays the plain struct's, constraints included.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from litestar.dto import MsgspecDTO

from serving.structs import requests, responses

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

T = TypeVar("T", bound=msgspec.Struct)


@cache
def decoder(model_type: type[T]) -> msgspec.json.Decoder[T]:
    return msgspec.json.Decoder(model_type)


class StrictBody(MsgspecDTO[T], Generic[T]):
    """`dto=StrictBody[Observation]`: decode the request body strictly into `Observation`."""

    def decode_bytes(self, value: bytes) -> Any:
        return decoder(self.model_type).decode(value)

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)


def close_struct_schemas(app: Litestar) -> None:
    """Structs that forbid unknown fields are closed objects in the schema too (`additionalProperties:
    false`), so clients and schemathesis know extra fields are refused. Litestar has no public hook
    for a struct's schema, so the generated document is amended once, when the app is built."""
    closed = {
        struct.__name__
        for module in (requests, responses)
        for struct in _structs(module)
        if struct.__struct_config__.forbid_unknown_fields
    }
    for schema in (app.openapi_schema.components.schemas or {}).values():
        if schema.title in closed:
            schema.additional_properties = False


def _structs(module: object) -> list[type[msgspec.Struct]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, msgspec.Struct) and value is not msgspec.Struct
    ]
