"""The store's catalogue and DDL: which tables and fields exist, and their record tables.

Layout: catalogue tables ``at_tables`` and ``at_fields``; one table per user table
(``"r_<table id>"``) with a column per stored field (``"f_<field id>"``) plus ``seq`` (insertion
order, also the auto number), ``rid`` (record id), ``created_ms`` and ``modified_ms``. Scalar
values sit in their column, lists and objects as JSON, empty values as NULL. Every function here
runs inside a transaction the caller opened (see ``backend.py``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from anytable.errors import ConfigError, InputError, NotFoundError
from anytable.providers.local.backend import SYSTEM_COLUMNS, Db, Dialect, quote
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo


def _catalogue(d: Dialect) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS at_tables (
    id TEXT PRIMARY KEY, base TEXT NOT NULL, name TEXT NOT NULL, created_ms BIGINT NOT NULL,{d.catalogue_order_column}
    UNIQUE (base, name)
)""",
        """CREATE TABLE IF NOT EXISTS at_fields (
    id TEXT PRIMARY KEY, table_id TEXT NOT NULL REFERENCES at_tables(id) ON DELETE CASCADE,
    name TEXT NOT NULL, type TEXT NOT NULL, options TEXT, position INTEGER NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT 0, UNIQUE (table_id, name)
)""",
    ]


def _meta(d: Dialect) -> list[str]:
    return ["CREATE TABLE IF NOT EXISTS at_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"]


