"""Strict request decoding: the body goes straight from bytes to a validated struct.

Litestar converts request data with `strict=False`, which would accept `"comuna": "3"`. This DTO
decodes with msgspec's strict JSON decoder instead (wrong types are refused) while the OpenAPI schema
stays the plain struct's, constraints included.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.dto import MsgspecDTO

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
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
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Structs that forbid unknown fields are closed objects in the schema too
    (`additionalProperties: false`), so clients and schemathesis know extra fields are refused."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
