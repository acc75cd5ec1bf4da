"""query_records, get_records, aggregate_records, create_records, update_records, delete_records."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

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
from anytable.server.registrar import Registrar
from anytable.server.results import run


def _progress(ctx: Context) -> Any:
    async def report(done: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(done, total, message)

    return report


def register(reg: Registrar) -> None:
    svc = reg.svc

    async def query_records(
        table: TableArg = None,
        where: WhereArg = None,
        sort: SortArg = None,
        fields: Annotated[list[str] | None, Field(description="field names to return")] = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Field(description="next_cursor of the last answer")] = None,
        view: Annotated[str | None, Field(description="view id or name")] = None,
        format: Annotated[Literal["records", "rows"], Field(description="rows: columns once")] = "records",
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, QueryOut]:
        return await run(
            "query_records",
            svc.query_records(
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
            ),
        )

    async def aggregate_records(
        ctx: Context,
        table: TableArg = None,
        where: WhereArg = None,
        group_by: GroupByArg = None,
        metrics: MetricsArg = None,
        sort: SortArg = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, AggregateOut]:
        return await run(
            "aggregate_records",
            svc.aggregate_records(
                provider,
                base,
                table,
                where=where,
                group_by=group_by,
                metrics=metrics,
                sort=sort,
                limit=limit,
                progress=_progress(ctx),
            ),
        )

    async def get_records(
        record_ids: IdsArg, table: TableArg = None, provider: ProviderArg = None, base: BaseArg = None
    ) -> Annotated[CallToolResult, GetOut]:
        return await run("get_records", svc.get_records(provider, base, table, record_ids))

    async def create_records(
        records: RecordsArg,
        ctx: Context,
        table: TableArg = None,
        key: Annotated[list[str] | None, Field(description="fields identifying a record")] = None,
        on_match: Literal["update", "skip"] | None = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, CreatedOut]:
        return await run(
            "create_records",
            svc.create_records(provider, base, table, records, _progress(ctx), key=key, on_match=on_match),
        )

    async def update_records(
        ctx: Context,
        table: TableArg = None,
        records: UpdatesArg = None,
        where: WhereArg = None,
        set: dict[str, Any] | None = None,
        dry_run: DryRunArg = None,
        max: MaxArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, UpdatedOut]:
        return await run(
            "update_records",
            svc.update_records(
                provider,
                base,
                table,
                records,
                _progress(ctx),
                where=where,
                set_=set,
                dry_run=dry_run,
                max=max,
            ),
        )

    async def delete_records(
        ctx: Context,
        table: TableArg = None,
        record_ids: SomeIdsArg = None,
        where: WhereArg = None,
        dry_run: DryRunArg = None,
        max: MaxArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, DeletedCountOut]:
        return await run(
            "delete_records",
            svc.delete_records(
                provider, base, table, record_ids, _progress(ctx), where=where, dry_run=dry_run, max=max
            ),
        )

    reg.add(
        query_records,
        "Records matching where, sorted; pass next_cursor back for more. format rows: columns once.",
        kind="read",
    )
    reg.add(get_records, "Records by id (missing: ids not found).", kind="read")
    reg.add(
        aggregate_records,
        "Counts, sums, averages, min/max of records matching where, per group of up to 3 fields.",
        kind="read",
    )
    reg.add(
        create_records,
        'Create records [{"<field>": value}], any number; with key, update or skip those matching by key.',
        kind="write",
    )
    reg.add(
        update_records,
        'Change records [{id, fields}], or set on every where match ({"all":true}: all); dry_run: count, '
        "sample; max: refuse if more match.",
        kind="write",
        idempotent=True,
    )
    reg.add(
        delete_records,
        "Delete records by id, or every match of where (dry_run, max as update_records).",
        kind="destructive",
        idempotent=True,
    )
