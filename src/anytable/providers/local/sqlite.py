"""The default backend: one SQLite file, one connection, each statement run off the event loop."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import anyio

from anytable.errors import ConfigError, ProviderError
from anytable.providers.local.backend import Backend, Db, Dialect, Row
from anytable.providers.local.catalog import migrate
from anytable.providers.local.files import FileStore, FolderFiles
from anytable.schemas.aggregate import period_start

T = TypeVar("T")


def _icontains(haystack: Any, needle: Any) -> int:
    if haystack is None or needle is None:
        return 0
    return int(str(needle).lower() in str(haystack).lower())


@functools.lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _period(ms: Any, by: str, zone: str) -> str | None:
    return None if ms is None else period_start(ms, by, _zone(zone))


class _SqliteDb(Db):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def _off_loop(self, fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._off_loop(lambda: self.conn.execute(sql, params))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._off_loop(lambda: self.conn.executemany(sql, rows))

    async def insert(self, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ",".join("?" * len(columns))
        await self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._off_loop(lambda: self.conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._off_loop(lambda: self.conn.execute(sql, params).fetchone())
        return row


@asynccontextmanager
async def _immediate(db: Db) -> AsyncIterator[None]:
    """A write transaction: committed when the block ends, rolled back (even when cancelled) when it raises."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with anyio.CancelScope(shield=True):
            await db.execute("ROLLBACK")
        raise
    with anyio.CancelScope(shield=True):
        await db.execute("COMMIT")


class SqliteBackend(Backend):
    dialect = Dialect()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = anyio.Lock()  # one connection: one transaction at a time

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.create_function("anytable_icontains", 2, _icontains, deterministic=True)
            conn.create_function("anytable_period", 3, _period, deterministic=True)
            self._conn = conn
        return self._conn

    @asynccontextmanager
    async def transaction(self, write: bool = False) -> AsyncIterator[Db]:
        async with self._lock:
            fresh = self._conn is None
            try:
                db = _SqliteDb(await anyio.to_thread.run_sync(self._connect))
                if fresh:
                    async with _immediate(db):
                        await migrate(db, self.dialect)
            except (sqlite3.Error, OSError) as exc:
                await self._drop()
                raise ConfigError(
                    f"The local store {self.path} cannot be used ({type(exc).__name__}: {exc}): set "
                    "ANYTABLE_LOCAL_PATH to an SQLite file (or a new file's path) this user can read and write."
                ) from None
            try:
                if not write:
                    yield db
                    return
                async with _immediate(db):
                    yield db
            except sqlite3.Error as exc:
                what = "nothing of this call was stored" if write else "nothing was changed"
                raise ProviderError(
                    f"The local store {self.path} failed ({type(exc).__name__}: {exc}); {what}.",
                    provider="local",
                ) from None

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        async with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def file_store(self) -> FileStore:
        """A folder beside the file (``anytable.sqlite`` -> ``anytable.files``)."""
        return FolderFiles(self.path.with_name(self.path.stem + ".files"))

    def credentials(self) -> dict[str, str]:
        return {"ANYTABLE_LOCAL_PATH": str(self.path)}

    def describe(self) -> str:
        return f"SQLite file {self.path}"
