"""create_field, update_field, delete_field."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from anytable.core.service import Anytable
from anytable.schemas.inputs import BaseArg, FieldArg, OptionsArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, FieldOut
from anytable.tools.toolset import Tool, Toolset

TYPES = "see list_providers field_types"


async def create_field(
    svc: Anytable,
    name: str,
    type: Annotated[str, Field(description=TYPES)],
    options: OptionsArg = None,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.create_field(provider, base, table, name, type, options)


async def update_field(
    svc: Anytable,
    field: FieldArg,
    name: str | None = None,
    options: list[str] | None = None,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.update_field(provider, base, table, field, name, options)


async def delete_field(
    svc: Anytable, field: FieldArg, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.delete_field(provider, base, table, field)


TOOLSET = Toolset(
    "fields",
    (
        Tool(create_field, FieldOut, "Add a field to a table.", kind="write"),
        Tool(
            update_field,
            FieldOut,
            "Rename a field (name), or replace a select's options (all of them; removed ones' values are cleared).",
            kind="write",
            idempotent=True,
        ),
        Tool(delete_field, DeletedOut, "Delete a field and its values.", kind="destructive", idempotent=True),
    ),
)
