"""Bulk writes: any number of records, batched, none lost or repeated; get and delete by id."""

from __future__ import annotations

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio

BULK = 1_200


async def test_bulk_create_get_update_delete(h: Harness) -> None:
    await h.call(
        "create_table",
        name="bulk",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    rows = [{"title": f"item {i}", "n": i} for i in range(BULK)]
    h.progress.clear()
    created = await h.call("create_records", table="bulk", records=rows)
    assert created["created"] == BULK
    records = await h.all_records("bulk")
    assert sorted(r["fields"]["n"] for r in records) == list(range(BULK))
    by_n = {r["fields"]["n"]: r["id"] for r in records}
    if created["ids"] is not None:
        assert created["ids"] == [by_n[i] for i in range(BULK)]  # ids in input order
    if h.svc.providers[h.provider].limits.create_batch < BULK:  # more than one batch: progress to the total
        assert h.progress and h.progress[-1][0] == BULK and h.progress[-1][1] == BULK
        assert [p[0] for p in h.progress] == sorted(p[0] for p in h.progress)

    some = [by_n[i] for i in (0, 599, 1199)]
    got = await h.call("get_records", table="bulk", record_ids=[*some, "recDoesNotExist"])
    assert [r["fields"]["n"] for r in got["records"]] == [0, 599, 1199]
    assert got["missing"] == ["recDoesNotExist"]

    if "update" in h.caps["records"]:
        updates = [{"id": by_n[i], "fields": {"title": f"changed {i}"}} for i in range(0, BULK, 3)]
        assert await h.call("update_records", table="bulk", records=updates) == {"updated": len(updates)}
        after = {r["fields"]["n"]: r["fields"]["title"] for r in await h.all_records("bulk")}
        assert all(after[i] == (f"changed {i}" if i % 3 == 0 else f"item {i}") for i in range(BULK))

    doomed = [by_n[i] for i in range(0, BULK, 2)]
    assert await h.call("delete_records", table="bulk", record_ids=doomed) == {"deleted": len(doomed)}
    left = await h.all_records("bulk")
    assert sorted(r["fields"]["n"] for r in left) == list(range(1, BULK, 2))


async def test_get_records_reports_missing(h: Harness) -> None:
    await h.call("create_table", name="few", fields=[{"name": "title", "type": "text"}])
    await h.call("create_records", table="few", records=[{"title": "one"}])
    (record,) = await h.all_records("few")
    got = await h.call("get_records", table="few", record_ids=[record["id"], record["id"]])
    assert [r["id"] for r in got["records"]] == [record["id"]] and got["missing"] == []
