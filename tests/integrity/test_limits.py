"""Values and limits: a clear error, nothing changed, on every provider (issue 11)."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from anytable.providers.base import Limits
from tests.harness import Harness, serve

pytestmark = pytest.mark.anyio


@pytest.fixture
async def table(h: Harness) -> Harness:
    await h.call(
        "create_table",
        name="lim",
        fields=[
            {"name": "title", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "due", "type": "date"},
        ],
    )
    await h.call("create_records", table="lim", records=[{"title": f"r{i}", "n": i} for i in range(5)])
    return h


@pytest.mark.parametrize("due", ["0001-01-01", "9999-12-31T23:59:59+00:00", 10**17, str(10**17), -(10**15)])
async def test_dates_out_of_range_are_refused_on_write_and_in_filters(table: Harness, due: Any) -> None:
    h = table
    message = await h.fails("create_records", table="lim", records=[{"title": "x", "due": due}])
    assert "1900-01-01 to 9998-12-31" in message and "'due'" in message
    message = await h.fails("query_records", table="lim", where={"field": "due", "op": "lt", "value": due})
    assert "1900-01-01 to 9998-12-31" in message
    assert len(await h.all_records("lim")) == 5
    # the edges of the range are fine, and read back
    await h.call("create_records", table="lim", records=[{"title": "edge", "due": "1900-01-02"}])


async def test_integers_beyond_64_bits_are_refused(table: Harness) -> None:
    h = table
    for n in (2**64, -(2**70), str(2**80)):
        message = await h.fails("create_records", table="lim", records=[{"title": "big", "n": n}])
        assert "64 bits" in message and "'n'" in message
    assert len(await h.all_records("lim")) == 5


async def test_an_in_list_over_1000_values_is_refused(table: Harness) -> None:
    h = table
    message = await h.fails(
        "query_records", table="lim", where={"field": "n", "op": "in", "value": list(range(1001))}
    )
    assert "at most 1,000 values" in message
    page = await h.call(
        "query_records", table="lim", where={"field": "n", "op": "in", "value": list(range(1000))}
    )
    assert len(page["records"]) == 5


async def test_an_edited_cursor_is_refused(table: Harness) -> None:
    h = table
    page = await h.call("query_records", table="lim", limit=2)
    cursor = page["next_cursor"]
    payload, mac = cursor.split(".")
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for key in state:
        if isinstance(state[key], int) and key != "q":
            state[key] += 1  # skip a record
    edited = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    for bad in (f"{edited}.{mac}", edited, cursor[:-2] + "AA", "x" * 5000):
        message = await h.fails("query_records", table="lim", limit=2, cursor=bad)
        assert "cursor is not one this server gave" in message
    assert len((await h.call("query_records", table="lim", limit=2, cursor=cursor))["records"]) == 2


async def test_create_field_options_are_capped_and_checked_in_linear_time(tmp_path: Path) -> None:
    async with serve("local", {}, tmp_path, base="b") as h:
        await h.call("create_table", name="T", fields=[{"name": "title", "type": "text"}])
        start = time.monotonic()
        message = await h.fails(
            "create_field",
            table="T",
            name="s",
            type="single_select",
            options=[f"o{i}" for i in range(30_000)],
        )
        assert "at most 1,000 options" in message
        many = [f"o{i}" for i in range(1000)]
        message = await h.fails(
            "create_field", table="T", name="s", type="single_select", options=[*many[:999], "o5"]
        )
        assert "['o5']" in message
        await h.call("create_field", table="T", name="s", type="single_select", options=many)
        assert time.monotonic() - start < 5


async def test_an_unreadable_local_store_says_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_bytes(b"this is not an SQLite file" * 100)
    async with serve("local", {"ANYTABLE_LOCAL_PATH": str(bad)}, tmp_path, base="b") as h:
        h.svc.settings  # noqa: B018
        message = await h.fails("list_tables")
    assert "ANYTABLE_LOCAL_PATH" in message and "internal error" not in message


async def test_a_local_create_failing_in_a_later_batch_says_what_was_stored(tmp_path: Path) -> None:
    async with serve("local", {}, tmp_path, base="b") as h:
        await h.call("create_table", name="T", fields=[{"name": "title", "type": "text"}])
        local: Any = h.svc.providers["local"]
        local.limits = Limits(page_size=500, create_batch=2, update_batch=2, delete_batch=2, get_batch=100)
        from anytable.providers.local import sqlite as local_sqlite

        original = local_sqlite._SqliteDb.executemany
        calls = {"n": 0}

        async def executemany(self: Any, sql: str, rows: Any) -> None:
            if sql.startswith("INSERT"):
                calls["n"] += 1
                if calls["n"] == 3:
                    raise sqlite3.OperationalError("disk I/O error")
            await original(self, sql, rows)

        local_sqlite._SqliteDb.executemany = executemany  # type: ignore[method-assign]
        try:
            message = await h.fails(
                "create_records", table="T", records=[{"title": f"t{i}"} for i in range(5)]
            )
        finally:
            local_sqlite._SqliteDb.executemany = original  # type: ignore[method-assign]
        stored = sorted(r["fields"]["title"] for r in await h.all_records("T"))
    assert stored == ["t0", "t1", "t2", "t3"]
    assert "records 0-3 of the 5 given were created" in message and "internal error" not in message
