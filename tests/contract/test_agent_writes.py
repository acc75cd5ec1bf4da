"""Writes by filter (where + set, where on delete) with dry runs and guards, and upserts by key:
state afterwards exactly as expected, bad input changing nothing, faults injected mid-write."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
import pytest

from anytable.core import writing
from tests.harness import Harness

pytestmark = pytest.mark.anyio

N = 30


async def numbered(h: Harness, n: int = N) -> dict[int, str]:
    await h.call(
        "create_table",
        name="jobs",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    await h.call("create_records", table="jobs", records=[{"title": f"job {i}", "n": i} for i in range(n)])
    return {r["fields"]["n"]: r["id"] for r in await h.all_records("jobs")}


async def state(h: Harness) -> dict[int, str | None]:
    return {r["fields"]["n"]: r["fields"].get("title") for r in await h.all_records("jobs")}


async def test_update_by_where_with_dry_run_and_max(h: Harness) -> None:
    await numbered(h)
    before = await state(h)
    low = {"field": "n", "op": "lt", "value": 10}
    dry = await h.call("update_records", table="jobs", where=low, set={"title": "low"}, dry_run=True)
    assert dry["updated"] == 0 and dry["matched"] == 10
    assert 1 <= len(dry["sample"]) <= 5
    assert all(s["fields"]["title"] == "low" and s["fields"]["n"] < 10 for s in dry["sample"])
    assert await state(h) == before  # a dry run changes nothing

    message = await h.fails("update_records", table="jobs", where=low, set={"title": "low"}, max=9)
    assert "10" in message and "max" in message
    assert await state(h) == before

    done = await h.call("update_records", table="jobs", where=low, set={"title": "low"}, max=10)
    assert done == {"updated": 10, "matched": 10}
    assert await state(h) == {i: ("low" if i < 10 else f"job {i}") for i in range(N)}

    every = await h.call("update_records", table="jobs", where={"all": True}, set={"title": None})
    assert every == {"updated": N, "matched": N}
    assert await state(h) == dict.fromkeys(range(N))


async def test_delete_by_where(h: Harness) -> None:
    await numbered(h)
    odd = {"or": [{"field": "n", "op": "in", "value": list(range(1, N, 2))}]}
    dry = await h.call("delete_records", table="jobs", where=odd, dry_run=True)
    assert dry["deleted"] == 0 and dry["matched"] == N // 2 and len(dry["sample"]) == 5
    assert len(await state(h)) == N
    assert await h.call("delete_records", table="jobs", where=odd) == {"deleted": N // 2, "matched": N // 2}
    assert sorted(await state(h)) == list(range(0, N, 2))
    none = await h.call("delete_records", table="jobs", where={"field": "n", "op": "gt", "value": 999})
    assert none == {"deleted": 0, "matched": 0}


async def test_the_guard_needs_a_dry_run_or_max(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await numbered(h, 12)
    monkeypatch.setattr(writing, "GUARD", 10)  # the guard's logic, on a table small enough for every provider
    where = {"field": "n", "op": "gte", "value": 0}
    message = await h.fails("delete_records", table="jobs", where=where)
    assert "dry_run" in message and "max" in message
    assert len(await state(h)) == 12
    await h.call("delete_records", table="jobs", where=where, dry_run=True)
    assert await h.call("delete_records", table="jobs", where=where) == {"deleted": 12, "matched": 12}


@pytest.mark.parametrize(
    ("tool", "args", "must_say"),
    [
        ("update_records", {"where": {}, "set": {"title": "x"}}, ["where is empty", '"all": true']),
        ("delete_records", {"where": {}}, ["where is empty", '"all": true']),
        ("update_records", {"where": {"field": "n", "op": "lt", "value": 5}}, ["set"]),
        (
            "update_records",
            {"where": {"field": "n", "op": "lt", "value": 5}, "set": {"n": "many"}},
            ["set", "'n'"],
        ),
        (
            "update_records",
            {"where": {"field": "nope", "op": "eq", "value": 1}, "set": {"title": "x"}},
            ["nope"],
        ),
        ("update_records", {"where": {"all": True}, "set": {"nope": 1}}, ["nope", "title"]),
        (
            "update_records",
            {"where": {"all": True}, "set": {"title": "x"}, "records": [{"id": "r", "fields": {}}]},
            ["not both"],
        ),
    ],
)
async def test_bad_writes_by_filter_change_nothing(
    h: Harness, tool: str, args: dict[str, Any], must_say: list[str]
) -> None:
    await numbered(h, 6)
    before = await state(h)
    message = await h.fails(tool, table="jobs", **args)
    for text in must_say:
        assert text.lower() in message.lower(), message
    assert await state(h) == before


async def test_upsert_updates_or_skips_by_key(h: Harness) -> None:
    await numbered(h, 3)
    out = await h.call(
        "create_records",
        table="jobs",
        records=[{"title": "  JOB 1 ", "n": 100}, {"title": "job 9", "n": 9}],
        key=["title"],
    )
    assert (out["created"], out["updated"], out["skipped"]) == (1, 1, 0)
    after = {r["fields"]["title"]: r["fields"]["n"] for r in await h.all_records("jobs")}
    assert after == {"job 0": 0, "job 1": 100, "job 2": 2, "job 9": 9}  # the key kept its stored spelling
    if out["ids"] is not None:
        by_title = {r["fields"]["title"]: r["id"] for r in await h.all_records("jobs")}
        assert out["ids"] == [by_title["job 1"], by_title["job 9"]]

    skip = await h.call(
        "create_records",
        table="jobs",
        records=[{"title": "job 2", "n": -1}, {"title": "job 10", "n": 10}],
        key=["title"],
        on_match="skip",
    )
    assert (skip["created"], skip["updated"], skip["skipped"]) == (1, 0, 1)
    by_n = await h.call("create_records", table="jobs", records=[{"title": "zero", "n": 0}], key=["n"])
    assert (by_n["created"], by_n["updated"]) == (0, 1)
    final = {r["fields"]["n"]: r["fields"]["title"] for r in await h.all_records("jobs")}
    assert final == {0: "zero", 100: "job 1", 2: "job 2", 9: "job 9", 10: "job 10"}


async def test_upsert_matches_a_stored_key_with_unicode_outer_space(h: Harness) -> None:
    """A stored key with a full-width (U+3000) or no-break (U+00A0) space around it is the same key,
    as str.strip() says, on every provider (local compared it with SQL trim(): ASCII spaces only)."""
    await h.call(
        "create_table",
        name="jobs",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    await h.call(
        "create_records",
        table="jobs",
        records=[{"title": "\u3000Alpha\u3000", "n": 1}, {"title": "\xa0beta\u2003", "n": 2}],
    )
    out = await h.call(
        "create_records",
        table="jobs",
        records=[{"title": "alpha", "n": 10}, {"title": "BETA", "n": 20}],
        key=["title"],
    )
    assert (out["created"], out["updated"]) == (0, 2)
    assert sorted(r["fields"]["n"] for r in await h.all_records("jobs")) == [10, 20]  # no duplicate


@pytest.mark.parametrize(
    ("records", "key", "must_say"),
    [
        ([{"title": "a", "n": 1}, {"title": " A", "n": 2}], ["title"], ["records 0 and 1", "same key"]),
        ([{"title": "a", "n": 1}, {"n": 2}], ["title"], ["record 1", "'title'"]),
        ([{"title": "a"}], ["nope"], ["key", "nope"]),
        ([{"title": "a"}], [], ["key"]),
    ],
)
async def test_bad_upserts_change_nothing(
    h: Harness, records: list[dict[str, Any]], key: list[str], must_say: list[str]
) -> None:
    await numbered(h, 2)
    before = await state(h)
    message = await h.fails("create_records", table="jobs", records=records, key=key)
    for text in must_say:
        assert text.lower() in message.lower(), message
    assert await state(h) == before


async def test_faults_during_a_write_by_filter_and_an_upsert(h: Harness) -> None:
    if h.emulator is None:
        pytest.skip("faults are injected in the emulators")
    await numbered(h, 40)
    h.emulator.faults.rate = 0.2
    try:
        where = {"field": "n", "op": "gte", "value": 20}
        assert await h.call("update_records", table="jobs", where=where, set={"title": "late"}) == {
            "updated": 20,
            "matched": 20,
        }
        records = [{"title": f"job {i}", "n": 1000 + i} for i in range(0, 40, 4)]
        records += [{"title": f"new {i}", "n": 2000 + i} for i in range(5)]
        out = await h.call("create_records", table="jobs", records=records, key=["title"])
        # job 0..16 exist (updated); job 20..36 were just renamed "late", so those keys are new
        assert (out["created"], out["updated"], out["skipped"]) == (10, 5, 0)
    finally:
        h.emulator.faults.rate = 0.0
    assert sum(h.emulator.faults.injected.values()) > 0
    expected: dict[int, str | None] = {i: ("late" if i >= 20 else f"job {i}") for i in range(40)}
    for i in range(0, 20, 4):
        expected[1000 + i] = expected.pop(i)
    expected.update({1000 + i: f"job {i}" for i in range(20, 40, 4)})
    expected.update({2000 + i: f"new {i}" for i in range(5)})
    assert await state(h) == expected


UPDATE_REQUESTS = {
    "dingtalk": r"PUT .*/records$",
    "feishu": r"POST .*/records/batch_update$",
    "gptbots": r"POST /v2/database/update/record$",
}


async def test_a_write_by_filter_stopped_part_way_says_so_and_finishes_when_called_again(h: Harness) -> None:
    if h.emulator is None or h.provider not in UPDATE_REQUESTS:
        pytest.skip("faults are injected in the emulators")
    emu = h.emulator
    size = h.svc.providers[h.provider].limits.update_batch
    n = size + 5  # two batches
    await numbered(h, n)
    pattern = re.compile(UPDATE_REQUESTS[h.provider])
    handle = emu.handle
    updates = {"n": 0}

    async def second_batch_fails(request: httpx.Request) -> httpx.Response:
        target = f"{request.method} {request.url.path}"
        if pattern.search(target):
            updates["n"] += 1
            if updates["n"] == 2:  # every try of the second batch fails
                emu.faults.add("transient", match=pattern.pattern, times=20)
        return await handle(request)

    emu.handle = second_batch_fails  # type: ignore[method-assign]
    where = {"field": "n", "op": "gte", "value": 0}
    message = await h.fails("update_records", table="jobs", where=where, set={"title": "done"})
    emu.faults.queue.clear()
    emu.handle = handle  # type: ignore[method-assign]
    assert f"{size} of the {n} records were updated" in message and "the same where" in message, message
    titles = await state(h)
    assert sum(1 for t in titles.values() if t == "done") == size
    again = await h.call(
        "update_records",
        table="jobs",
        where={"field": "title", "op": "neq", "value": "done"},
        set={"title": "done"},
    )
    assert again["updated"] == 5
    assert await state(h) == dict.fromkeys(range(n), "done")


async def test_upsert_by_a_multi_select_key(h: Harness) -> None:
    if "multi_select" not in h.caps["field_types"]:
        pytest.skip(f"{h.provider} has no multi_select fields")
    await h.call(
        "create_table",
        name="tagged",
        fields=[
            {"name": "title", "type": "text"},
            {"name": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
        ],
    )
    await h.call("create_records", table="tagged", records=[{"title": "one", "tags": ["a", "b"]}])
    out = await h.call(
        "create_records",
        table="tagged",
        records=[{"title": "two", "tags": ["a", "b"]}, {"title": "three", "tags": ["c"]}],
        key=["tags"],
    )
    assert (out["created"], out["updated"], out["skipped"]) == (1, 1, 0)
    after = sorted((r["fields"]["title"], tuple(r["fields"]["tags"])) for r in await h.all_records("tagged"))
    assert after == [("three", ("c",)), ("two", ("a", "b"))]


async def test_many_values_are_checked_off_the_event_loop(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking many values takes long: a worker thread does it, never the event loop. A few (about
    a millisecond of work) are checked in place, so that many small concurrent calls do not each
    take a thread."""
    threads: list[threading.Thread] = []
    coercer = writing.record_coercer

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return coercer(*args, **kwargs)

    monkeypatch.setattr(writing, "record_coercer", spy)
    ids = await numbered(h, writing.INLINE_CHECK // 2 + 1)  # two values a record: just over the line
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    threads.clear()
    await h.call("update_records", table="jobs", records=[{"id": ids[0], "fields": {"title": "x"}}])
    await h.call(
        "update_records", table="jobs", where={"field": "n", "op": "eq", "value": 1}, set={"title": "y"}
    )
    await h.call("create_records", table="jobs", records=[{"title": "z", "n": -1}])
    assert threads == [threading.main_thread()] * 3
