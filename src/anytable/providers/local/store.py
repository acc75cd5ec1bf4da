"""The embedded table store: one SQLite file, no account.

Layout: catalogue tables ``at_tables`` and ``at_fields``; one SQLite table per user table
(``"r_<table id>"``) with a column per stored field (``"f_<field id>"``) plus ``seq`` (insertion
order, also the auto number), ``rid`` (record id), ``created_ms`` and ``modified_ms``. Scalar
values sit in their column, lists and objects as JSON text, empty values as NULL. Every call runs
in a worker thread on one connection; each tool call is one transaction (all or nothing).
"""

from __future__ import annotations

import itertools
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from anytable.errors import InputError, NotFoundError, NotSupportedError
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
)
from anytable.providers.local.aggregate import key_lookup, run_aggregate
from anytable.providers.local.sql import JSON_LIST_TYPES, after, compile_where, order_by
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema
from anytable.schemas.filters import Node

if TYPE_CHECKING:
    from datetime import tzinfo

    from anytable.schemas.aggregate import Plan

T = TypeVar("T")

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
# Computed fields read a row column instead of a column of their own.
SYSTEM_COLUMNS = {
    FieldType.created_time: "created_ms",
    FieldType.modified_time: "modified_ms",
    FieldType.auto_number: "seq",
}
JSON_TYPES = JSON_LIST_TYPES | {FieldType.url}

CATALOGUE = """
CREATE TABLE IF NOT EXISTS at_tables (
    id TEXT PRIMARY KEY, base TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
    UNIQUE (base, name)
);
CREATE TABLE IF NOT EXISTS at_fields (
    id TEXT PRIMARY KEY, table_id TEXT NOT NULL REFERENCES at_tables(id) ON DELETE CASCADE,
    name TEXT NOT NULL, type TEXT NOT NULL, options TEXT, position INTEGER NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT 0, UNIQUE (table_id, name)
);
"""


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _new_id(prefix: str, nbytes: int = 6) -> str:
    return prefix + secrets.token_hex(nbytes)


