"""The local store's own guarantees, on SQLite and on PostgreSQL: several servers on one store see
each other's schema changes, the store migrates itself, cursors share one key per store; and on
PostgreSQL, bad URLs, wrong passwords, lost connections and statement timeouts give clear, masked
errors with nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import pytest

from anytable.config import Settings
from anytable.errors import ConfigError, ProviderError
from anytable.masking import scrub
from anytable.providers.base import PageRequest
from anytable.providers.local.backend import store_backend as make_backend
from anytable.providers.local.catalog import STORE_VERSION
from anytable.providers.local.postgres import PostgresBackend
from anytable.providers.local.provider import LocalProvider
from anytable.schemas.fields import FieldSpec, FieldType
from anytable.server import build_server
from tests.harness import Harness, serve
from tests.pg import fresh_store, server_url

pytestmark = pytest.mark.anyio
FIELDS = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]


@asynccontextmanager
async def store_env(kind: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment naming one store of ``kind`` (a SQLite file or a PostgreSQL schema)."""
    if kind == "sqlite":
        yield {"ANYTABLE_LOCAL_PATH": str(tmp_path / "shared.sqlite")}
        return
    async with fresh_store() as url:
        yield {"ANYTABLE_LOCAL_URL": url}


def two_servers(env: dict[str, str], tmp_path: Path) -> AbstractAsyncContextManager[tuple[Harness, Harness]]:
    @asynccontextmanager
    async def both() -> AsyncIterator[tuple[Harness, Harness]]:
        async with serve("local", env, tmp_path, base="b") as a, serve("local", env, tmp_path, base="b") as b:
            yield a, b

    return both()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_schema_change_in_another_server_is_seen_before_the_next_write(
    kind: str, tmp_path: Path
) -> None:
    async with store_env(kind, tmp_path) as env, two_servers(env, tmp_path) as (a, b):
        await a.call("create_table", name="t", fields=FIELDS)
        await a.call("create_records", table="t", records=[{"title": "before", "n": 1}])
        # b renames "title" and makes a new "title"; a has the old schema cached.
        await b.call("update_field", table="t", field="title", name="old title")
        await b.call("create_field", table="t", name="title", type="number")
        failed = await a.fails("create_records", table="t", records=[{"title": "text into a number"}])
        assert "title" in failed  # checked against the new field (a number), nothing written
        await a.call("create_records", table="t", records=[{"title": 7, "n": 2}])
        rows = {r["fields"]["n"]: r["fields"] for r in await b.all_records("t")}
        assert rows == {1: {"old title": "before", "n": 1}, 2: {"title": 7, "n": 2}}

        # b drops the table and makes another of the same name: a writes into the new one.
        await b.call("delete_table", table="t")
        await b.call("create_table", name="t", fields=[{"name": "title", "type": "text"}])
        await a.call("create_records", table="t", records=[{"title": "into the new table"}])
        assert [r["fields"] for r in await b.all_records("t")] == [{"title": "into the new table"}]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_schema_changes_from_two_servers_at_once_are_one_at_a_time(kind: str, tmp_path: Path) -> None:
    async with store_env(kind, tmp_path) as env, two_servers(env, tmp_path) as (a, b):
        await a.call("create_table", name="t", fields=FIELDS)
        outcomes: list[str] = []

        async def add(h: Harness, name: str) -> None:
            try:
                await h.call("create_field", table="t", name=name, type="text")
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(str(exc))

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(add, a, f"a{i}")
                tg.start_soon(add, b, f"b{i}")
                tg.start_soon(add, a if i % 2 else b, "same")  # one of these wins
        assert outcomes.count("ok") == 17
        assert all("already has a field named 'same'" in o for o in outcomes if o != "ok")
        described = await b.call("describe_table", table="t")
        names = [f["name"] for f in described["fields"]]
        assert sorted(names) == sorted(["title", "n", "same", *[f"{p}{i}" for p in "ab" for i in range(8)]])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_stale_schema_reaching_the_store_is_refused_not_written(kind: str, tmp_path: Path) -> None:
    """Between a server's check and its write another one changes the table: the store refuses."""
    async with store_env(kind, tmp_path) as env:
        settings = Settings.from_env({**env, "ANYTABLE_TIMEZONE": "UTC"})
        one, other = LocalProvider(make_backend(settings)), LocalProvider(make_backend(settings))
        try:
            info = await one.create_table("b", "t", [FieldSpec(name="title", type=FieldType.text)])
            stale = await one.get_schema("b", info.id)
            await other.update_field("b", stale, stale.fields[0], "renamed", None)
            with pytest.raises(ProviderError, match="changed by another process"):
                await one.create_batch("b", stale, [{"title": "x"}])
            fresh = await one.get_schema("b", info.id)
            page = await one.read_page("b", fresh, PageRequest(None, [], None, None, 10, None))
            assert page.records == []
        finally:
            await one.aclose()
            await other.aclose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_servers_on_one_store_share_its_cursor_key(kind: str, tmp_path: Path) -> None:
    async with store_env(kind, tmp_path) as env:
        settings = Settings.from_env(env)
        one, other = LocalProvider(make_backend(settings)), LocalProvider(make_backend(settings))
        try:
            key = await one.cursor_key()
            assert len(key) == 32 and key == await other.cursor_key()
        finally:
            await one.aclose()
            await other.aclose()
    separate = LocalProvider(tmp_path / "elsewhere.sqlite")
    assert await separate.cursor_key() != key
    await separate.aclose()


