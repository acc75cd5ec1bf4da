"""query_records, get_records, create_records, update_records, delete_records."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

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
        cursor: Annotated[str | None, Field(description="next_cursor of the previous answer")] = None,
        view: Annotated[str | None, Field(description="view id or name")] = None,
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
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, CreatedOut]:
        return await run("create_records", svc.create_records(provider, base, table, records, _progress(ctx)))

    async def update_records(
        records: UpdatesArg,
        ctx: Context,
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, UpdatedOut]:
        return await run("update_records", svc.update_records(provider, base, table, records, _progress(ctx)))

    async def delete_records(
        record_ids: IdsArg,
        ctx: Context,
        table: TableArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, DeletedCountOut]:
        return await run(
            "delete_records", svc.delete_records(provider, base, table, record_ids, _progress(ctx))
        )

    reg.add(query_records, "Records matching where, sorted; pass next_cursor back for more.", kind="read")
    reg.add(get_records, "Records by id; missing lists ids not found.", kind="read")
    reg.add(
        create_records,
        'Create records [{"<field>": value}], any number (batched). Dates ISO 8601; selects by option name.',
        kind="write",
    )
    reg.add(
        update_records,
        "Change fields of records [{id, fields}]; fields left out are unchanged, null clears.",
        kind="write",
        idempotent=True,
    )
    reg.add(delete_records, "Delete records by id.", kind="destructive", idempotent=True)
