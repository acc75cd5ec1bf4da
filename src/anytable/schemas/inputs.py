"""Tool arguments as the agent sees them: short, exact descriptions (every byte costs context)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from anytable.schemas.filters import SORT_SCHEMA, WHERE_SCHEMA

ProviderArg = str | None  # list_providers says which; needed only when several are enabled
BaseArg = Annotated[str | None, Field(description="id or share URL")]
TableArg = Annotated[str | None, Field(description="table id or name")]
FieldArg = Annotated[str, Field(description="field name or id")]
WhereArg = Annotated[dict[str, Any] | None, WithJsonSchema(WHERE_SCHEMA)]
SortArg = Annotated[list[dict[str, Any]] | None, WithJsonSchema(SORT_SCHEMA)]
IdsArg = Annotated[list[str], WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1})]
OptionsArg = Annotated[list[str] | None, Field(description="select option names; for link: [linked table]")]
FieldSpecsArg = Annotated[
    list[dict[str, Any]] | None,
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "type": {"type": "string"},
                    "options": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "type"],
            },
        }
    ),
]
RecordsArg = Annotated[
    list[dict[str, Any]], WithJsonSchema({"type": "array", "items": {"type": "object"}, "minItems": 1})
]
UpdatesArg = Annotated[
    list[dict[str, Any]],
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "fields": {"type": "object"}},
                "required": ["id", "fields"],
            },
            "minItems": 1,
        }
    ),
]