async def test_an_older_sqlite_store_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:  # the store as versions before migrations made it
        conn.executescript(
            """
            CREATE TABLE at_tables (id TEXT PRIMARY KEY, base TEXT NOT NULL, name TEXT NOT NULL,
                created_ms INTEGER NOT NULL, UNIQUE (base, name));
            CREATE TABLE at_fields (id TEXT PRIMARY KEY, table_id TEXT NOT NULL REFERENCES at_tables(id)
                ON DELETE CASCADE, name TEXT NOT NULL, type TEXT NOT NULL, options TEXT,
                position INTEGER NOT NULL, is_primary INTEGER NOT NULL DEFAULT 0, UNIQUE (table_id, name));
            INSERT INTO at_tables VALUES ('tblold', 'b', 'kept', 1);
            INSERT INTO at_fields VALUES ('fldold', 'tblold', 'title', 'text', NULL, 0, 1);
            CREATE TABLE "r_tblold" (seq INTEGER PRIMARY KEY AUTOINCREMENT, rid TEXT NOT NULL UNIQUE,
                created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, "f_fldold");
            INSERT INTO "r_tblold" (rid, created_ms, modified_ms, "f_fldold") VALUES ('rec1', 1, 1, 'hello');
            """
        )
    conn.close()
    async with serve("local", {"ANYTABLE_LOCAL_PATH": str(old)}, tmp_path, base="b") as h:
        assert [r["fields"] for r in await h.all_records("kept")] == [{"title": "hello"}]
        provider = h.svc.providers["local"]
        assert f"store version {STORE_VERSION}" in await provider.check()

    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE at_meta SET value = '99' WHERE key = 'store_version'")
    conn.close()
    async with serve("local", {"ANYTABLE_LOCAL_PATH": str(old)}, tmp_path, base="b") as h:
        failed = await h.fails("list_tables")
        assert "version 99" in failed and "upgrade anytable-mcp" in failed


# --------------------------------------------------------------------------- PostgreSQL only
def test_a_url_that_is_not_postgresql_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="postgresql://user:password@host"):
        build_server(Settings(local_url="mysql://someone:sekrit-pass@db/x"))
    assert "sekrit-pass" not in scrub("mysql://someone:sekrit-pass@db/x")


async def test_a_wrong_password_is_clear_and_masked(tmp_path: Path) -> None:
    url = server_url().replace("anytable-test-pw", "wrong-password-42")
    assert "wrong-password-42" in url
    async with serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base="b") as h:
        failed = await h.fails("list_tables")
        assert "refused the user or password" in failed and "ANYTABLE_LOCAL_URL" in failed
        assert "wrong-password-42" not in failed and "wron****" in failed
        providers = await h.call("list_providers")
        assert "wrong-password-42" not in str(providers)
    assert "wrong-password-42" not in scrub(f"failed: {url}")


async def test_a_missing_database_is_clear(tmp_path: Path) -> None:
    url = server_url().rsplit("/", 1)[0] + "/no_such_db"
    async with serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base="b") as h:
        failed = await h.fails("list_tables")
        assert "does not exist" in failed and "createdb" in failed and "anytable-test-pw" not in failed


