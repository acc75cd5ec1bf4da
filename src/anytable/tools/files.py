"""export_records, import_records, upload_attachment, download_attachments: files by path, inside
the allowed folders (the client's roots, else ANYTABLE_FILE_ROOTS)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, ListRoots, Resolve
from mcp.types import ListRootsResult
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from anytable.config import Settings
from anytable.core.service import Anytable
from anytable.files import attachments, transfer
from anytable.files.roots import FileRoots, roots_from_uris
from anytable.schemas.inputs import BaseArg, ProviderArg, SortArg, TableArg, WhereArg
from anytable.tools.records import _progress
from anytable.tools.toolset import Tool, Toolset

FormatArg = Annotated[
    Literal["csv", "jsonl", "xlsx"] | None, WithJsonSchema({"enum": ["csv", "jsonl", "xlsx"]})
]
ColumnsArg = Annotated[
    dict[str, str | None] | None,
    WithJsonSchema(
        {
            "type": "object",
            "description": "file column: field or null",
        }
    ),
]
PathArg = str  # inside the client's roots or ANYTABLE_FILE_ROOTS


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ExportOut(_Out):
    path: str
    records: int
    bytes: int


class FailedLine(_Out):
    row: int
    error: str


class ImportOut(_Out):
    created: int
    updated: int
    skipped: int
    failed: list[FailedLine]


class AttachmentsOut(_Out):
    attachments: list[dict[str, Any]]


class SavedFile(_Out):
    name: str
    path: str
    size: int


class DownloadOut(_Out):
    files: list[SavedFile]


def _ask_roots(ctx: Context[Any, Any]) -> ListRoots | None:
    """Ask the client for its roots (roots/list) when it declares the capability."""
    caps = ctx.client_capabilities
    return ListRoots() if caps is not None and caps.roots is not None else None


# Filled by the framework (roots/list, or the input-required round of newer protocols), never by the caller.
ClientRoots = Annotated[ListRootsResult | None, Resolve(_ask_roots)]


def file_roots(client: ListRootsResult | None, settings: Settings) -> FileRoots:
    """The client's roots when it sends some, else ANYTABLE_FILE_ROOTS."""
    if client is not None:
        roots = roots_from_uris([str(r.uri) for r in client.roots])
        if roots.folders:
            return roots
    return FileRoots.from_setting(settings.file_roots)


async def export_records(
    svc: Anytable,
    path: PathArg,
    ctx: Context[Any, Any],
    client_roots: ClientRoots = None,
    table: TableArg = None,
    format: FormatArg = None,
    where: WhereArg = None,
    sort: SortArg = None,
    fields: list[str] | None = None,
    overwrite: bool = False,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await transfer.export_records(
        svc,
        file_roots(client_roots, svc.settings),
        provider,
        base,
        table,
        path=path,
        fmt=format,
        where=where,
        sort=sort,
        fields=fields,
        overwrite=overwrite,
        progress=_progress(ctx),
    )


async def import_records(
    svc: Anytable,
    path: PathArg,
    ctx: Context[Any, Any],
    client_roots: ClientRoots = None,
    table: TableArg = None,
    format: FormatArg = None,
    columns: ColumnsArg = None,
    key: list[str] | None = None,
    on_match: Literal["update", "skip"] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await transfer.import_records(
        svc,
        file_roots(client_roots, svc.settings),
        provider,
        base,
        table,
        path=path,
        fmt=format,
        columns=columns,
        key=key,
        on_match=on_match,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=_progress(ctx),
    )


async def upload_attachment(
    svc: Anytable,
    record_id: str,
    field: str,
    path: PathArg,
    ctx: Context[Any, Any],
    client_roots: ClientRoots = None,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    roots = file_roots(client_roots, svc.settings)
    return await attachments.upload_attachment(
        svc, roots, provider, base, table, record_id, field, path, _progress(ctx)
    )


async def download_attachments(
    svc: Anytable,
    record_id: str,
    field: str,
    dir: str,
    ctx: Context[Any, Any],
    client_roots: ClientRoots = None,
    table: TableArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    roots = file_roots(client_roots, svc.settings)
    return await attachments.download_attachments(
        svc, roots, provider, base, table, record_id, field, dir, _progress(ctx)
    )


# export_records and download_attachments write files, never a table: they are listed read-only.
TOOLSET = Toolset(
    "files",
    (
        Tool(export_records, ExportOut, "Save records to a .csv, .jsonl or .xlsx file.", kind="read"),
        Tool(
            import_records,
            ImportOut,
            "Create records from a .csv, .jsonl or .xlsx file (header: field names); key upserts.",
            kind="write",
        ),
        Tool(
            upload_attachment,
            AttachmentsOut,
            "Attach a local file to a record's attachment field.",
            kind="write",
        ),
        Tool(download_attachments, DownloadOut, "Save a record's attachments in dir.", kind="read"),
    ),
)
