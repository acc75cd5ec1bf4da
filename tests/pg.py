"""The PostgreSQL server the local store's tests run on: ANYTABLE_TEST_PG_URL (``.ci/postgres start``
makes one). Outside CI without it those tests are skipped, saying so; in CI (CI=true) its absence
fails them. Each test gets a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote, urlsplit

import pytest

ENV = "ANYTABLE_TEST_PG_URL"


def server_url() -> str:
    url = os.environ.get(ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{ENV} is not set: CI must run the PostgreSQL tests (.ci/postgres start DIR).")
    pytest.skip(f"no PostgreSQL server: set {ENV} (e.g. from `.ci/postgres start /tmp/pg`) to run this test")


def with_schema(url: str, schema: str, **options: str) -> str:
    """``url`` with its sessions in ``schema`` (and other server settings, e.g. statement_timeout)."""
    settings = {"search_path": schema, **options}
    opts = quote(" ".join(f"-c {k}={v}" for k, v in settings.items()))
    return f"{url}{'&' if urlsplit(url).query else '?'}options={opts}"


@asynccontextmanager
async def fresh_store(url: str | None = None, **options: str) -> AsyncIterator[str]:
    """The URL of an empty store: a new schema on the server (the test server unless ``url``),
    dropped at the end."""
    import psycopg

    url = url or server_url()
    schema = "t_" + secrets.token_hex(6)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema, **options)
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
