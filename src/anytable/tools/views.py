"""list_views, create_view, delete_view: the ``views`` toolset, brought by providers with views."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

from anytable.core.service import Anytable
from anytable.schemas.inputs import BaseArg, ProviderArg, TableArg
from anytable.schemas.outputs import DeletedOut, ViewOut, ViewsOut
from anytable.tools.toolset import Tool, Toolset


async def list_views(
    svc: Anytable, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
) -> dict[str, Any]:
    return await svc.list_views(provider, base, table)


async def create_view(
    svc: Anytable,
    name: str,
    type: Annotated[str, WithJsonSchema({"enum": ["grid", "kanban", "gallery", "gantt", "form"]})] = "grid",
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.create_view(provider, base, table, name, type)


async def delete_view(
    svc: Anytable,
    view: str,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.delete_view(provider, base, table, view)


TOOLSET = Toolset(
    "views",
    (
        Tool(list_views, ViewsOut, "Views of a table.", kind="read"),
        Tool(create_view, ViewOut, "Add a view to a table.", kind="write"),
        Tool(
            delete_view, DeletedOut, "Delete a view (records are kept).", kind="destructive", idempotent=True
        ),
    ),
)
