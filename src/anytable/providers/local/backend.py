"""The seam between the local store's logic and the database under it.

``catalog.py``, ``sql.py`` and ``provider.py`` are written once against two small interfaces:

- :class:`Db`: one connection inside one transaction, with ``?`` placeholders and async calls;
- :class:`Dialect`: the few SQL spellings and value conversions that differ between databases.

A :class:`Backend` opens transactions (``async with backend.transaction(write=...) as db``) and
owns the connections. ``sqlite.py`` is the default backend; another database adds a module with
its own Backend and Dialect and nothing else.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from anytable.config import Settings
from anytable.errors import ConfigError
from anytable.schemas.fields import USER_TYPES, FieldInfo, FieldType
from anytable.schemas.values import SPACE

if TYPE_CHECKING:
    from anytable.providers.local.files import FileStore

Row = tuple[Any, ...]
JSON_LIST_TYPES = frozenset({FieldType.multi_select, FieldType.link, FieldType.attachment}) | USER_TYPES
JSON_TYPES = JSON_LIST_TYPES | {FieldType.url}
# Computed fields read a row column instead of a column of their own.
SYSTEM_COLUMNS = {
    FieldType.created_time: "created_ms",
    FieldType.modified_time: "modified_ms",
    FieldType.auto_number: "seq",
}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_QUOTE: Callable[[str], str] = json.encoder.encode_basestring  # what _JSON does to a string


def json_text(value: Any) -> str:
    """``value`` as compact JSON, as ``_JSON`` writes it; lists of strings and objects of string
    values (most stored values: options, ids, links) without building an encoder for each."""
    try:
        if type(value) is list:
            return "[" + ",".join(map(_QUOTE, value)) + "]"
        if type(value) is dict:
            return "{" + ",".join([_QUOTE(k) + ":" + _QUOTE(v) for k, v in value.items()]) + "}"
    except TypeError:  # an item that is not a string
        pass
    return _JSON.encode(value)


_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def json_value(text: str) -> Any:
    """A stored JSON text as a value (what ``json.loads`` gives, without its per-call set-up:
    stored texts are compact JSON written by ``json_text``)."""
    try:
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    except StopIteration:
        pass
    return json.loads(text)  # anything else: json.loads says what is wrong


def keep(value: Any) -> Any:
    """The reader of a column whose values are canonical as stored."""
    return value


class Db(Protocol):
    """One connection inside one transaction. SQL uses ``?`` placeholders."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def insert(self, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
        """Many rows into ``table`` (quoted name) at once, the fastest way the database has."""
        ...


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Dialect:
    """SQL spellings and value conversions; the defaults are SQLite's."""

    name = "sqlite"
    # The catalogue: an extra column that keeps table creation order, and the ORDER BY using it.
    catalogue_order_column = ""
    catalogue_order = "created_ms, rowid"
    table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    migration_lock = ""  # a statement that makes migrations one at a time (SQLite: BEGIN IMMEDIATE does)
    # Row-lock clauses for the table's catalogue row: record writes share it, schema changes take it
    # (SQLite: a write transaction already excludes every other).
    lock_share = ""
    lock_update = ""
    bytes_type = "BLOB"  # the column type of raw bytes (attachment files kept in the database)

    # ------------------------------------------------------------------------- JSON values
    def json_get(self, expr: str, key: str) -> str:
        """The text at ``key`` of a JSON object column."""
        return f"json_extract({expr}, '$.{key}')"

    def json_each(self, expr: str) -> str:
        """A FROM item ``j`` over a JSON array column, one row per element in ``j.value``."""
        return f"json_each({expr}) AS j"

    def json_item(self, key: str | None) -> str:
        """The element ``j.value`` (a string), or its ``key`` (an object's member)."""
        return f"json_extract(j.value, '$.{key}')" if key else "j.value"

    def json_len(self, expr: str) -> str:
        return f"json_array_length({expr})"

    # ------------------------------------------------------------------------- comparisons
    def icontains(self, expr: str, needle: str, params: list[Any]) -> str:
        """Substring test ignoring case. SQLite's LIKE folds ASCII only, so other needles use a function."""
        if needle.isascii():
            params.append("%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
            return f"({expr} LIKE ? ESCAPE '\\')"
        params.append(needle)
        return f"anytable_icontains({expr}, ?)"

    def same(self, expr: str) -> str:
        """``expr`` equals the parameter, NULL equal to NULL."""
        return f"{expr} IS ?"

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def trim_space(self, expr: str) -> str:
        """``expr`` without white space at either end, as Python's ``str.strip()`` (``SPACE``)."""
        return f"trim({expr}, '{SPACE}')"

    def period(self, expr: str, by: str, zone: str, params: list[Any]) -> str:
        """The first day (ISO date text) of the ``by`` period (day, week from Monday, month, quarter,
        year) holding the epoch-ms ``expr`` in the IANA ``zone``; NULL stays NULL."""
        params.append(zone)
        return f"anytable_period({expr}, '{by}', ?)"

    # ------------------------------------------------------------------------- DDL
    def record_table(self, name: str) -> str:
        return (
            f"CREATE TABLE {quote(name)} (seq INTEGER PRIMARY KEY AUTOINCREMENT, rid TEXT NOT NULL UNIQUE, "
            "created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL)"
        )

    def column_type(self, ftype: FieldType) -> str:
        """The declared type of a field's column (SQLite: none, values keep their own)."""
        return ""

    # ------------------------------------------------------------------------- values
    def writer(self, field: FieldInfo) -> Callable[[Any], Any]:
        """Canonical value -> column value (empty values become NULL), chosen once per field."""
        if field.type is FieldType.checkbox:
            return lambda v: None if v is None else (1 if v else 0)
        if field.type in JSON_TYPES:
            return lambda v: json_text(v) if v else None
        return lambda v: None if v == "" else v

    def reader(self, field: FieldInfo) -> Callable[[Any], Any]:
        """Column value -> canonical value (NULL stays None), chosen once per field."""
        if field.type is FieldType.checkbox:
            return lambda v: None if v is None else bool(v)
        if field.type in JSON_TYPES:
            return lambda v: None if v is None else json_value(v)
        return keep

    def plain(self, value: Any) -> Any:
        """A computed value (a sort key for a page token, an aggregate) as plain JSON-able Python."""
        return value


class Backend(ABC):
    """Owns the connections of one store and opens transactions on it."""

    dialect: Dialect

    @abstractmethod
    def transaction(self, write: bool = False) -> AbstractAsyncContextManager[Db]:
        """One transaction: committed when the block ends, rolled back when it raises."""

    @abstractmethod
    async def aclose(self) -> None: ...

    @abstractmethod
    def file_store(self) -> FileStore:
        """Where this store keeps the files of its attachment fields."""

    @abstractmethod
    def credentials(self) -> dict[str, str]:
        """Where the store is, masked where secret (for doctor and the tools' config)."""

    @abstractmethod
    def describe(self) -> str:
        """A short phrase naming the store (``SQLite file /x.sqlite``)."""


def store_backend(settings: Settings) -> Backend:
    """PostgreSQL when ANYTABLE_LOCAL_URL is set, else the SQLite file."""
    if not settings.local_url:
        from anytable.providers.local.sqlite import SqliteBackend

        return SqliteBackend(settings.local_db_path())
    try:
        from anytable.providers.local.postgres import PostgresBackend
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("psycopg"):
            raise ConfigError(
                "ANYTABLE_LOCAL_URL names a PostgreSQL store, which needs the postgres extra: "
                "pip install 'anytable-mcp[postgres]' (or unset ANYTABLE_LOCAL_URL to use SQLite)."
            ) from None
        raise
    return PostgresBackend(settings.local_url, settings.local_pool_size)