_record_clock = itertools.count(time.time_ns() // 1000)


def _record_ids(n: int) -> list[str]:
    """Record ids that sort by creation (index-friendly for bulk inserts) and do not collide:
    a microsecond-seeded counter plus random bits."""
    tail = secrets.token_bytes(3 * n).hex()
    return [f"rec{next(_record_clock):013x}{tail[6 * i : 6 * i + 6]}" for i in range(n)]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_attachment(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and set(item) <= {"name", "url", "type", "size"}
        and isinstance(item.get("name"), str)
        and isinstance(item.get("url"), str)
        and isinstance(item.get("type", ""), str)
        and (isinstance(item.get("size", 0), int) and not isinstance(item.get("size"), bool))
    )


def _icontains(haystack: Any, needle: Any) -> int:
    if haystack is None or needle is None:
        return 0
    return int(str(needle).lower() in str(haystack).lower())


class LocalProvider(Provider):
    id = "local"
    title = "local"
    open_world = False
    capabilities = Capabilities(field_types=LOCAL_TYPES, native_sort=True, native=["aggregate", "upsert"])
    limits = Limits(
        page_size=500,
        create_batch=1_000_000,
        update_batch=1_000_000,
        delete_batch=1_000_000,
        get_batch=10_000,
    )

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.create_function("anytable_icontains", 2, _icontains, deterministic=True)
            conn.executescript(CATALOGUE)
            self._conn = conn
        return self._conn

    async def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        def work() -> T:
            with self._lock:
                conn = self._connect()
                if not write:
                    return fn(conn)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result

        return await anyio.to_thread.run_sync(work)

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def credentials(self) -> dict[str, str]:
        return {"ANYTABLE_LOCAL_PATH": str(self.path)}

    async def check(self) -> str:
        count = await self._run(lambda c: c.execute("SELECT count(*) FROM at_tables").fetchone()[0])
        return f"SQLite file {self.path} ({count} tables)"

    # ------------------------------------------------------------------------ catalogue
    @staticmethod
    def _table_row(conn: sqlite3.Connection, base: str, table_id: str) -> tuple[str, str]:
        row = conn.execute(
            "SELECT id, name FROM at_tables WHERE base = ? AND id = ?", (base, table_id)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"No table {table_id!r} in local base {base!r}.")
        return row

    @staticmethod
    def _fields(conn: sqlite3.Connection, table_id: str) -> list[FieldInfo]:
        rows = conn.execute(
            "SELECT id, name, type, options, is_primary FROM at_fields WHERE table_id = ? ORDER BY position",
            (table_id,),
        ).fetchall()
        return [
            FieldInfo(
                id=fid,
                name=name,
                type=FieldType(ftype),
                options=json.loads(options) if options is not None else None,
                primary=bool(primary),
            )
            for fid, name, ftype, options, primary in rows
        ]

    async def list_tables(self, base: str) -> list[TableInfo]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT id, name FROM at_tables WHERE base = ? ORDER BY created_ms, rowid", (base,)
            ).fetchall()
        )
        return [TableInfo(id=i, name=n) for i, n in rows]

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        def work(conn: sqlite3.Connection) -> TableSchema:
            tid, name = self._table_row(conn, base, table_id)
            return TableSchema(id=tid, name=name, fields=self._fields(conn, tid))

        return await self._run(work)

    def check_field_type(self, spec: FieldSpec) -> None:
        if spec.type.value not in LOCAL_TYPES:
            reason = "it has no users" if "by" in spec.type.value else "it has no formula engine"
            raise NotSupportedError(
                f"Field {spec.name!r}: type {spec.type.value!r} is not supported by local ({reason}); use one of "
                f"{', '.join(LOCAL_TYPES)}."
            )

    @staticmethod
    def _add_field(
        conn: sqlite3.Connection, table_id: str, spec: FieldSpec, position: int, primary: bool
    ) -> FieldInfo:
        fid = _new_id("fld", 5)
        conn.execute(
            "INSERT INTO at_fields (id, table_id, name, type, options, position, is_primary) VALUES (?,?,?,?,?,?,?)",
            (
                fid,
                table_id,
                spec.name,
                spec.type.value,
                json.dumps(spec.options) if spec.options is not None else None,
                position,
                int(primary),
            ),
        )
        if spec.type not in SYSTEM_COLUMNS:
            conn.execute(f"ALTER TABLE {_quote('r_' + table_id)} ADD COLUMN {_quote('f_' + fid)}")
        return FieldInfo(id=fid, name=spec.name, type=spec.type, options=spec.options, primary=primary)

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        specs = list(fields) or [FieldSpec(name="Name", type=FieldType.text)]

        def work(conn: sqlite3.Connection) -> TableInfo:
            if conn.execute("SELECT 1 FROM at_tables WHERE base = ? AND name = ?", (base, name)).fetchone():
                raise InputError(f"A table named {name!r} already exists in local base {base!r}.")
            tid = _new_id("tbl", 5)
            conn.execute(
                "INSERT INTO at_tables (id, base, name, created_ms) VALUES (?,?,?,?)",
                (tid, base, name, int(time.time() * 1000)),
            )
            conn.execute(
                f"CREATE TABLE {_quote('r_' + tid)} (seq INTEGER PRIMARY KEY AUTOINCREMENT, rid TEXT NOT NULL UNIQUE, "
                "created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL)"
            )
            for i, spec in enumerate(specs):
                self._add_field(conn, tid, spec, i, primary=i == 0)
            return TableInfo(id=tid, name=name)

        return await self._run(work, write=True)

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        def work(conn: sqlite3.Connection) -> TableInfo:
            self._table_row(conn, base, table_id)
            clash = conn.execute(
                "SELECT 1 FROM at_tables WHERE base = ? AND name = ? AND id != ?", (base, name, table_id)
            ).fetchone()
            if clash:
                raise InputError(f"A table named {name!r} already exists in local base {base!r}.")
            conn.execute("UPDATE at_tables SET name = ? WHERE id = ?", (name, table_id))
            return TableInfo(id=table_id, name=name)

        return await self._run(work, write=True)

    async def delete_table(self, base: str, table_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._table_row(conn, base, table_id)
            conn.execute("DELETE FROM at_fields WHERE table_id = ?", (table_id,))
            conn.execute("DELETE FROM at_tables WHERE id = ?", (table_id,))
            conn.execute(f"DROP TABLE IF EXISTS {_quote('r_' + table_id)}")

        await self._run(work, write=True)

    async def create_field(self, base: str, table: TableSchema, spec: FieldSpec) -> FieldInfo:
        def work(conn: sqlite3.Connection) -> FieldInfo:
            self._table_row(conn, base, table.id)
            if conn.execute(
                "SELECT 1 FROM at_fields WHERE table_id = ? AND name = ?", (table.id, spec.name)
            ).fetchone():
                raise InputError(f"Table {table.name!r} already has a field named {spec.name!r}.")
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM at_fields WHERE table_id = ?", (table.id,)
            ).fetchone()[0]
            return self._add_field(conn, table.id, spec, position, primary=False)

        return await self._run(work, write=True)

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        def work(conn: sqlite3.Connection) -> FieldInfo:
            self._table_row(conn, base, table.id)
            new = field.model_copy()
            if name is not None and name != field.name:
                conn.execute("UPDATE at_fields SET name = ? WHERE id = ?", (name, field.id))
                new.name = name
            if options is not None:
                conn.execute("UPDATE at_fields SET options = ? WHERE id = ?", (json.dumps(options), field.id))
                self._drop_removed_options(conn, table.id, field, options)
                new.options = options
            return new

        return await self._run(work, write=True)

    @staticmethod
    def _drop_removed_options(
        conn: sqlite3.Connection, table_id: str, field: FieldInfo, options: list[str]
    ) -> None:
        """Values that are no longer options are removed, as the hosted providers do."""
        table, col = _quote("r_" + table_id), _quote("f_" + field.id)
        if field.type is FieldType.single_select:
            marks = ",".join("?" * len(options)) or "NULL"
            conn.execute(f"UPDATE {table} SET {col} = NULL WHERE {col} NOT IN ({marks})", options)
            return
        keep = set(options)
        rows = conn.execute(f"SELECT seq, {col} FROM {table} WHERE {col} IS NOT NULL").fetchall()
        for seq, raw in rows:
            values = json.loads(raw)
            kept = [v for v in values if v in keep]
            if kept != values:
                conn.execute(
                    f"UPDATE {table} SET {col} = ? WHERE seq = ?", (json.dumps(kept) if kept else None, seq)
                )

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._table_row(conn, base, table.id)
            conn.execute("DELETE FROM at_fields WHERE id = ?", (field.id,))
            if field.type not in SYSTEM_COLUMNS:
                conn.execute(f"ALTER TABLE {_quote('r_' + table.id)} DROP COLUMN {_quote('f_' + field.id)}")

        await self._run(work, write=True)

    # ------------------------------------------------------------------------ records
    @staticmethod
    def _column(field: FieldInfo) -> str:
        return SYSTEM_COLUMNS.get(field.type) or _quote("f_" + field.id)

    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        return CompiledFilter(native=compile_where(where, self._column), exact=True)

    @staticmethod
    def _sql_writer(field: FieldInfo) -> Callable[[Any], Any]:
        """Canonical value -> column value (empty values become NULL), chosen once per field."""
        if field.type is FieldType.checkbox:
            return lambda v: None if v is None else (1 if v else 0)
        if field.type in JSON_TYPES:
            return lambda v: _JSON.encode(v) if v else None
        return lambda v: None if v == "" else v

    @staticmethod
    def _from_sql(field: FieldInfo, value: Any) -> Any:
        if value is None:
            return None
        if field.type is FieldType.checkbox:
            return bool(value)
        if field.type in JSON_TYPES:
            return json.loads(value)
        return value

    def _select(self, fields: list[FieldInfo]) -> str:
        return ", ".join(["rid"] + [self._column(f) for f in fields])

    def _row_to_record(self, fields: list[FieldInfo], row: tuple[Any, ...]) -> Record:
        values: dict[str, Any] = {}
        for field, raw in zip(fields, row[1:], strict=False):
            value = self._from_sql(field, raw)
            if value is not None:
                values[field.name] = value
        return {"id": row[0], "fields": values}

    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page:
        fields = [f for f in table.fields if request.fields is None or f.name in request.fields]
        where_sql, where_params = request.native_filter or ("1", [])
        parts = order_by(request.sort, self._column)
        keys_sql = ", ".join(f"{expr} AS k{i}" for i, (expr, _) in enumerate(parts))
        order_sql = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, desc in parts)
        params = list(where_params)
        clause = where_sql
        if request.token:
            after_sql, after_params = after(parts, json.loads(request.token))
            clause = f"({where_sql}) AND {after_sql}"
            params += after_params
        sql = (
            f"SELECT {self._select(fields)}, {keys_sql} FROM {_quote('r_' + table.id)} "
            f"WHERE {clause} ORDER BY {order_sql} LIMIT ?"
        )
        params.append(request.page_size + 1)

        def work(conn: sqlite3.Connection) -> Page:
            self._table_row(conn, base, table.id)
            rows = conn.execute(sql, params).fetchall()
            more = len(rows) > request.page_size
            rows = rows[: request.page_size]
            records = [self._row_to_record(fields, row[: len(fields) + 1]) for row in rows]
            token = json.dumps(list(rows[-1][len(fields) + 1 :])) if more and rows else None
            return Page(records=records, next_token=token)

        return await self._run(work)

    async def aggregate(
        self, base: str, table: TableSchema, native_filter: Any, plan: Plan, tz: tzinfo
    ) -> Aggregated | None:
        def work(conn: sqlite3.Connection) -> Aggregated | None:
            self._table_row(conn, base, table.id)
            name = _quote("r_" + table.id)
            return run_aggregate(conn, plan, name, self._column, native_filter or ("1", []), tz)

        return await self._run(work)

    async def find_keys(
        self, base: str, table: TableSchema, fields: list[FieldInfo], keys: list[list[Any]]
    ) -> list[tuple[list[Any], list[str]]] | None:
        def work(conn: sqlite3.Connection) -> list[tuple[list[Any], list[str]]] | None:
            self._table_row(conn, base, table.id)
            return key_lookup(conn, _quote("r_" + table.id), self._column, fields, keys)

        return await self._run(work, write=True)  # it may create the key's index

    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[Record]:
        fields = table.fields
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {self._select(fields)} FROM {_quote('r_' + table.id)} WHERE rid IN ({marks})"

        def work(conn: sqlite3.Connection) -> list[Record]:
            self._table_row(conn, base, table.id)
            return [self._row_to_record(fields, row) for row in conn.execute(sql, ids).fetchall()]

        return await self._run(work)

    def _check_links(self, conn: sqlite3.Connection, table: TableSchema, rows: list[dict[str, Any]]) -> None:
        """Link values must name records of the linked table (of this base, when none is named)."""
        for field in (f for f in table.fields if f.type is FieldType.link):
            wanted = {rid for row in rows for rid in row.get(field.name) or []}
            if not wanted:
                continue
            if field.options:
                targets = [field.options[0]]
                if not conn.execute("SELECT 1 FROM at_tables WHERE id = ?", (targets[0],)).fetchone():
                    raise InputError(
                        f"Field {field.name!r} links to table {targets[0]}, which no longer exists."
                    )
            else:
                base = conn.execute("SELECT base FROM at_tables WHERE id = ?", (table.id,)).fetchone()[0]
                targets = [tid for (tid,) in conn.execute("SELECT id FROM at_tables WHERE base = ?", (base,))]
            found: set[str] = set()
            marks = ",".join("?" * len(wanted))
            for tid in targets:
                sql = f"SELECT rid FROM {_quote('r_' + tid)} WHERE rid IN ({marks})"
                found |= {r for (r,) in conn.execute(sql, list(wanted))}
            missing = sorted(wanted - found)
            if missing:
                where = f"table {field.options[0]}" if field.options else "this base"
                raise InputError(
                    f"Field {field.name!r}: no records {', '.join(missing[:20])} in {where}; link values are "
                    "record ids of the linked table."
                )

    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:
        """Attachments here are metadata: each is {"name", "url", "type"?, "size"?}."""
        for field in (f for f in table.fields if f.type is FieldType.attachment):
            for i, row in enumerate(rows):
                for item in row.get(field.name) or []:
                    if not _is_attachment(item):
                        raise InputError(
                            f"Record {i}: field {field.name!r} takes attachments like "
                            f'{{"name": "a.pdf", "url": "https://...", "type"?: "application/pdf", "size"?: 1024}}; '
                            f"got {json.dumps(item, ensure_ascii=False)[:80]}."
                        )

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        stored = [f for f in table.fields if f.type not in SYSTEM_COLUMNS]
        cols = ", ".join(["rid", "created_ms", "modified_ms"] + [_quote("f_" + f.id) for f in stored])
        marks = ",".join("?" * (3 + len(stored)))
        sql = f"INSERT INTO {_quote('r_' + table.id)} ({cols}) VALUES ({marks})"
        now = int(time.time() * 1000)
        ids = _record_ids(len(rows))
        writers = [(f.name, self._sql_writer(f)) for f in stored]
        values = [
            (rid, now, now, *[write(row.get(name)) for name, write in writers])
            for rid, row in zip(ids, rows, strict=True)
        ]

        def work(conn: sqlite3.Connection) -> CreateResult:
            self._table_row(conn, base, table.id)
            self._check_links(conn, table, rows)
            conn.executemany(sql, values)
            return CreateResult(ids=list(ids))

        return await self._run(work, write=True)

    def _missing(self, conn: sqlite3.Connection, table: TableSchema, ids: list[str]) -> list[str]:
        found: set[str] = set()
        name = _quote("r_" + table.id)
        for i in range(0, len(ids), 10_000):
            part = ids[i : i + 10_000]
            marks = ",".join("?" * len(part))
            found |= {r for (r,) in conn.execute(f"SELECT rid FROM {name} WHERE rid IN ({marks})", part)}
        return [i for i in ids if i not in found]

    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        by_name = table.field_by_name()
        now = int(time.time() * 1000)

        def work(conn: sqlite3.Connection) -> None:
            self._table_row(conn, base, table.id)
            missing = self._missing(conn, table, [rid for rid, _ in rows])
            if missing:
                raise NotFoundError(
                    f"No records with ids {', '.join(missing[:20])} in table {table.name!r}; nothing was updated. "
                    "Check the ids with query_records."
                )
            self._check_links(conn, table, [values for _, values in rows])
            groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for rid, values in rows:
                names = tuple(sorted(values))
                groups.setdefault(names, []).append(
                    (*[self._sql_writer(by_name[n])(values[n]) for n in names], now, rid)
                )
            for names, params in groups.items():
                sets = ", ".join(f"{_quote('f_' + by_name[n].id)} = ?" for n in names)
                conn.executemany(
                    f"UPDATE {_quote('r_' + table.id)} SET {sets}, modified_ms = ? WHERE rid = ?", params
                )

        await self._run(work, write=True)

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._table_row(conn, base, table.id)
            missing = self._missing(conn, table, ids)
            if missing:
                raise NotFoundError(
                    f"No records with ids {', '.join(missing[:20])} in table {table.name!r}; nothing was deleted."
                )
            conn.executemany(f"DELETE FROM {_quote('r_' + table.id)} WHERE rid = ?", [(i,) for i in ids])

        await self._run(work, write=True)
