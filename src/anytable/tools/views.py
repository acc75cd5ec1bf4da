"""list_views, create_view, delete_view: listed only when a provider with views is enabled."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from anytable.schemas.inputs import BaseArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, ViewOut, ViewsOut
from anytable.server.registrar import Registrar
from anytable.server.results import run


def register(reg: Registrar) -> None:
    svc = reg.svc
    if not svc.has_views():
        return

    async def list_views(
        table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, ViewsOut]:
        return await run("list_views", svc.list_views(provider, base, table))

    async def create_view(
        name: str,
        type: Annotated[str, Field(description="grid, kanban, gallery, gantt or form")] = "grid",
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, ViewOut]:
        return await run("create_view", svc.create_view(provider, base, table, name, type))

    async def delete_view(
        view: Annotated[str, Field(description="view id or name")],
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, DeletedOut]:
        return await run("delete_view", svc.delete_view(provider, base, table, view))

    reg.add(list_views, "Views of a table.", kind="read")
    reg.add(create_view, "Add a view to a table.", kind="write")
    reg.add(delete_view, "Delete a view (records are kept).", kind="destructive", idempotent=True)
