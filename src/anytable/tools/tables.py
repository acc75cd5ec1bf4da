"""list_tables, describe_table, create_table, update_table, delete_table."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult

from anytable.schemas.inputs import BaseArg, FieldSpecsArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, TableOut, TableSchemaOut, TablesOut
from anytable.server.registrar import Registrar
from anytable.server.results import run


def register(reg: Registrar) -> None:
    svc = reg.svc

    async def list_tables(
        provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, TablesOut]:
        return await run("list_tables", svc.list_tables(provider, base))

    async def describe_table(
        table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, TableSchemaOut]:
        return await run("describe_table", svc.describe_table(provider, base, table))

    async def create_table(
        name: str, fields: FieldSpecsArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, TableOut]:
        return await run("create_table", svc.create_table(provider, base, name, fields))

    async def update_table(
        name: str, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, TableOut]:
        return await run("update_table", svc.update_table(provider, base, table, name))

    async def delete_table(
        table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, DeletedOut]:
        return await run("delete_table", svc.delete_table(provider, base, table))

    reg.add(list_tables, "Tables of a base.", kind="read")
    reg.add(describe_table, "A table's fields and views.", kind="read")
    reg.add(
        create_table,
        "Create a table. fields: [{name, type, options?}]; the first is the primary field.",
        kind="write",
    )
    reg.add(update_table, "Rename a table (name: the new name).", kind="write", idempotent=True)
    reg.add(delete_table, "Delete a table and all its records.", kind="destructive", idempotent=True)
