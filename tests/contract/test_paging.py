"""Paging walks every record exactly once, whatever the limit, filter and sort."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio

N = 250


@pytest.fixture
async def numbered(h: Harness) -> Harness:
    await h.call(
        "create_table",
        name="numbered",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    rows = [{"title": f"row {i:03d}", "n": (i * 37) % N} for i in range(N)]
    created = await h.call("create_records", table="numbered", records=rows)
    assert created["created"] == N
    return h


async def walk(h: Harness, limit: int, **query: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = await h.call("query_records", table="numbered", limit=limit, cursor=cursor, **query)
        assert len(page["records"]) <= limit
        out.extend(page["records"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return out
        assert pages < 1000


@pytest.mark.parametrize("limit", [1, 7, 100, 500])
async def test_every_record_once(numbered: Harness, limit: int) -> None:
    if limit == 1:
        records = await walk(numbered, 1, where={"field": "n", "op": "lt", "value": 20})
        assert sorted(r["fields"]["n"] for r in records) == list(range(20))
        return
    records = await walk(numbered, limit)
    ids = [r["id"] for r in records]
    assert len(ids) == N and len(set(ids)) == N


async def test_filtered_sorted_pages(numbered: Harness) -> None:
    records = await walk(
        numbered, 9, where={"field": "n", "op": "gte", "value": 100}, sort=[{"field": "n", "desc": True}]
    )
    assert [r["fields"]["n"] for r in records] == list(range(N - 1, 99, -1))


async def test_server_side_filter_pages(numbered: Harness) -> None:
    # contains on a text field: some providers filter it themselves, some in the server; both page the same
    records = await walk(numbered, 13, where={"field": "title", "op": "contains", "value": "ROW 1"})
    assert sorted(r["fields"]["title"] for r in records) == [f"row {i:03d}" for i in range(100, 200)]


async def test_cursor_is_bound_to_its_query(numbered: Harness) -> None:
    page = await numbered.call("query_records", table="numbered", limit=10)
    message = await numbered.fails(
        "query_records",
        table="numbered",
        limit=10,
        cursor=page["next_cursor"],
        where={"field": "n", "op": "gt", "value": 3},
    )
    assert "cursor" in message
    message = await numbered.fails("query_records", table="numbered", cursor="not-a-cursor")
    assert "cursor" in message


@pytest.mark.parametrize("change", [{"s": "x"}, {"s": -3}, {"n": 0}, {"t": [1]}, {"o": -1}])
async def test_an_altered_cursor_is_a_clear_error(numbered: Harness, change: dict[str, Any]) -> None:
    for sort in (None, [{"field": "n"}]):
        page = await numbered.call("query_records", table="numbered", limit=10, sort=sort)
        raw, mac = page["next_cursor"].split(".")
        state = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        altered = base64.urlsafe_b64encode(json.dumps({**state, **change}).encode()).decode().rstrip("=")
        cursor = f"{altered}.{mac}"  # the signature of the cursor as given
        message = await numbered.fails("query_records", table="numbered", limit=10, sort=sort, cursor=cursor)
        assert "not one this server gave" in message, message


async def test_default_limit_is_100(numbered: Harness) -> None:
    page = await numbered.call("query_records", table="numbered")
    assert len(page["records"]) == 100 and page["next_cursor"]
