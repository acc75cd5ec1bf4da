"""Tables, reads, updates and deletes on GPTBots: what is sent, what is checked first, what is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulators.gptbots import GPTBotsEmulator
from tests.providers.gptbots_harness import AGENT, KEY, emulator, fast, gptbots

pytestmark = pytest.mark.anyio

FIELDS = [
    {"name": "code", "type": "TEXT", "required": True, "unique": True},
    {"name": "no", "type": "INT", "unique": True},
    {"name": "title", "type": "TEXT"},
    {"name": "price", "type": "FLOAT"},
    {"name": "due", "type": "DATETIME"},
    {"name": "done", "type": "BOOLEAN"},
]


def seeded(count: int = 250) -> tuple[GPTBotsEmulator, str]:
    emu = emulator()
    rows = [
        {
            "code": f"C{i}",
            "no": i,
            "title": f"Item {i}",
            "price": i / 2,
            "due": "2029-10-01 12:00:00",
            "done": i % 2 == 0,
        }
        for i in range(count)
    ]
    return emu, emu.add_table(AGENT, "items", FIELDS, records=rows)


async def test_describe_maps_types_and_shows_required_and_unique(tmp_path: Path) -> None:
    emu, table_id = seeded(1)
    async with gptbots(tmp_path, emu) as (h, _):
        described = await h.call("describe_table", table="items")
    assert described["id"] == table_id and described["name"] == "items"
    assert described["fields"] == [
        {"id": "code", "name": "code", "type": "text", "primary": True, "required": True, "unique": True},
        {"id": "no", "name": "no", "type": "number", "primary": False, "unique": True},
        {"id": "title", "name": "title", "type": "text", "primary": False},
        {"id": "price", "name": "price", "type": "number", "primary": False},
        {"id": "due", "name": "due", "type": "date", "primary": False},
        {"id": "done", "name": "done", "type": "checkbox", "primary": False},
    ]


async def test_values_read_in_the_contract_formats(tmp_path: Path) -> None:
    emu, _ = seeded(3)
    async with gptbots(tmp_path, emu) as (h, _):
        records = await h.all_records("items")
    assert [r["fields"] for r in records] == [
        {
            "code": "C0",
            "no": 0,
            "title": "Item 0",
            "price": 0,
            "due": "2029-10-01T12:00:00+08:00",
            "done": True,
        },
        {
            "code": "C1",
            "no": 1,
            "title": "Item 1",
            "price": 0.5,
            "due": "2029-10-01T12:00:00+08:00",
            "done": False,
        },
        {
            "code": "C2",
            "no": 2,
            "title": "Item 2",
            "price": 1,
            "due": "2029-10-01T12:00:00+08:00",
            "done": True,
        },
    ]


async def test_create_table_sends_gptbots_types_and_checks_names_first(tmp_path: Path) -> None:
    async with gptbots(tmp_path) as (h, capture):
        message = await h.fails("create_table", name="Sales 2026", fields=[{"name": "title", "type": "text"}])
        assert "'Sales 2026'" in message and "a-z" in message and "'sales_2026'" in message
        message = await h.fails(
            "create_table",
            name="sales",
            fields=[{"name": "Title", "type": "text"}, {"name": "2nd", "type": "number"}],
        )
        assert "'Title'" in message and "'2nd'" in message and "'title'" in message
        message = await h.fails("create_table", name="sales", fields=[])
        assert "at least one field" in message
        message = await h.fails(
            "create_table", name="sales", fields=[{"name": "state", "type": "single_select"}]
        )
        assert "text, number, date, checkbox" in message
        assert capture.bodies("/create-table") == []  # nothing was sent
        fields = [
            {"name": n, "type": t}
            for n, t in [("t", "text"), ("n", "number"), ("d", "date"), ("c", "checkbox")]
        ]
        made = await h.call("create_table", name="sales", fields=fields)
        (body,) = capture.bodies("/create-table")
        assert body["name"] == "sales" and body["description"]
        assert [(f["name"], f["type"], f["description"]) for f in body["fields"]] == [
            ("t", "TEXT", "t"),
            ("n", "FLOAT", "n"),
            ("d", "DATETIME", "d"),
            ("c", "BOOLEAN", "c"),
        ]
        assert made["id"] in h.emulator.tables  # type: ignore[union-attr]


async def test_create_table_answer_lost_is_not_sent_twice(tmp_path: Path) -> None:
    emu = emulator()
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h)
        emu.faults.add("lost_response", match="create-table")
        made = await h.call("create_table", name="once", fields=[{"name": "title", "type": "text"}])
        assert [t.name for t in emu.tables.values()] == ["once"] and made["id"] in emu.tables
        assert len(capture.bodies("/create-table")) == 1


async def test_what_gptbots_cannot_do_is_said_plainly(tmp_path: Path) -> None:
    emu, _ = seeded(1)
    async with gptbots(tmp_path, emu) as (h, capture):
        for tool, args in [
            ("update_table", {"table": "items", "name": "other"}),
            ("delete_table", {"table": "items"}),
            ("create_field", {"table": "items", "name": "x", "type": "text"}),
            ("update_field", {"table": "items", "field": "title", "name": "x"}),
            ("delete_field", {"table": "items", "field": "title"}),
        ]:
            message = await h.fails(tool, **args)
            assert f"{tool} is not supported by GPTBots" in message and "list_providers" in message
        writes = [s for s in capture.sent if not s[1].endswith(("/tables/page", "/records/page"))]
        assert writes == []


@pytest.mark.parametrize(
    ("where", "native", "server_filtered", "codes"),
    [
        ({"field": "no", "op": "eq", "value": 7}, {"filter": {"no": 7}}, False, ["C7"]),
        ({"field": "no", "op": "in", "value": ["8"]}, {"filter": {"no": 8}}, False, ["C8"]),
        ({"field": "code", "op": "eq", "value": "C9"}, {"filter": {"code": "C9"}}, True, ["C9"]),
        ({"field": "code", "op": "eq", "value": "c9"}, {"filter": {"code": "c9"}}, True, []),
        (
            {
                "and": [
                    {"field": "code", "op": "eq", "value": "C4"},
                    {"field": "done", "op": "eq", "value": False},
                ]
            },
            {"filter": {"code": "C4"}},
            True,
            [],
        ),
        (
            {"field": "title", "op": "contains", "value": "EM 24"},
            {"keyword": "EM 24"},
            True,
            ["C24", *[f"C24{i}" for i in range(10)]],
        ),
        ({"field": "price", "op": "gt", "value": 123}, {}, True, ["C247", "C248", "C249"]),
        ({"field": "no", "op": "eq", "value": 2.5}, {}, True, []),
    ],
)
async def test_where_goes_to_the_api_where_it_can(
    tmp_path: Path, where: Any, native: dict[str, Any], server_filtered: bool, codes: list[str]
) -> None:
    emu, _ = seeded()
    async with gptbots(tmp_path, emu) as (h, capture):
        page = await h.call("query_records", table="items", where=where, limit=500)
    assert sorted(r["fields"]["code"] for r in page["records"]) == sorted(codes)
    assert page["server_filtered"] is server_filtered and page["next_cursor"] is None
    bodies = capture.bodies("/records/page")
    query_bodies = [b for b in bodies if b["page_size"] == 100]
    assert query_bodies and all(b["page_size"] <= 100 for b in bodies)
    assert {k: v for k, v in query_bodies[0].items() if k in ("filter", "keyword")} == native


async def test_pages_follow_page_numbers_behind_the_cursor(tmp_path: Path) -> None:
    emu, _ = seeded()
    async with gptbots(tmp_path, emu) as (h, capture):
        seen: list[str] = []
        cursor = None
        while True:
            page = await h.call("query_records", table="items", limit=70, cursor=cursor)
            seen.extend(r["fields"]["code"] for r in page["records"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == [f"C{i}" for i in range(250)]
    pages = [b["page"] for b in capture.bodies("/records/page") if b["page_size"] == 100]
    # A page is read again by the answer that finishes it; never past the end.
    assert pages == [1, 1, 2, 2, 3, 3]


async def test_get_records_scans_and_reports_missing(tmp_path: Path) -> None:
    emu, _ = seeded()
    async with gptbots(tmp_path, emu) as (h, capture):
        records = await h.all_records("items")
        ids = {r["fields"]["code"]: r["id"] for r in records}
        before = len(capture.bodies("/records/page"))
        got = await h.call("get_records", table="items", record_ids=[ids["C210"], ids["C3"], "nope"])
        scanned = len(capture.bodies("/records/page")) - before
    assert [r["fields"]["code"] for r in got["records"]] == ["C210", "C3"] and got["missing"] == ["nope"]
    assert scanned <= 4  # ceil(250 / 100) pages at most (plus the schema when it is not cached)


async def test_values_that_do_not_fit_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    emu, _ = seeded(2)
    async with gptbots(tmp_path, emu) as (h, capture):
        (first, second) = await h.all_records("items")
        cases = [
            ("create_records", {"records": [{"code": "X1", "no": 1.5}]}, ["'no'", "whole number"]),
            ("create_records", {"records": [{"code": "X2", "due": "0999-01-01"}]}, ["'due'", "1900-01-01"]),
            ("create_records", {"records": [{"code": "x" * 257}]}, ["'code'", "256 characters"]),
            (
                "update_records",
                {"records": [{"id": first["id"], "fields": {"code": None}}]},
                ["required", "cleared"],
            ),
            (
                "update_records",
                {"records": [{"id": first["id"], "fields": {"no": None}}]},
                ["unique", "cleared"],
            ),
            (
                "update_records",
                {
                    "records": [
                        {"id": first["id"], "fields": {"no": 5}},
                        {"id": second["id"], "fields": {"no": 5.0}},
                    ]
                },
                ["Records 0 and 1", "'no'", "one record only"],
            ),
        ]
        for tool, args, words in cases:
            message = await h.fails(tool, table="items", **args)
            for word in words:
                assert word in message, message
        writes = [s for s in capture.sent if s[1].endswith(("/import/records", "/update/record"))]
        assert writes == []
        assert len(emu.rows(next(iter(emu.tables)))) == 2


async def test_dates_are_wall_clock_time_in_the_configured_zone(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(
        AGENT, "items", [{"name": "code", "type": "TEXT"}, {"name": "due", "type": "DATETIME"}]
    )
    async with gptbots(tmp_path, emu) as (h, _):
        await h.call(
            "create_records",
            table="items",
            records=[{"code": "A", "due": "2026-11-22T01:30:00Z"}, {"code": "B", "due": "2026-11-22"}],
        )
        rows = {r["code"]: r["due"] for r in emu.rows(table_id)}
        assert rows == {"A": "2026-11-22 09:30:00", "B": "2026-11-22 00:00:00"}
        page = await h.call(
            "query_records", table="items", where={"field": "due", "op": "eq", "value": "2026-11-22"}
        )
        assert sorted(r["fields"]["due"] for r in page["records"]) == [
            "2026-11-22T00:00:00+08:00",
            "2026-11-22T09:30:00+08:00",
        ]


async def test_update_failures_are_reported_per_record(tmp_path: Path) -> None:
    emu, table_id = seeded(3)
    async with gptbots(tmp_path, emu) as (h, capture):
        records = await h.all_records("items")
        ids = [r["id"] for r in records]
        message = await h.fails(
            "update_records",
            table="items",
            records=[
                {"id": ids[0], "fields": {"title": "changed", "due": "2026-01-02T03:04:05+08:00"}},
                {"id": "1869999999999999999", "fields": {"title": "ghost"}},
                {"id": ids[1], "fields": {"code": "C2"}},  # C2 belongs to another record
            ],
        )
        assert "did not update 2 of these 3 records" in message
        assert "1869999999999999999: record '1869999999999999999' not found" in message
        assert f"{ids[1]}: Error 1062" in message and "The other 1 were updated" in message
        rows = emu.rows(table_id)
        assert rows[0]["title"] == "changed" and rows[0]["due"] == "2026-01-02 03:04:05"
        assert rows[1]["code"] == "C1"
        (body,) = capture.bodies("/update/record")
        assert body["is_create"] is False and len(body["update_data"]) == 3


async def test_updates_go_100_at_a_time(tmp_path: Path) -> None:
    emu, table_id = seeded(250)
    async with gptbots(tmp_path, emu) as (h, capture):
        records = await h.all_records("items")
        updates = [{"id": r["id"], "fields": {"price": 1.25}} for r in records]
        assert await h.call("update_records", table="items", records=updates) == {"updated": 250}
    assert [len(b["update_data"]) for b in capture.bodies("/update/record")] == [100, 100, 50]
    assert {row["price"] for row in emu.rows(table_id)} == {1.25}


class StickyDelete(GPTBotsEmulator):
    """A service that answers OK to a delete but keeps one record."""

    keep: str = ""

    async def _delete_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        table = next(iter(self.tables.values()))
        kept = table.records.get(self.keep)
        response = await super()._delete_records(request, agent_id)
        if kept is not None:
            table.records[self.keep] = kept
        return response


async def test_deletes_are_checked_and_what_stays_is_named(tmp_path: Path) -> None:
    emu = StickyDelete(api_keys={KEY: AGENT})
    emu.add_table(AGENT, "items", FIELDS, records=[{"code": f"C{i}", "no": i} for i in range(5)])
    async with gptbots(tmp_path, emu) as (h, capture):
        ids = [r["id"] for r in await h.all_records("items")]
        # An id that is not a record is never reported deleted (issue 11).
        message = await h.fails("delete_records", table="items", record_ids=[ids[0], "1860000000000009999"])
        assert "1 of these 2 records were deleted" in message and "not records of this table" in message
        emu.keep = ids[2]
        message = await h.fails("delete_records", table="items", record_ids=[ids[1], ids[2]])
        assert f"did not delete 1 of these 2 records: {ids[2]}: it is still in the table" in message
        assert "delete_records again" in message
        assert [len(b["delete_data"]) for b in capture.bodies("/delete/record")] == [2, 2]


async def test_deletes_go_1000_at_a_time(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(
        AGENT, "many", [{"name": "n", "type": "INT"}], records=[{"n": i} for i in range(2100)]
    )
    async with gptbots(tmp_path, emu) as (h, capture):
        ids = [r["id"] for r in await h.all_records("many")]
        assert await h.call("delete_records", table="many", record_ids=ids[:2050]) == {"deleted": 2050}
    assert [len(b["delete_data"]) for b in capture.bodies("/delete/record")] == [1000, 1000, 50]
    assert sorted(row["n"] for row in emu.rows(table_id)) == list(range(2050, 2100))
