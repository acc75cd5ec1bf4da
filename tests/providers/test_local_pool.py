"""ANYTABLE_LOCAL_POOL_SIZE: how many connections each server keeps to the PostgreSQL store."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from anytable.config import Settings
from anytable.errors import ConfigError
from anytable.providers.local.backend import store_backend
from anytable.providers.local.postgres import PostgresBackend
from anytable.providers.local.provider import LocalProvider
from tests.pg import fresh_store

pytestmark = pytest.mark.anyio
URL = "postgresql://team:Pool-Secret-9@db.internal/tables"


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "2.5", "1001"])
def test_a_pool_size_that_is_not_a_count_is_refused_clearly(raw: str) -> None:
    with pytest.raises(ConfigError, match="ANYTABLE_LOCAL_POOL_SIZE") as caught:
        Settings.from_env({"ANYTABLE_LOCAL_URL": URL, "ANYTABLE_LOCAL_POOL_SIZE": raw})
    assert "from 1 to 1000" in str(caught.value) and "Pool-Secret-9" not in str(caught.value)


def test_the_pool_size_comes_from_the_environment_or_the_config_file(tmp_path: Path) -> None:
    assert Settings.from_env({"ANYTABLE_LOCAL_URL": URL}).local_pool_size == 4  # the default
    backend = store_backend(
        Settings.from_env({"ANYTABLE_LOCAL_URL": URL, "ANYTABLE_LOCAL_POOL_SIZE": " 25 "})
    )
    assert isinstance(backend, PostgresBackend) and backend.max_connections == 25
    config = tmp_path / "anytable.toml"
    config.write_text("ANYTABLE_LOCAL_POOL_SIZE = 4\n", encoding="utf-8")
    assert Settings.from_env({"ANYTABLE_CONFIG": str(config)}).local_pool_size == 4


async def test_a_server_never_holds_more_connections_than_its_pool_size() -> None:
    async with fresh_store() as url:
        settings = Settings.from_env({"ANYTABLE_LOCAL_URL": url, "ANYTABLE_LOCAL_POOL_SIZE": "3"})
        provider = LocalProvider(store_backend(settings))
        pids: set[int] = set()
        busy = peak = 0

        async def call() -> None:
            nonlocal busy, peak
            async with provider.backend.transaction() as db:
                busy += 1
                peak = max(peak, busy)
                row = await db.fetchone("SELECT pg_backend_pid() FROM pg_sleep(0.2)")
                assert row is not None
                pids.add(int(row[0]))
                busy -= 1

        try:
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for _ in range(12):  # every call is served, waiting its turn
                        tg.start_soon(call)
            assert 2 <= peak <= 3 and len(pids) <= 3  # the pool grew as calls waited, up to its size
            assert "a pool of up to 3 connections" in await provider.check()
        finally:
            await provider.aclose()


async def _connections_named(url: str, name: str) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,))
        row = await cur.fetchone()
        return int(row[0]) if row else 0


@pytest.mark.parametrize(("size", "warm"), [("4", 4), ("10", 4), ("2", 2)])
async def test_the_first_burst_finds_connections_already_open(size: str, warm: int) -> None:
    """Opened with the pool, not one at a time while the first concurrent calls wait for them."""
    async with fresh_store() as url:
        name = f"anytable_warm_{size}"
        named = f"{url}&application_name={name}"
        provider = LocalProvider(
            store_backend(Settings.from_env({"ANYTABLE_LOCAL_URL": named, "ANYTABLE_LOCAL_POOL_SIZE": size}))
        )
        try:
            await provider.list_tables("default")  # one call: the pool opens
            with anyio.fail_after(10):
                while await _connections_named(url, name) < warm:
                    await anyio.sleep(0.05)
            await anyio.sleep(0.3)
            # no more until calls need them (the first call, sent while they were opening, may add one)
            assert warm <= await _connections_named(url, name) <= min(warm + 1, int(size))
        finally:
            await provider.aclose()
        assert await _connections_named(url, name) == 0  # all closed with the server


async def test_connections_say_whose_they_are() -> None:
    async with fresh_store() as url:
        provider = LocalProvider(store_backend(Settings.from_env({"ANYTABLE_LOCAL_URL": url})))
        try:
            async with provider.backend.transaction() as db:
                row = await db.fetchone("SELECT current_setting('application_name')")
            assert row is not None and row[0] == "anytable"  # how an operator tells them in pg_stat_activity
        finally:
            await provider.aclose()