async def test_an_unreachable_server_is_clear(tmp_path: Path) -> None:
    url = "postgresql://anytable:no-such-server-pw@127.0.0.1:1/anytable"
    async with serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base="b") as h:
        with anyio.fail_after(30):
            failed = await h.fails("list_tables")
        assert "Could not reach the PostgreSQL store" in failed and "no-such-server-pw" not in failed


async def _kill_connections(url: str) -> int:
    """Disconnect every other session of this user, as a restarting server would."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = current_user AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def test_connections_lost_between_calls_are_replaced(tmp_path: Path) -> None:
    async with fresh_store() as url, serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base="b") as h:
        await h.call("create_table", name="t", fields=FIELDS)
        await h.call("create_records", table="t", records=[{"title": "a", "n": 1}])
        assert await _kill_connections(server_url()) >= 1
        # The pooled connection is dead; the call goes on over a new one (nothing had been applied).
        await h.call("create_records", table="t", records=[{"title": "b", "n": 2}])
        assert sorted(r["fields"]["n"] for r in await h.all_records("t")) == [1, 2]


async def test_a_connection_lost_mid_write_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    async with fresh_store() as url:
        backend = PostgresBackend(url)
        provider = LocalProvider(backend)
        try:
            info = await provider.create_table("b", "t", [FieldSpec(name="title", type=FieldType.text)])
            with pytest.raises(ProviderError) as caught:
                async with backend.transaction(write=True) as db:
                    await db.execute(
                        f'INSERT INTO "r_{info.id}" (rid, created_ms, modified_ms) VALUES (?, 1, 1)', ["r1"]
                    )
                    await _kill_connections(server_url())
                    await db.execute("SELECT 1")
            message = str(caught.value)
            assert "Could not reach the PostgreSQL store" in message and "Nothing was written" in message
            assert "anytable-test-pw" not in message
            # The server keeps serving, and the interrupted write left nothing behind.
            schema = await provider.get_schema("b", info.id)
            page = await provider.read_page("b", schema, PageRequest(None, [], None, None, 10, None))
            assert page.records == []
        finally:
            await provider.aclose()


async def test_a_statement_timeout_is_a_clear_error(tmp_path: Path) -> None:
    async with fresh_store(statement_timeout="200") as url:
        backend = PostgresBackend(url)
        try:
            with pytest.raises(ProviderError, match="statement_timeout") as caught:
                async with backend.transaction() as db:
                    await db.execute("SELECT pg_sleep(2)")
            assert "Nothing was written" in str(caught.value)
            async with backend.transaction() as db:  # and the next call works
                assert await db.fetchone("SELECT 1") == (1,)
        finally:
            await backend.aclose()


async def test_two_server_processes_writing_into_one_table_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    from bench.postgres import concurrent_creates, make_table

    async with fresh_store() as url:
        await make_table(url, "shared")
        with anyio.fail_after(240):
            _, ids, _ = await concurrent_creates(
                url, tmp_path, processes=2, calls=20, per_call=500, table="shared"
            )
        assert len(ids) == len(set(ids)) == 20_000
        async with serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base=None) as h:
            stored = await h.all_records("shared")
        assert sorted(r["id"] for r in stored) == sorted(ids)
        titles = {r["fields"]["title"] for r in stored}
        assert len(titles) == 20_000  # every (process, call, record) exactly once


def test_the_url_password_is_a_secret_everywhere() -> None:
    url = "postgresql://team:Pg-Secret-Pass-1@db.internal:5432/tables"
    settings = Settings.from_env({"ANYTABLE_LOCAL_URL": url})
    # Registered: masked wherever it appears, even outside a URL.
    assert scrub("the password is Pg-Secret-Pass-1.") == "the password is Pg-S****."
    assert LocalProvider.masked_credentials(settings) == {
        "ANYTABLE_LOCAL_URL": "postgresql://team:Pg-S****@db.internal:5432/tables"
    }
    # Not registered (another URL in an error text): still masked, being a URL's password.
    assert (
        scrub("connect postgres://x:0ther-Secret@h/db failed") == "connect postgres://x:0the****@h/db failed"
    )


def test_without_the_postgres_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    monkeypatch.delitem(sys.modules, "anytable.providers.local.postgres")
    with pytest.raises(ConfigError, match=r"pip install 'anytable-mcp\[postgres\]'"):
        make_backend(Settings(local_url="postgresql://u:some-password@db/x"))