def _files(d: Dialect) -> list[str]:
    """Attachment files kept in the database (``dbfiles.py``): a row per file, its bytes in chunks."""
    return [
        """CREATE TABLE IF NOT EXISTS at_files (
    id TEXT PRIMARY KEY, base TEXT NOT NULL, table_id TEXT NOT NULL, record_id TEXT NOT NULL,
    name TEXT NOT NULL, size BIGINT NOT NULL, chunks INTEGER NOT NULL, created_ms BIGINT NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS at_files_record ON at_files (table_id, record_id)",
        f"""CREATE TABLE IF NOT EXISTS at_file_chunks (
    file_id TEXT NOT NULL REFERENCES at_files(id) ON DELETE CASCADE, n INTEGER NOT NULL,
    data {d.bytes_type} NOT NULL, PRIMARY KEY (file_id, n)
)""",
    ]


# The store's own tables, versioned and forward-only: migration n brings a store from version n to
# n + 1 (version 0: a new file, or a store made before versions were kept, which has no at_meta).
# Append new migrations; never edit a released one.
MIGRATIONS: list[Callable[[Dialect], list[str]]] = [_catalogue, _meta, _files]
STORE_VERSION = len(MIGRATIONS)


def new_id(prefix: str, nbytes: int = 6) -> str:
    return prefix + secrets.token_hex(nbytes)


def records_table(table_id: str) -> str:
    return quote("r_" + table_id)


def field_column(field: FieldInfo) -> str:
    """The SQL expression holding a field's value."""
    return SYSTEM_COLUMNS.get(field.type) or quote("f_" + field.id)


async def store_version(db: Db, dialect: Dialect) -> int:
    if not await db.fetchone(dialect.table_exists, ("at_meta",)):
        return 0
    row = await db.fetchone("SELECT value FROM at_meta WHERE key = 'store_version'")
    return int(row[0]) if row else 0


async def migrate(db: Db, dialect: Dialect) -> int:
    """Bring the store's own tables to this version (inside the caller's transaction); its version."""
    if dialect.migration_lock:
        await db.execute(dialect.migration_lock)
    version = await store_version(db, dialect)
    if version > STORE_VERSION:
        raise ConfigError(
            f"The local store has version {version}, newer than this anytable knows ({STORE_VERSION}): "
            "upgrade anytable-mcp, or point ANYTABLE_LOCAL_PATH / ANYTABLE_LOCAL_URL at another store."
        )
    for step in MIGRATIONS[version:]:
        for statement in step(dialect):
            await db.execute(statement)
    if version < STORE_VERSION:
        upsert = "INSERT INTO at_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        keep = "INSERT INTO at_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
        await db.execute(upsert, ("store_version", str(STORE_VERSION)))
        await db.execute(keep, ("schema_version", "0"))
        await db.execute(keep, ("cursor_key", secrets.token_hex(32)))
    return STORE_VERSION


async def meta(db: Db, key: str) -> str:
    row = await db.fetchone("SELECT value FROM at_meta WHERE key = ?", (key,))
    assert row is not None, key
    return str(row[0])


async def bump_schema(db: Db) -> None:
    """Every change of tables or fields counts here first: other processes see it on their next call
    (and, on PostgreSQL, the row lock this takes makes schema changes one at a time)."""
    await db.execute(
        "UPDATE at_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'schema_version'"
    )


async def table_row(db: Db, base: str, table_id: str, lock: str = "") -> tuple[str, str, int]:
    """(id, name, schema version) of a table; ``lock`` is the dialect's row-lock clause, if any."""
    row = await db.fetchone(
        "SELECT t.id, t.name, m.value FROM at_tables t, at_meta m "
        f"WHERE m.key = 'schema_version' AND t.base = ? AND t.id = ?{lock}",
        (base, table_id),
    )
    if row is None:
        raise NotFoundError(f"No table {table_id!r} in local base {base!r}.")
    return row[0], row[1], int(row[2])


async def list_tables(db: Db, dialect: Dialect, base: str) -> list[TableInfo]:
    rows = await db.fetchall(
        f"SELECT id, name FROM at_tables WHERE base = ? ORDER BY {dialect.catalogue_order}", (base,)
    )
    return [TableInfo(id=i, name=n) for i, n in rows]


async def fields(db: Db, table_id: str) -> list[FieldInfo]:
    rows = await db.fetchall(
        "SELECT id, name, type, options, is_primary FROM at_fields WHERE table_id = ? ORDER BY position",
        (table_id,),
    )
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


async def add_field(
    db: Db, dialect: Dialect, table_id: str, spec: FieldSpec, position: int, primary: bool
) -> FieldInfo:
    fid = new_id("fld", 5)
    await db.execute(
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
        column = f"{quote('f_' + fid)} {dialect.column_type(spec.type)}".rstrip()
        await db.execute(f"ALTER TABLE {records_table(table_id)} ADD COLUMN {column}")
    return FieldInfo(id=fid, name=spec.name, type=spec.type, options=spec.options, primary=primary)


async def create_table(db: Db, dialect: Dialect, base: str, name: str, specs: list[FieldSpec]) -> TableInfo:
    await bump_schema(db)
    if await db.fetchone("SELECT 1 FROM at_tables WHERE base = ? AND name = ?", (base, name)):
        raise InputError(f"A table named {name!r} already exists in local base {base!r}.")
    tid = new_id("tbl", 5)
    await db.execute(
        "INSERT INTO at_tables (id, base, name, created_ms) VALUES (?,?,?,?)",
        (tid, base, name, int(time.time() * 1000)),
    )
    await db.execute(dialect.record_table("r_" + tid))
    for i, spec in enumerate(specs):
        await add_field(db, dialect, tid, spec, i, primary=i == 0)
    return TableInfo(id=tid, name=name)


async def rename_table(db: Db, base: str, table_id: str, name: str) -> TableInfo:
    await bump_schema(db)
    await table_row(db, base, table_id)
    clash = await db.fetchone(
        "SELECT 1 FROM at_tables WHERE base = ? AND name = ? AND id != ?", (base, name, table_id)
    )
    if clash:
        raise InputError(f"A table named {name!r} already exists in local base {base!r}.")
    await db.execute("UPDATE at_tables SET name = ? WHERE id = ?", (name, table_id))
    return TableInfo(id=table_id, name=name)


async def delete_table(db: Db, base: str, table_id: str) -> None:
    await bump_schema(db)
    await table_row(db, base, table_id)
    await db.execute("DELETE FROM at_fields WHERE table_id = ?", (table_id,))
    await db.execute("DELETE FROM at_tables WHERE id = ?", (table_id,))
    await db.execute(f"DROP TABLE IF EXISTS {records_table(table_id)}")


async def create_field(
    db: Db, dialect: Dialect, table_id: str, table_name: str, spec: FieldSpec
) -> FieldInfo:
    await bump_schema(db)
    if await db.fetchone("SELECT 1 FROM at_fields WHERE table_id = ? AND name = ?", (table_id, spec.name)):
        raise InputError(f"Table {table_name!r} already has a field named {spec.name!r}.")
    row = await db.fetchone(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM at_fields WHERE table_id = ?", (table_id,)
    )
    assert row is not None
    return await add_field(db, dialect, table_id, spec, row[0], primary=False)


async def update_field(
    db: Db, dialect: Dialect, table_id: str, field: FieldInfo, name: str | None, options: list[str] | None
) -> FieldInfo:
    await bump_schema(db)
    new = field.model_copy()
    if name is not None and name != field.name:
        await db.execute("UPDATE at_fields SET name = ? WHERE id = ?", (name, field.id))
        new.name = name
    if options is not None:
        await db.execute("UPDATE at_fields SET options = ? WHERE id = ?", (json.dumps(options), field.id))
        await _drop_removed_options(db, dialect, table_id, field, options)
        new.options = options
    return new


async def _drop_removed_options(
    db: Db, dialect: Dialect, table_id: str, field: FieldInfo, options: list[str]
) -> None:
    """Values that are no longer options are removed, as the hosted providers do."""
    table, col = records_table(table_id), field_column(field)
    if field.type is FieldType.single_select:
        marks = ",".join("?" * len(options)) or "NULL"
        await db.execute(f"UPDATE {table} SET {col} = NULL WHERE {col} NOT IN ({marks})", options)
        return
    keep, read, write = set(options), dialect.reader(field), dialect.writer(field)
    rows = await db.fetchall(f"SELECT seq, {col} FROM {table} WHERE {col} IS NOT NULL")
    for seq, raw in rows:
        values = read(raw)
        kept = [v for v in values if v in keep]
        if kept != values:
            await db.execute(f"UPDATE {table} SET {col} = ? WHERE seq = ?", (write(kept), seq))


async def delete_field(db: Db, table_id: str, field: FieldInfo) -> None:
    await bump_schema(db)
    await db.execute("DELETE FROM at_fields WHERE id = ?", (field.id,))
    if field.type not in SYSTEM_COLUMNS:
        await db.execute(f"ALTER TABLE {records_table(table_id)} DROP COLUMN {field_column(field)}")
