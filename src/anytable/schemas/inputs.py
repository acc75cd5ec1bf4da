"""Tool arguments as the agent sees them: short, exact descriptions (every byte costs context)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from anytable.errors import InputError
from anytable.schemas.filters import SORT_SCHEMA, WHERE_SCHEMA

# The addressing arguments: listed with an empty schema, described once by the server instructions.
ProviderArg = str | None  # list_providers says which; needed only when several are enabled
BaseArg = str | None  # id or share URL
TableArg = str | None  # id or name
FieldArg = str  # a field's name or id, as the instructions say
WhereArg = Annotated[dict[str, Any] | None, WithJsonSchema(WHERE_SCHEMA)]
SortArg = Annotated[list[dict[str, Any]] | None, WithJsonSchema(SORT_SCHEMA)]
# An empty list of ids or records, or a negative max, is refused with a clear error (core): the
# published schemas leave those bounds out, the types say enough.
_IDS = {"type": "array", "items": {"type": "string"}}
IdsArg = Annotated[list[str], WithJsonSchema(_IDS)]
SomeIdsArg = Annotated[list[str] | None, WithJsonSchema(_IDS)]
DryRunArg = bool | None
MaxArg = Annotated[int | None, Field(ge=0), WithJsonSchema({"type": "integer"})]
GroupByArg = Annotated[
    list[Any] | None,
    WithJsonSchema(
        {
            "type": "array",
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "by": {"enum": ["day", "week", "month", "quarter", "year"]},
                        },
                        "required": ["field"],
                    },
                ]
            },
        }
    ),
]
MetricsArg = Annotated[
    list[dict[str, Any]] | None,
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"enum": ["count", "count_distinct", "sum", "avg", "min", "max"]},
                    "field": {"type": "string"},
                    "as": {"type": "string"},
                },
                "required": ["op"],
            },
        }
    ),
]
OptionsArg = Annotated[list[str] | None, Field(description="select option names; for link: [linked table]")]
FieldSpecsArg = Annotated[  # [{"name", "type", "options"?}], as the tool description says
    list[dict[str, Any]] | None, WithJsonSchema({"type": "array", "items": {"type": "object"}})
]
RecordsArg = Annotated[list[dict[str, Any]], WithJsonSchema({"type": "array", "items": {"type": "object"}})]
UpdatesArg = Annotated[  # [{"id", "fields"}], as the tool description says
    list[dict[str, Any]] | None, WithJsonSchema({"type": "array", "items": {"type": "object"}})
]


MAX_NAME = 100  # characters of a table, field, view or role name


def check_name(value: Any, what: str) -> str:
    """A name argument, stripped: a non-empty string of at most ``MAX_NAME`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty string.")
    name = value.strip()
    if len(name) > MAX_NAME:
        raise InputError(f"{what} {name[:30]!r}... is {len(name)} characters; use at most {MAX_NAME}.")
    return name
