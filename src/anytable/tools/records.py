"""query_records, get_records, create_records, update_records, delete_records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from anytable.core.service import Anytable
from anytable.schemas.inputs import (
    BaseArg,
    IdsArg,
    ProviderArg,
    RecordsArg,
    SortArg,
    TableArg,
    UpdatesArg,
    WhereArg,
)
from anytable.schemas.outputs import CreatedOut, DeletedCountOut, GetOut, QueryOut, UpdatedOut
from anytable.tools.toolset import Tool, Toolset


def _progress(ctx: Context[Any, Any]) -> Callable[[float, float | None, str | None], Awaitable[None]]:
    async def report(done: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(done, total, message)

    return report


async def query_records(
    svc: Anytable,
    table: TableArg = None,
    where: WhereArg = None,
    sort: SortArg = None,
    fields: Annotated[list[str] | None, Field(description="field names to return")] = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Field(description="next_cursor of the previous answer")] = None,
    view: Annotated[str | None, Field(description="view id or name")] = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.query_records(
        provider, base, table, where=where, sort=sort, fields=fields, limit=limit, cursor=cursor, view=view
    )


async def get_records(
    svc: Anytable,
    record_ids: IdsArg,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.get_records(provider, base, table, record_ids)


async def create_records(
    svc: Anytable,
    records: RecordsArg,
    ctx: Context[Any, Any],
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.create_records(provider, base, table, records, _progress(ctx))


async def update_records(
    svc: Anytable,
    records: UpdatesArg,
    ctx: Context[Any, Any],
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.update_records(provider, base, table, records, _progress(ctx))


async def delete_records(
    svc: Anytable,
    record_ids: IdsArg,
    ctx: Context[Any, Any],
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.delete_records(provider, base, table, record_ids, _progress(ctx))


TOOLSET = Toolset(
    "records",
    (
        Tool(
            query_records,
            QueryOut,
            "Records matching where, sorted; pass next_cursor back for more.",
            kind="read",
        ),
        Tool(get_records, GetOut, "Records by id; missing lists ids not found.", kind="read"),
        Tool(
            create_records,
            CreatedOut,
            'Create records [{"<field>": value}], any number (batched). Dates ISO 8601; selects by option name.',
            kind="write",
        ),
        Tool(
            update_records,
            UpdatedOut,
            "Change fields of records [{id, fields}]; fields left out are unchanged, null clears.",
            kind="write",
            idempotent=True,
        ),
        Tool(delete_records, DeletedCountOut, "Delete records by id.", kind="destructive", idempotent=True),
    ),
)
