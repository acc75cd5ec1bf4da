"""create_field, update_field, delete_field."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from anytable.schemas.inputs import BaseArg, FieldArg, OptionsArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, FieldOut
from anytable.server.registrar import Registrar
from anytable.server.results import run

TYPES = "see list_providers field_types"


def register(reg: Registrar) -> None:
    svc = reg.svc

    async def create_field(
        name: str,
        type: Annotated[str, Field(description=TYPES)],
        options: OptionsArg = None,
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, FieldOut]:
        return await run("create_field", svc.create_field(provider, base, table, name, type, options))

    async def update_field(
        field: FieldArg,
        name: Annotated[str | None, Field(description="new name")] = None,
        options: Annotated[list[str] | None, Field(description="the full new list")] = None,
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, FieldOut]:
        return await run("update_field", svc.update_field(provider, base, table, field, name, options))

    async def delete_field(
        field: FieldArg, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, DeletedOut]:
        return await run("delete_field", svc.delete_field(provider, base, table, field))

    reg.add(create_field, "Add a field to a table.", kind="write")
    reg.add(
        update_field,
        "Rename a field, or replace a select's options (removed options' values are cleared).",
        kind="write",
        idempotent=True,
    )
    reg.add(delete_field, "Delete a field and its values.", kind="destructive", idempotent=True)
