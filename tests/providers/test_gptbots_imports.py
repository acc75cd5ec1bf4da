"""create_records on GPTBots: the asynchronous import, followed to its end, with every record either
stored exactly once or reported with its reason."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.providers.gptbots import imports
from tests.emulators.base import LostResponse, json_response
from tests.emulators.gptbots import GPTBotsEmulator, _BadRequest
from tests.providers.gptbots_harness import AGENT, KEY, emulator, fast, gptbots, provider

pytestmark = pytest.mark.anyio

KEYED = [
    {"name": "code", "type": "TEXT", "required": True, "unique": True},
    {"name": "title", "type": "TEXT"},
    {"name": "n", "type": "INT"},
]
PLAIN = [{"name": "title", "type": "TEXT"}, {"name": "n", "type": "INT"}]


def keyed_rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"code": f"k{i}", "title": f"row {i}", "n": i} for i in range(start, start + count)]


def sent_rows(capture: Any) -> list[dict[str, Any]]:
    out = []
    for body in capture.bodies("/import/records"):
        out.extend(r.get("values", r) for r in body["records"])
    return out


async def test_bad_records_are_refused_before_sending_and_good_ones_stored_once(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(
        AGENT,
        "keyed",
        [
            *KEYED,
            {"name": "ok", "type": "BOOLEAN", "required": True},
            {"name": "note", "type": "TEXT", "required": True},
        ],
        records=[{"code": "old", "title": "stored before", "n": -1, "ok": True, "note": "x"}],
    )
    rows = [{**r, "note": "n"} for r in keyed_rows(1500)]
    rows[3]["code"] = "old"  # already in the table
    rows[1200]["code"] = "k7"  # repeats record 7, in another batch of 1,000
    rows[10]["code"] = "k11"  # repeats record 11, later in the same batch: record 11 is the refused one
    del rows[20]["code"]  # a unique field without a value
    del rows[30]["note"]  # a required field without a value
    async with gptbots(tmp_path, emu) as (h, capture):
        result = await h.call("create_records", table="keyed", records=rows)
    failed = {f["index"]: f["error"] for f in result["failed"]}
    assert sorted(failed) == [3, 11, 20, 30, 1200]
    assert "already in the table (record 1860000000000000001)" in failed[3] and "update_records" in failed[3]
    assert "'k7'" in failed[1200] and "already in the table" in failed[1200]
    assert "earlier record of this call" in failed[11]
    assert "'code' is unique" in failed[20] and "'note' is required" in failed[30]
    assert result["created"] == 1495 and result["ids"] is None
    # The refused records were never sent, so no group of 10 was discarded: every good one is stored once.
    sent_codes = [r.get("code") for r in sent_rows(capture)]
    assert len(sent_codes) == 1495 and "old" not in sent_codes
    stored = Counter(row["code"] for row in emu.rows(table_id))
    assert all(n == 1 for n in stored.values()) and len(stored) == 1496
    # A required checkbox left out is written false (as it reads).
    assert all(row["ok"] is False for row in emu.rows(table_id)[1:])


@pytest.mark.parametrize(
    ("discard", "results"),
    [
        ("chunk", {}),
        ("rows", {}),
        ("chunk", {"import_results_legacy": True}),  # status and progress only: every row is looked up
        ("rows", {"failed_task_progress": "success_ratio"}),  # a finished FAIL task below progress 1
    ],
)
async def test_what_slips_past_the_checks_is_reported_and_discarded_records_are_sent_again(
    tmp_path: Path, discard: str, results: dict[str, Any]
) -> None:
    emu = emulator(import_discard=discard, **results)
    table_id = emu.add_table(AGENT, "race", KEYED)
    async with gptbots(tmp_path, emu) as (h, capture):
        p = fast(h)

        async def nothing_stored_yet(table: Any, wanted: Any) -> dict[str, Any]:
            emu.add_records(table_id, [{"code": "k5", "title": "someone else's"}, {"code": "k42"}])
            return {}  # another client stores k5 and k42 right after our check

        p.uniques.holders = nothing_stored_yet  # type: ignore[method-assign]
        result = await h.call("create_records", table="race", records=keyed_rows(100))
    failed = {f["index"]: f["error"] for f in result["failed"]}
    assert sorted(failed) == [5, 42]
    assert all("Duplicate entry" in e or "already in the table" in e for e in failed.values())
    assert result["created"] == 98
    stored = Counter(row["code"] for row in emu.rows(table_id))
    assert set(stored) == {f"k{i}" for i in range(100)} and all(n == 1 for n in stored.values())
    theirs = {row["title"] for row in emu.rows(table_id) if row["code"] in ("k5", "k42")}
    assert theirs == {"someone else's", None}
    if discard == "chunk" and not results:
        # The 18 good records of the two discarded groups went again, on their own.
        assert len(capture.bodies("/import/records")) == 2
        assert len(sent_rows(capture)) == 100 + 18


async def test_a_bad_record_whose_row_is_not_named_is_isolated(tmp_path: Path) -> None:
    emu = emulator(fail_rows_named=False)  # failed groups named by their range only
    table_id = emu.add_table(AGENT, "unnamed", KEYED)
    async with gptbots(tmp_path, emu) as (h, _):
        p = fast(h)

        async def stale(table: Any, wanted: Any) -> dict[str, Any]:
            emu.add_records(table_id, [{"code": "k13"}])
            return {}

        p.uniques.holders = stale  # type: ignore[method-assign]
        result = await h.call("create_records", table="unnamed", records=keyed_rows(30))
    (failure,) = result["failed"]
    assert failure["index"] == 13 and "Duplicate entry" in failure["error"]
    assert result["created"] == 29
    assert sorted(row["code"] for row in emu.rows(table_id)) == sorted(f"k{i}" for i in range(30))


async def test_lost_answer_with_a_unique_field_is_sent_again_without_duplicates(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "lost", KEYED)
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h)
        emu.faults.add("lost_response", match="import/records")
        result = await h.call("create_records", table="lost", records=keyed_rows(35))
    assert result == {"created": 35, "ids": None}
    assert len(capture.bodies("/import/records")) == 2  # the lost one, and the one sent again
    assert Counter(row["code"] for row in emu.rows(table_id)) == Counter(f"k{i}" for i in range(35))


async def test_lost_answer_without_a_unique_field_waits_for_the_records(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "plain", PLAIN)
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h, lost_grace=5.0)
        emu.faults.add("lost_response", match="import/records")
        rows = [{"title": f"t{i}", "n": i} for i in range(25)]
        result = await h.call("create_records", table="plain", records=rows)
    assert result == {"created": 25, "ids": None}
    assert len(capture.bodies("/import/records")) == 1  # never sent twice
    assert sorted(row["n"] for row in emu.rows(table_id)) == list(range(25))


class LostRequest(GPTBotsEmulator):
    """An import whose request is lost on the way: nothing is created, no answer comes."""

    async def _import_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        raise LostResponse()


async def test_lost_answer_without_unique_field_and_no_records_says_so(tmp_path: Path) -> None:
    emu = LostRequest(api_keys={KEY: AGENT})
    table_id = emu.add_table(AGENT, "plain", PLAIN)
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h, lost_grace=0.3)
        message = await h.fails("create_records", table="plain", records=[{"title": "a"}, {"title": "b"}])
    assert "answer was lost" in message and "query_records" in message and "before creating" in message
    assert len(capture.bodies("/import/records")) == 1 and emu.rows(table_id) == []


async def test_an_import_that_never_finishes_says_what_to_do(tmp_path: Path) -> None:
    emu = emulator(import_min_seconds=30.0)
    emu.add_table(AGENT, "slow", PLAIN)
    async with gptbots(tmp_path, emu) as (h, _):
        fast(h, poll_timeout=0.3)
        message = await h.fails("create_records", table="slow", records=[{"title": "a"}])
    assert "still importing 1 records" in message and "do not create them again" in message


class UnlistedTasks(GPTBotsEmulator):
    """import-results that never lists the task (an id it does not know)."""

    async def _import_results(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        return json_response(200, {"code": 0, "message": "OK", "data": []})


async def test_an_import_task_never_listed_says_what_to_do(tmp_path: Path) -> None:
    emu = UnlistedTasks(api_keys={KEY: AGENT})
    emu.add_table(AGENT, "unlisted", PLAIN)
    async with gptbots(tmp_path, emu) as (h, _):
        fast(h, poll_timeout=0.3)
        message = await h.fails("create_records", table="unlisted", records=[{"title": "a"}])
    assert "has not listed the task" in message and "before creating them again" in message


async def test_imports_are_split_by_the_csv_size_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "wide", PLAIN)
    monkeypatch.setattr(imports, "CSV_BUDGET", 3_000)
    async with gptbots(tmp_path, emu) as (h, capture):
        rows = [{"title": "x" * 200, "n": i} for i in range(40)]
        assert (await h.call("create_records", table="wide", records=rows))["created"] == 40
    sizes = [len(body["records"]) for body in capture.bodies("/import/records")]
    assert len(sizes) > 1 and sum(sizes) == 40 and max(sizes) <= 14
    assert sorted(row["n"] for row in emu.rows(table_id)) == list(range(40))


async def test_an_import_over_the_limits_is_halved(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "halved", PLAIN)
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h)
        emu.faults.queue.clear()
        real = emu._csv_size
        emu._csv_size = lambda table, rows: real(table, rows) * (10**7 if len(rows) > 8 else 1)  # type: ignore[method-assign]
        rows = [{"title": f"t{i}", "n": i} for i in range(20)]
        assert (await h.call("create_records", table="halved", records=rows))["created"] == 20
    assert [len(b["records"]) for b in capture.bodies("/import/records")] == [20, 10, 5, 5, 10, 5, 5]
    assert sorted(row["n"] for row in emu.rows(table_id)) == list(range(20))


class FlatOnly(GPTBotsEmulator):
    """A service that takes only flat records: a ``values`` wrapper reads as a field named values."""

    async def _import_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = json.loads(request.content)
        body["records"] = [dict(r, _=None) if set(r) == {"values"} else r for r in body["records"]]
        rebuilt = httpx.Request(request.method, request.url, headers=request.headers, json=body)
        return await super()._import_records(rebuilt, agent_id)


class FlatOnlyStrict(GPTBotsEmulator):
    """A service that refuses the whole request when records are wrapped in ``values``."""

    async def _import_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        if any(set(r) == {"values"} for r in json.loads(request.content)["records"]):
            raise _BadRequest(40000, "Parameter error: unknown key 'values' in records")
        return await super()._import_records(request, agent_id)


@pytest.mark.parametrize("service", [FlatOnly, FlatOnlyStrict])
async def test_records_go_flat_when_the_values_wrapper_is_refused(
    tmp_path: Path, service: type[GPTBotsEmulator]
) -> None:
    emu = service(api_keys={KEY: AGENT})
    table_id = emu.add_table(AGENT, "flat", PLAIN)
    async with gptbots(tmp_path, emu) as (h, capture):
        first = await h.call("create_records", table="flat", records=[{"title": "a", "n": 1}])
        second = await h.call("create_records", table="flat", records=[{"title": "b", "n": 2}])
    assert first == second == {"created": 1, "ids": None}
    shapes = [list(body["records"][0]) for body in capture.bodies("/import/records")]
    assert shapes == [["values"], ["title", "n"], ["title", "n"]]  # learnt once
    assert [row["title"] for row in emu.rows(table_id)] == ["a", "b"]


async def test_progress_is_reported_over_a_multi_batch_import(tmp_path: Path) -> None:
    emu = emulator()
    emu.add_table(AGENT, "big", KEYED)
    async with gptbots(tmp_path, emu) as (h, _):
        h.progress.clear()
        result = await h.call("create_records", table="big", records=keyed_rows(2500))
        assert result["created"] == 2500
        assert [p[:2] for p in h.progress] == [(1000, 2500), (2000, 2500), (2500, 2500)]
        assert h.progress[-1][2] == "created 2500 of 2500"


async def test_polling_follows_the_reported_progress(tmp_path: Path) -> None:
    emu = emulator(import_seconds_per_1000_rows=0.5)
    emu.add_table(AGENT, "timed", PLAIN)
    async with gptbots(tmp_path, emu) as (h, _):
        p = provider(h)
        rows = [{"title": f"t{i}", "n": i} for i in range(1000)]
        assert (await h.call("create_records", table="timed", records=rows))["created"] == 1000
        assert p.importer.polls <= 6  # not a tight loop, not a long sleep past the end


async def test_a_few_records_into_a_big_table_check_their_values_one_by_one(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "big", KEYED, records=keyed_rows(1000))
    async with gptbots(tmp_path, emu) as (h, capture):
        await h.call("describe_table", table="big")
        before = len(capture.bodies("/records/page"))
        result = await h.call(
            "create_records", table="big", records=[{"code": "new1"}, {"code": "k500"}, {"code": "new2"}]
        )
        reads = capture.bodies("/records/page")[before:]
    assert result["created"] == 2 and [f["index"] for f in result["failed"]] == [1]
    # One page to count, then one filtered lookup per value: not the 10 pages of a full read.
    assert reads[0].get("filter") is None
    assert sorted(r["filter"]["code"] for r in reads[1:]) == ["k500", "new1", "new2"]
    assert len(emu.rows(table_id)) == 1002


@pytest.mark.parametrize("tool", ["update_records", "delete_records"])
async def test_a_lost_answer_to_an_update_or_delete_is_safely_repeated(tmp_path: Path, tool: str) -> None:
    emu = emulator()
    table_id = emu.add_table(AGENT, "t", PLAIN, records=[{"title": f"t{i}", "n": i} for i in range(5)])
    async with gptbots(tmp_path, emu) as (h, capture):
        fast(h)
        ids = [r["id"] for r in await h.all_records("t")]
        emu.faults.add("lost_response", match="update/record|delete/record")
        if tool == "update_records":
            result = await h.call(tool, table="t", records=[{"id": ids[0], "fields": {"n": 50}}])
            assert result == {"updated": 1} and emu.rows(table_id)[0]["n"] == 50
            assert len(capture.bodies("/update/record")) == 2
        else:
            assert await h.call(tool, table="t", record_ids=ids[:2]) == {"deleted": 2}
            assert [row["n"] for row in emu.rows(table_id)] == [2, 3, 4]
            assert len(capture.bodies("/delete/record")) == 2
