"""The ``local`` provider: tables kept in a database of the user's (SQLite by default).

Each provider call is one transaction on the backend (all or nothing); the catalogue and DDL are
in ``catalog.py``, the filter and sort SQL in ``sql.py``, the database differences in the backend.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import anyio
import httpx

from anytable.config import Settings
from anytable.errors import NotFoundError, NotSupportedError, ProviderError
from anytable.masking import mask_url
from anytable.providers.base import (
    Aggregated,
    Capabilities,
    CompiledFilter,
    CreateResult,
    Limits,
    Page,
    PageRequest,
    Provider,
    Record,
    Sent,
)
from anytable.providers.local import catalog, records
from anytable.providers.local.aggregate import key_lookup, run_aggregate
from anytable.providers.local.backend import SYSTEM_COLUMNS, Backend, Db, Row, keep, store_backend
from anytable.providers.local.catalog import field_column, records_table
from anytable.providers.local.files import MAX_FILE, FileStore
from anytable.providers.local.sql import after, compile_where, order_by
from anytable.providers.local.sqlite import SqliteBackend
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema
from anytable.schemas.filters import Node

if TYPE_CHECKING:
    from datetime import tzinfo

    from anytable.schemas.aggregate import Plan

LOCAL_TYPES = [
    "text",
    "number",
    "checkbox",
    "single_select",
    "multi_select",
    "date",
    "user",
    "url",
    "email",
    "phone",
    "link",
    "attachment",
    "created_time",
    "modified_time",
    "auto_number",
]


def _fingerprint(fields: list[FieldInfo]) -> tuple[Any, ...]:
    return tuple((f.id, f.name, f.type, tuple(f.options or ())) for f in fields)


# own(db, base, table, [(record id, values)]): see LocalProvider._owning_files
OwnFiles = Callable[
    ["Db", str, TableSchema, list[tuple[str, dict[str, Any]]]],
    Awaitable[list[tuple[str, dict[str, Any]]] | None],
]


class LocalProvider(Provider):
    id = "local"
    title = "local"
    open_world = False
    capabilities = Capabilities(
        field_types=LOCAL_TYPES,
        native_sort=True,
        native=["aggregate", "write_where", "upsert"],
        attachments=["upload", "download"],
    )
    # Writes go 1,000 records per transaction, so that a large write reports progress like the
    # remote providers' (and a long write does not hold the file's write lock throughout).
    limits = Limits(
        page_size=500,
        create_batch=1_000,
        update_batch=1_000,
        delete_batch=1_000,
        get_batch=10_000,
    )

    @classmethod
    def from_settings(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Self:
        return cls(store_backend(settings))

    @classmethod
    def masked_credentials(cls, settings: Settings) -> dict[str, str]:
        if settings.local_url:
            return {"ANYTABLE_LOCAL_URL": mask_url(settings.local_url)}
        return {"ANYTABLE_LOCAL_PATH": str(settings.local_db_path())}

    def __init__(self, store: Path | Backend, files: FileStore | None = None) -> None:
        self.backend = store if isinstance(store, Backend) else SqliteBackend(store)
        self.dialect = self.backend.dialect
        self.files = files or self.backend.file_store()  # SQLite: a folder beside it; PostgreSQL: in it
        self._verified: dict[str, tuple[int, tuple[Any, ...]]] = {}  # table id -> (version, fields)
        self._cursor_key: bytes | None = None

    # ------------------------------------------------------------------------ plumbing
    async def aclose(self) -> None:
        await self.backend.aclose()

    def credentials(self) -> dict[str, str]:
        return self.backend.credentials()

    async def check(self) -> str:
        async with self.backend.transaction() as db:
            row = await db.fetchone("SELECT count(*) FROM at_tables")
            version = await catalog.store_version(db, self.dialect)
        assert row is not None
        return f"{self.backend.describe()} (store version {version}, {row[0]} tables)"

    async def schema_stamp(self, base: str) -> int:
        """The store's schema counter: it changes with every table or field change, by any process."""
        async with self.backend.transaction() as db:
            return int(await catalog.meta(db, "schema_version"))

    async def cursor_key(self) -> bytes:
        """The key that signs this store's cursors, kept in the store so every replica shares it."""
        if self._cursor_key is None:
            async with self.backend.transaction() as db:
                self._cursor_key = bytes.fromhex(await catalog.meta(db, "cursor_key"))
        return self._cursor_key

    async def _same_schema(self, db: Db, base: str, table: TableSchema, lock: str = "") -> None:
        """The table exists and ``table`` (the schema the call was checked against) is still its
        schema: another process may have changed it since (checked again only when the store's
        schema counter moved)."""
        _, _, version = await catalog.table_row(db, base, table.id, lock)
        mark = (version, _fingerprint(table.fields))
        if self._verified.get(table.id) == mark:
            return
        if _fingerprint(await catalog.fields(db, table.id)) != mark[1]:
            raise ProviderError(
                f"Table {table.name!r} was changed by another process a moment ago; nothing was read or "
                "written. Call again: the new fields are used from now on.",
                kind="transient",
                provider="local",
            )
        self._verified[table.id] = mark

    # ------------------------------------------------------------------------ catalogue
    async def list_tables(self, base: str) -> list[TableInfo]:
        async with self.backend.transaction() as db:
            return await catalog.list_tables(db, self.dialect, base)

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        async with self.backend.transaction() as db:
            tid, name, version = await catalog.table_row(db, base, table_id)
            schema = TableSchema(id=tid, name=name, fields=await catalog.fields(db, tid))
        self._verified[tid] = (version, _fingerprint(schema.fields))
        return schema

    def check_field_type(self, spec: FieldSpec) -> None:
        if spec.type.value not in LOCAL_TYPES:
            reason = "it has no users" if "by" in spec.type.value else "it has no formula engine"
            raise NotSupportedError(
                f"Field {spec.name!r}: type {spec.type.value!r} is not supported by local ({reason}); use one of "
                f"{', '.join(LOCAL_TYPES)}."
            )

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        specs = list(fields) or [FieldSpec(name="Name", type=FieldType.text)]
        async with self.backend.transaction(write=True) as db:
            return await catalog.create_table(db, self.dialect, base, name, specs)

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        async with self.backend.transaction(write=True) as db:
            return await catalog.rename_table(db, base, table_id, name)

    async def delete_table(self, base: str, table_id: str) -> None:
        async with self.backend.transaction(write=True) as db:
            await catalog.delete_table(db, base, table_id)
            await self.files.forget(db, base, table_id, None)
        await self.files.sweep(base, table_id, None)

    async def create_field(self, base: str, table: TableSchema, spec: FieldSpec) -> FieldInfo:
        async with self.backend.transaction(write=True) as db:
            await catalog.table_row(db, base, table.id, self.dialect.lock_update)
            return await catalog.create_field(db, self.dialect, table.id, table.name, spec)

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        async with self.backend.transaction(write=True) as db:
            await catalog.table_row(db, base, table.id, self.dialect.lock_update)
            return await catalog.update_field(db, self.dialect, table.id, field, name, options)

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        async with self.backend.transaction(write=True) as db:
            await catalog.table_row(db, base, table.id, self.dialect.lock_update)
            await catalog.delete_field(db, table.id, field)

    # ------------------------------------------------------------------------ records
    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        return CompiledFilter(native=compile_where(where, field_column, self.dialect), exact=True)

    def _to_records(self, fields: list[FieldInfo], rows: list[Row]) -> list[Record]:
        """Rows (``rid``, then a column per field, then perhaps sort keys) as canonical records,
        converted a column at a time (pages are read whole: most columns need no conversion)."""
        if not rows:
            return []
        names = [f.name for f in fields]
        columns = list(zip(*rows, strict=True))
        values = [
            column if read is keep else list(map(read, column))
            for read, column in zip(map(self.dialect.reader, fields), columns[1:], strict=False)
        ]
        return [
            {"id": rid, "fields": {n: v for n, v in zip(names, row, strict=False) if v is not None}}
            for rid, *row in zip(columns[0], *values, strict=True)
        ]

    @staticmethod
    def _select(fields: list[FieldInfo]) -> str:
        return ", ".join(["rid"] + [field_column(f) for f in fields])

    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page:
        fields = [f for f in table.fields if request.fields is None or f.name in request.fields]
        where_sql, where_params = request.native_filter or ("TRUE", [])
        parts = order_by(request.sort, field_column, self.dialect)
        keys_sql = ", ".join(f"{expr} AS k{i}" for i, (expr, _) in enumerate(parts))
        order_sql = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, desc in parts)
        params = list(where_params)
        clause = where_sql
        if request.token:
            after_sql, after_params = after(parts, json.loads(request.token), self.dialect)
            clause = f"({where_sql}) AND {after_sql}"
            params += after_params
        sql = (
            f"SELECT {self._select(fields)}, {keys_sql} FROM {records_table(table.id)} "
            f"WHERE {clause} ORDER BY {order_sql} LIMIT ?"
        )
        params.append(request.page_size + 1)
        async with self.backend.transaction() as db:
            await self._same_schema(db, base, table)
            rows = await db.fetchall(sql, params)
        more = len(rows) > request.page_size
        rows = rows[: request.page_size]
        page = self._to_records(fields, [row[: len(fields) + 1] for row in rows])
        keys = [self.dialect.plain(k) for k in rows[-1][len(fields) + 1 :]] if more and rows else None
        return Page(records=page, next_token=json.dumps(keys) if keys is not None else None)

    async def aggregate(
        self, base: str, table: TableSchema, native_filter: Any, plan: Plan, tz: tzinfo
    ) -> Aggregated | None:
        async with self.backend.transaction() as db:
            await self._same_schema(db, base, table)
            where: tuple[str, list[Any]] = native_filter or ("TRUE", [])
            return await run_aggregate(
                db, self.dialect, plan, records_table(table.id), field_column, where, tz
            )

    async def write_where(
        self,
        base: str,
        table: TableSchema,
        native_filter: Any,
        values: dict[str, Any] | None,
        at_most: int | None,
    ) -> int | None:
        if values is not None and any(
            values.get(f.name) for f in table.fields if f.type is FieldType.attachment
        ):
            return None  # record by record instead (update_batch): each gets its own copy of a kept file
        where_sql, where_params = native_filter or ("TRUE", [])
        name = records_table(table.id)
        gone: list[str] = []  # deleted records whose attachment files go with them
        async with self.backend.transaction(write=True) as db:
            await self._same_schema(db, base, table, self.dialect.lock_share)
            row = await db.fetchone(f"SELECT COUNT(*) FROM {name} WHERE {where_sql}", where_params)
            matched = int(row[0]) if row else 0
            if matched == 0 or (at_most is not None and matched > at_most):
                return matched
            if values is None:
                if any(f.type is FieldType.attachment for f in table.fields):
                    rows = await db.fetchall(f"SELECT rid FROM {name} WHERE {where_sql}", where_params)
                    gone = [str(r[0]) for r in rows]
                    await self.files.forget(db, base, table.id, gone)
                await db.execute(f"DELETE FROM {name} WHERE {where_sql}", where_params)
            else:
                await records.check_links(db, table, [values])
                by_name = table.field_by_name()
                names = sorted(values)
                sets = ", ".join(f"{field_column(by_name[n])} = ?" for n in names)
                params = [self.dialect.writer(by_name[n])(values[n]) for n in names]
                await db.execute(
                    f"UPDATE {name} SET {sets}, modified_ms = ? WHERE {where_sql}",
                    [*params, int(time.time() * 1000), *where_params],
                )
        if gone:
            await self.files.sweep(base, table.id, gone)
        return matched

    async def find_keys(
        self, base: str, table: TableSchema, fields: list[FieldInfo], keys: list[list[Any]]
    ) -> list[tuple[list[Any], list[str]]] | None:
        async with self.backend.transaction(write=True) as db:  # it may create the key's index
            await self._same_schema(db, base, table, self.dialect.lock_share)
            return await key_lookup(db, self.dialect, records_table(table.id), field_column, fields, keys)

    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[Record]:
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {self._select(table.fields)} FROM {records_table(table.id)} WHERE rid IN ({marks})"
        async with self.backend.transaction() as db:
            await self._same_schema(db, base, table)
            rows = await db.fetchall(sql, ids)
        return self._to_records(table.fields, rows)

    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:
        records.check_attachments(table, rows)

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        stored = [f for f in table.fields if f.type not in SYSTEM_COLUMNS]
        cols = ["rid", "created_ms", "modified_ms"] + [field_column(f) for f in stored]
        now = int(time.time() * 1000)
        ids = records.record_ids(len(rows))

        def values_of(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            columns = [list(map(self.dialect.writer(f), [row.get(f.name) for row in rows])) for f in stored]
            return list(zip(ids, itertools.repeat(now), itertools.repeat(now), *columns))

        values = values_of(rows)
        async with self._owning_files() as own, self.backend.transaction(write=True) as db:
            await self._same_schema(db, base, table, self.dialect.lock_share)
            await records.check_links(db, table, rows)
            owned = await own(db, base, table, list(zip(ids, rows, strict=True)))
            if owned is not None:
                values = values_of([row for _, row in owned])
            await db.insert(records_table(table.id), cols, values)
        return CreateResult(ids=list(ids))

    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        by_name = table.field_by_name()
        now = int(time.time() * 1000)

        def groups_of(rows: list[tuple[str, dict[str, Any]]]) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
            groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for rid, values in rows:
                names = tuple(sorted(values))
                groups.setdefault(names, []).append(
                    (*[self.dialect.writer(by_name[n])(values[n]) for n in names], now, rid)
                )
            return groups

        groups = groups_of(rows)
        async with self._owning_files() as own, self.backend.transaction(write=True) as db:
            await self._same_schema(db, base, table, self.dialect.lock_share)
            absent = await records.missing(db, table.id, [rid for rid, _ in rows])
            if absent:
                raise NotFoundError(
                    f"No records with ids {', '.join(absent[:20])} in table {table.name!r}; nothing was updated. "
                    "Check the ids with query_records."
                )
            await records.check_links(db, table, [values for _, values in rows])
            owned = await own(db, base, table, rows)
            if owned is not None:
                groups = groups_of(owned)
            for names, params in groups.items():
                sets = ", ".join(f"{field_column(by_name[n])} = ?" for n in names)
                await db.executemany(
                    f"UPDATE {records_table(table.id)} SET {sets}, modified_ms = ? WHERE rid = ?", params
                )

    @asynccontextmanager
    async def _owning_files(self) -> AsyncIterator[OwnFiles]:
        """``own(db, base, table, [(record id, values)])``: the rows with a file of their own for
        every attachment item of a file kept for another record (an agent copying an attachment),
        or None when no item needed one. Copies made by a write that then fails are deleted."""
        made: list[dict[str, Any]] = []

        async def own(
            db: Db, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
        ) -> list[tuple[str, dict[str, Any]]] | None:
            fields = [f.name for f in table.fields if f.type is FieldType.attachment]
            if not fields:
                return None
            out: list[tuple[str, dict[str, Any]]] = []
            for rid, values in rows:
                for name in fields:
                    items = values.get(name)
                    if not items:
                        continue
                    held = [await self.files.adopt(db, base, table.id, rid, item) for item in items]
                    copies = [new for new, old in zip(held, items, strict=True) if new is not old]
                    if copies:
                        made.extend(copies)
                        values = {**values, name: held}
                out.append((rid, values))
            return out if made else None

        try:
            yield own
        except BaseException:
            if self.files.rolls_back:
                raise
            with anyio.CancelScope(shield=True):
                for item in made:
                    with suppress(Exception):  # already gone with the rolled-back transaction
                        await self.files.discard(item)
            raise

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        async with self.backend.transaction(write=True) as db:
            await self._same_schema(db, base, table, self.dialect.lock_share)
            absent = await records.missing(db, table.id, ids)
            if absent:
                raise NotFoundError(
                    f"No records with ids {', '.join(absent[:20])} in table {table.name!r}; nothing was deleted."
                )
            await db.executemany(f"DELETE FROM {records_table(table.id)} WHERE rid = ?", [(i,) for i in ids])
            await self.files.forget(db, base, table.id, ids)
        await self.files.sweep(base, table.id, ids)

    # ------------------------------------------------------------------------ attachments
    max_attachment_bytes = MAX_FILE

    async def upload_file(
        self, base: str, table: TableSchema, record_id: str, path: Path, sent: Sent
    ) -> dict[str, Any]:
        return await self.files.store(base, table.id, record_id, path, sent)

    async def discard_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> None:
        await self.files.discard(item)

    def read_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> AsyncIterator[bytes]:
        return self.files.read(item)
