"""query_records, get_records, aggregate_records, create_records, update_records, delete_records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from anytable.core.service import Anytable
from anytable.schemas.inputs import (
    BaseArg,
    DryRunArg,
    GroupByArg,
    IdsArg,
    MaxArg,
    MetricsArg,
    ProviderArg,
    RecordsArg,
    SomeIdsArg,
    SortArg,
    TableArg,
    UpdatesArg,
    WhereArg,
)
from anytable.schemas.outputs import AggregateOut, CreatedOut, DeletedCountOut, GetOut, QueryOut, UpdatedOut
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
    fields: list[str] | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    cursor: str | None = None,  # next_cursor of the last answer, as the instructions say
    view: str | None = None,
    format: Literal["records", "rows"] = "records",
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.query_records(
        provider,
        base,
        table,
        where=where,
        sort=sort,
        fields=fields,
        limit=limit,
        cursor=cursor,
        view=view,
        format=format,
    )


async def get_records(
    svc: Anytable,
    record_ids: IdsArg,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.get_records(provider, base, table, record_ids)


async def aggregate_records(
    svc: Anytable,
    ctx: Context[Any, Any],
    table: TableArg = None,
    where: WhereArg = None,
    group_by: GroupByArg = None,
    metrics: MetricsArg = None,
    sort: SortArg = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.aggregate_records(
        provider,
        base,
        table,
        where=where,
        group_by=group_by,
        metrics=metrics,
        sort=sort,
        limit=limit,
        progress=_progress(ctx),
    )


async def create_records(
    svc: Anytable,
    records: RecordsArg,
    ctx: Context[Any, Any],
    table: TableArg = None,
    key: list[str] | None = None,
    on_match: Literal["update", "skip"] | None = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.create_records(
        provider, base, table, records, _progress(ctx), key=key, on_match=on_match
    )


async def update_records(
    svc: Anytable,
    ctx: Context[Any, Any],
    table: TableArg = None,
    records: UpdatesArg = None,
    where: WhereArg = None,
    set: dict[str, Any] | None = None,
    dry_run: DryRunArg = None,
    max: MaxArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.update_records(
        provider, base, table, records, _progress(ctx), where=where, set_=set, dry_run=dry_run, max=max
    )


async def delete_records(
    svc: Anytable,
    ctx: Context[Any, Any],
    table: TableArg = None,
    record_ids: SomeIdsArg = None,
    where: WhereArg = None,
    dry_run: DryRunArg = None,
    max: MaxArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await svc.delete_records(
        provider, base, table, record_ids, _progress(ctx), where=where, dry_run=dry_run, max=max
    )


TOOLSET = Toolset(
    "records",
    (
        Tool(
            query_records,
            QueryOut,
            "Records matching where, sorted. format rows: column names once.",
            kind="read",
        ),
        Tool(get_records, GetOut, "Records by id (missing: ids not found).", kind="read"),
        Tool(
            aggregate_records,
            AggregateOut,
            "Metrics (default count) of records matching where, per group; sort by group fields or labels (count, "
            "avg(F), as).",
            kind="read",
        ),
        Tool(
            create_records,
            CreatedOut,
            'Create records [{"<field>": value}], any number; key: update or skip (on_match) those matching it.',
            kind="write",
        ),
        Tool(
            update_records,
            UpdatedOut,
            'Change records [{id, fields}], or set on where matches ({"all":true}: all); dry_run: count, sample; '
            "max: refuse if more match.",
            kind="write",
            idempotent=True,
        ),
        Tool(
            delete_records,
            DeletedCountOut,
            "Delete records by id, or where matches (dry_run, max as update_records).",
            kind="destructive",
            idempotent=True,
        ),
    ),
)
