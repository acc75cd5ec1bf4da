"""Bad input: a clear error that says what would fit, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio


@pytest.fixture
async def table(h: Harness) -> Harness:
    fields: list[dict[str, Any]] = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
    if h.supports_type("single_select"):
        fields.append({"name": "status", "type": "single_select", "options": ["todo", "done"]})
    if h.supports_type("date"):
        fields.append({"name": "due", "type": "date"})
    await h.call("create_table", name="strict", fields=fields)
    await h.call("create_records", table="strict", records=[{"title": "existing", "n": 1}])
    return h


async def unchanged(h: Harness) -> None:
    records = await h.all_records("strict")
    assert [r["fields"].get("title") for r in records] == ["existing"]


@pytest.mark.parametrize(
    ("records", "must_say"),
    [
        ([{"title": "ok"}, {"nope": 1}], ["nope", "title"]),
        ([{"title": "ok"}, {"n": "twelve"}], ["'n'", "twelve", "number"]),
        ([{"title": "ok"}, {"n": True}], ["'n'", "number"]),
        ([{"title": "ok"}, {"title": {"x": 1}}], ["'title'", "string"]),
        ([{"title": "x" * 100_001}], ["100,000"]),
        ([], ["non-empty"]),
        (["not an object"], ["record"]),
    ],
)
async def test_create_refuses_and_writes_nothing(
    table: Harness, records: list[Any], must_say: list[str]
) -> None:
    message = await table.fails("create_records", table="strict", records=records)
    for text in must_say:
        assert text.lower() in message.lower(), message
    await unchanged(table)


async def test_unknown_option_lists_the_options(table: Harness) -> None:
    if not table.supports_type("single_select"):
        pytest.skip(f"{table.provider} has no select fields")
    message = await table.fails(
        "create_records", table="strict", records=[{"title": "ok"}, {"status": "doing"}]
    )
    assert "doing" in message and "todo" in message and "done" in message
    await unchanged(table)


async def test_bad_date_says_the_formats(table: Harness) -> None:
    if not table.supports_type("date"):
        pytest.skip(f"{table.provider} has no date fields")
    message = await table.fails(
        "create_records", table="strict", records=[{"title": "ok", "due": "next tuesday"}]
    )
    assert "ISO 8601" in message and "due" in message
    await unchanged(table)


async def test_update_and_delete_refuse_bad_input(table: Harness) -> None:
    (record,) = await table.all_records("strict")
    if "update" in table.caps["records"]:
        message = await table.fails(
            "update_records", table="strict", records=[{"id": record["id"], "fields": {"n": "x"}}]
        )
        assert "'n'" in message
        message = await table.fails("update_records", table="strict", records=[])
        assert "non-empty" in message
        message = await table.fails("update_records", table="strict", records=[{"fields": {"n": 2}}])
        assert "id" in message
    message = await table.fails("delete_records", table="strict", record_ids=[])
    assert "non-empty" in message
    await unchanged(table)


async def test_limit_out_of_range(table: Harness) -> None:
    message = await table.fails("query_records", table="strict", limit=501)
    assert "500" in message
    message = await table.fails("query_records", table="strict", limit=0)
    assert "1" in message


async def test_missing_table_argument(table: Harness) -> None:
    message = await table.fails("query_records")
    assert "table" in message
