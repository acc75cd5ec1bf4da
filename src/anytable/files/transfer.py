"""export_records and import_records: tables to files and back, through the engine's own query and
create paths (the same paging, coercion, batching, idempotency and progress as the record tools).

Export streams page by page into a hidden file beside the target, moved into place only when
complete (never over an existing file unless ``overwrite``). Import reads the whole file in a
worker thread, checks every row with the coercion create_records uses, and writes nothing unless
every row is good (or ``skip_invalid``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from anytable.bulk import paused_kept, settled
from anytable.core.reading import read_format
from anytable.core.upsert import KeyIndex, parse_key
from anytable.errors import InputError, PartialWriteError
from anytable.files.cells import cell_reader, cell_writer, json_reader
from anytable.files.formats import Format, Parsed, open_writer, pick_format, place, read_table, require_xlsx
from anytable.files.roots import FileRoots
from anytable.providers.base import Record
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.values import field_coercer, is_empty

if TYPE_CHECKING:
    from anytable.core.addressing import Address
    from anytable.core.service import Anytable

Progress = Callable[[float, float | None, str | None], Awaitable[None]] | None

MAX_IMPORT_ROWS = 200_000
MAX_IMPORT_BYTES = 256 * 1024 * 1024
MAX_FAILED_SHOWN = 200
MAX_FAILED_IN_MESSAGE = 10
NOTHING = "Nothing was written."


async def export_records(
    svc: Anytable,
    roots: FileRoots,
    provider: str | None,
    base: str | None,
    table: str | None,
    *,
    path: str,
    fmt: str | None = None,
    where: Any = None,
    sort: Any = None,
    fields: list[str] | None = None,
    overwrite: bool = False,
    progress: Progress = None,
) -> dict[str, Any]:
    addr = svc.address(provider, base, table)
    _require(addr, "query", "export_records")
    target = roots.writable(path, overwrite)
    kind = pick_format(fmt, target)
    if kind == "xlsx":
        require_xlsx()
    schema = await svc.schema(addr)
    columns = _columns(schema, fields)
    names = [f.name for f in columns]
    # each canonical value straight to its cell: the read format, then the file's cell
    reads = [read_format(f, svc.tz) for f in columns]
    cells = reads if kind == "jsonl" else [cell_writer(f, typed=kind == "xlsx") for f in columns]
    steps = list(zip(names, reads, cells, strict=True))

    def convert(records: list[Record]) -> list[list[Any]]:
        if kind == "jsonl":
            return [[read(r["fields"].get(n)) for n, read, _ in steps] for r in records]
        return [[cell(read(r["fields"].get(n))) for n, read, cell in steps] for r in records]

    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    pages = svc.reader.read_all(addr, schema, where=where, sort=sort, fields=fields)
    writer = await anyio.to_thread.run_sync(open_writer, kind, tmp, names)
    done = 0
    try:
        async for page in pages:
            rows = convert(page)
            await anyio.to_thread.run_sync(writer.write, rows)
            done += len(rows)
            if progress is not None:
                await progress(done, None, f"exported {done} records")
        await anyio.to_thread.run_sync(writer.close)
        await anyio.to_thread.run_sync(place, tmp, target, overwrite)
    finally:
        await pages.aclose()
        writer.discard()
        tmp.unlink(missing_ok=True)
    return {"path": str(target), "records": done, "bytes": target.stat().st_size}


async def import_records(
    svc: Anytable,
    roots: FileRoots,
    provider: str | None,
    base: str | None,
    table: str | None,
    *,
    path: str,
    fmt: str | None = None,
    columns: dict[str, str | None] | None = None,
    key: list[str] | None = None,
    on_match: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress = None,
) -> dict[str, Any]:
    addr = svc.address(provider, base, table)
    _require(addr, "create", "import_records")
    if on_match is not None and key is None:
        raise InputError('on_match needs key: the fields that say two records are the same, like ["Title"].')
    if on_match not in (None, "update", "skip"):
        raise InputError(f"on_match {on_match!r} is unknown; use update or skip.")
    source = roots.readable(path, MAX_IMPORT_BYTES)
    kind = pick_format(fmt, source)
    with settled():  # see anytable.bulk
        return await _import(svc, addr, source, kind, columns, key, on_match, dry_run, skip_invalid, progress)


async def _import(
    svc: Anytable,
    addr: Address,
    source: Path,
    kind: Format,
    columns: dict[str, str | None] | None,
    key: list[str] | None,
    on_match: str | None,
    dry_run: bool,
    skip_invalid: bool,
    progress: Progress,
) -> dict[str, Any]:
    schema, read = await _schema_and_file(svc, addr, source, kind)  # the table's errors raised as they are
    try:
        if isinstance(read, Exception):
            raise read
        parsed = read
        mapping, ignored = _map_columns(schema, parsed.columns, columns, source.name)
    except InputError as exc:
        if NOTHING in exc.message:
            raise
        raise InputError(f"{exc.message} {NOTHING}") from None
    total = len(parsed.rows) + len(parsed.errors)
    if progress is not None:
        await progress(0, total, f"read {total} rows of {source.name}; checking them")
    good, failed = await anyio.to_thread.run_sync(paused_kept, _check, svc, schema, parsed, mapping, kind)
    del parsed  # the file's cells: garbage now, not live objects for the collector to walk while writing
    keys = parse_key(schema, key, []) if key is not None else None  # the key fields, checked
    if good:
        failed.extend(_provider_check(addr.provider, schema, good))
        if keys is not None:
            failed.extend(_key_check(keys, good))
        bad_lines = {line for line, _ in failed}
        good = [(line, row) for line, row in good if line not in bad_lines]
    failed.sort(key=lambda item: item[0])
    if failed and not skip_invalid and not dry_run:
        shown = "; ".join(f"line {line}: {msg}" for line, msg in failed[:MAX_FAILED_IN_MESSAGE])
        more = (
            f" (and {len(failed) - MAX_FAILED_IN_MESSAGE} more rows)"
            if len(failed) > MAX_FAILED_IN_MESSAGE
            else ""
        )
        raise InputError(
            f"{len(failed)} of the {total} rows of {source.name} cannot be "
            f"imported: {shown}{more}. Nothing was written. Fix those rows, map columns with columns, or pass "
            "skip_invalid: true to import only the good rows (dry_run: true lists every failure)."
        )
    # skipped: rows matched by the key and left alone (on_match skip); invalid rows are only in failed
    out: dict[str, Any] = {"created": 0, "updated": 0, "skipped": 0}
    if dry_run:
        out.update(await _would(svc, addr, schema, key, on_match, [row for _, row in good]))
        out["dry_run"] = True
    elif good:
        lines = [line for line, _ in good]
        rows = [row for _, row in good]
        del good  # its 20,000 pairs would be live objects the collector walks again and again while writing
        try:
            result = await svc.writer.create_checked(addr, schema, rows, progress, key=key, on_match=on_match)
        except PartialWriteError as exc:
            raise PartialWriteError(
                f"{exc.message} (Import of {source.name}: record i is the i-th row imported; record "
                f"{exc.done} is line {lines[min(exc.done, len(lines) - 1)]}. Import the rows from that line on again.)",
                done=exc.done,
                ids=exc.ids,
            ) from None
        out["created"] = result["created"]
        out["updated"] = result.get("updated", 0)
        for item in result.get("failed", []):  # refused by the provider, by position in `good`
            failed.append((lines[item["index"]], item["error"]))
        out["skipped"] = result.get("skipped", 0)
    out["failed"] = [{"row": line, "error": msg} for line, msg in failed[:MAX_FAILED_SHOWN]]
    if len(failed) > MAX_FAILED_SHOWN:
        out["failed_more"] = len(failed) - MAX_FAILED_SHOWN
    if ignored:
        out["ignored_columns"] = ignored
    return out


async def _schema_and_file(
    svc: Anytable, addr: Address, source: Path, kind: Format
) -> tuple[TableSchema, Parsed | Exception]:
    """The table's fresh schema, and the file's rows or why they cannot be read, fetched and read
    at the same time (the file in a worker thread while the schema's requests are on their way).
    An error about the table is raised here, before anything about the file."""
    read: list[Parsed | Exception] = []

    async def read_file() -> None:
        try:
            read.append(
                await anyio.to_thread.run_sync(paused_kept, read_table, source, kind, MAX_IMPORT_ROWS)
            )
        except Exception as exc:  # the caller raises it, once the table is known to be there
            read.append(exc)

    schema: TableSchema | None = None
    failed: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(read_file)
        try:
            schema = await svc.schema(addr, fresh=True)
        except Exception as exc:  # raised below: inside the task group it would come out as a group
            failed = exc
    if failed is not None:
        raise failed
    assert schema is not None
    return schema, read[0]


async def _would(
    svc: Anytable,
    addr: Address,
    schema: TableSchema,
    key: list[str] | None,
    on_match: str | None,
    rows: list[Any],
) -> dict[str, int]:
    """What a write of ``rows`` would do: created, updated and skipped (matched, on_match skip)."""
    if key is None or not rows:
        return {"created": len(rows), "updated": 0, "skipped": 0}
    keys = parse_key(schema, key, rows)
    existing = await keys.existing(svc.reader, addr, schema)
    created = updated = skipped = 0
    for row in rows:
        matched = existing.get(keys.of(row))
        if not matched:
            created += 1
        elif on_match == "skip":
            skipped += 1
        else:
            updated += len(matched)
    return {"created": created, "updated": updated, "skipped": skipped}


def _key_check(keys: KeyIndex, good: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    """Rows without a value in a key field, and rows whose key an earlier row of the file has."""
    failed: list[tuple[int, str]] = []
    first: dict[Any, int] = {}
    for line, row in good:
        missing = [f.name for f in keys.fields if is_empty(row.get(f.name))]
        if missing:
            failed.append((line, f"key field {missing[0]!r} has no value; every row needs its key fields"))
            continue
        k = keys.of(row)
        if k in first:
            failed.append((line, f"same key as line {first[k]}; merge the two rows"))
        else:
            first[k] = line
    return failed


def _require(addr: Address, op: str, tool: str) -> None:
    if op not in addr.provider.capabilities.records:
        raise addr.provider.unsupported(tool)


def _columns(schema: TableSchema, fields: Any) -> list[FieldInfo]:
    """The fields to export, in order: ``fields`` (names or ids) or every field."""
    if fields is None:
        return list(schema.fields)
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise InputError('fields must be a non-empty list of field names, like ["Name", "Status"].')
    out: list[FieldInfo] = []
    for key in fields:
        found = schema.find_field(key)
        if found is None:
            known = ", ".join(repr(f.name) for f in schema.fields[:40])
            raise InputError(f"fields: no field {key!r} in table {schema.name!r}; fields are {known}.")
        if found not in out:
            out.append(found)
    return out


def _map_columns(
    schema: TableSchema, file_columns: list[str], columns: dict[str, str | None] | None, name: str
) -> tuple[dict[str, FieldInfo], list[str]]:
    """{file column: field} for the columns to import, and the columns left out (computed fields,
    attachments, columns mapped to null)."""
    columns = columns or {}
    if not isinstance(columns, dict):
        raise InputError('columns maps file columns to fields, like {"Title in file": "Title"}.')
    missing = [c for c in columns if c not in file_columns]
    if missing:
        raise InputError(
            f"columns names {missing}, which {name} does not have; its columns are {file_columns[:40]}."
        )
    mapping: dict[str, FieldInfo] = {}
    ignored: list[str] = []
    unknown: list[str] = []
    taken: dict[str, str] = {}
    for column in file_columns:
        target = columns.get(column, column)
        if target is None:
            ignored.append(column)
            continue
        field = schema.find_field(target)
        if field is None:
            unknown.append(column)
            continue
        if field.computed or field.type is FieldType.attachment:
            ignored.append(column)
            continue
        if field.name in taken:
            raise InputError(
                f"Columns {taken[field.name]!r} and {column!r} of {name} both go to field {field.name!r}; "
                "map one of them elsewhere with columns, or to null to leave it out."
            )
        taken[field.name] = column
        mapping[column] = field
    if unknown:
        fields = ", ".join(repr(f.name) for f in schema.fields[:40])
        raise InputError(
            f"Columns {unknown} of {name} are not fields of table {schema.name!r} (its fields are {fields}). "
            'Map them with columns, like {"' + unknown[0] + '": "<field>"}, or to null to leave them out.'
        )
    if not mapping:
        raise InputError(f"No column of {name} goes to a writable field of table {schema.name!r}.")
    return mapping, ignored


def _check(
    svc: Anytable, schema: TableSchema, parsed: Parsed, mapping: dict[str, FieldInfo], kind: Format
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str]]]:
    """Every row as create_records would store it, or why it cannot be (worker thread)."""
    make = json_reader if kind == "jsonl" else cell_reader
    # each cell read and coerced in one step, as create_records' coercion (record_coercer) would
    steps = [(column, field.name, make(field), field_coercer(field)) for column, field in mapping.items()]
    tz = svc.tz
    good: list[tuple[int, dict[str, Any]]] = []
    failed: list[tuple[int, str]] = list(parsed.errors)
    for line, cells in parsed.rows:
        row: dict[str, Any] = {}
        given = False
        try:
            for column, field_name, read, coerce in steps:
                value = read(cells.get(column))
                if value is None:
                    continue
                given = True
                canonical = coerce(value, tz)
                if canonical is not None and canonical != "" and canonical != []:
                    row[field_name] = canonical
        except InputError as exc:
            failed.append((line, exc.message))
            continue
        if not given:
            failed.append((line, "no value in any imported column"))
            continue
        good.append((line, row))
    return good, failed


def _provider_check(
    provider: Any, schema: TableSchema, good: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, str]]:
    """Rows the provider's own rules refuse (length limits, whole numbers...), by line."""
    rows = [row for _, row in good]
    try:
        provider.check_rows(schema, rows, update=False)
        return []
    except InputError:
        pass
    failed: list[tuple[int, str]] = []
    for line, row in good:
        try:
            provider.check_rows(schema, [row], update=False)
        except InputError as exc:
            failed.append((line, exc.message.removeprefix("Record 0: ")))
    return failed


__all__ = ["MAX_IMPORT_ROWS", "export_records", "import_records"]
