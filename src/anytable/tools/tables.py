"""list_tables, describe_table, create_table, update_table, delete_table."""

from __future__ import annotations

from typing import Any

from anytable.core.service import Anytable
from anytable.schemas.inputs import BaseArg, FieldSpecsArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, TableOut, TableSchemaOut, TablesOut
from anytable.tools.toolset import Tool, Toolset


async def list_tables(svc: Anytable, provider: ProviderArg = None, base: BaseArg = None) -> dict[str, Any]:
    return await svc.list_tables(provider, base)


async def describe_table(
    svc: Anytable, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.describe_table(provider, base, table)


async def create_table(
    svc: Anytable, name: str, fields: FieldSpecsArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.create_table(provider, base, name, fields)


async def update_table(
    svc: Anytable, name: str, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.update_table(provider, base, table, name)


async def delete_table(
    svc: Anytable, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.delete_table(provider, base, table)


TOOLSET = Toolset(
    "tables",
    (
        Tool(list_tables, TablesOut, "Tables of a base.", kind="read"),
        Tool(
            describe_table,
            TableSchemaOut,
            "A table's fields and views.",
            kind="read",
        ),
        Tool(
            create_table,
            TableOut,
            "Create a table; fields: [{name, type, options?}], the first is primary.",
            kind="write",
        ),
        Tool(update_table, TableOut, "Rename a table to name.", kind="write", idempotent=True),
        Tool(
            delete_table,
            DeletedOut,
            "Delete a table and all its records.",
            kind="destructive",
            idempotent=True,
        ),
    ),
)
