"""GPTBots answers in both shapes, every documented error code as a message that says what to do,
and retries of what is safe to retry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.errors import ProviderError
from anytable.providers.gptbots.errors import MESSAGES, unwrap
from tests.emulators.gptbots import GPTBotsEmulator
from tests.providers.gptbots_harness import AGENT, KEY, emulator, fast, gptbots

pytestmark = pytest.mark.anyio

DOCUMENTED = [40000, 50000, 403100, 403101, 403102, 403103, 403104, 403105, 403106, 403108, 403111, 403131]
# What each message must tell the caller to do (in the tool's terms).
MUST_SAY = {
    40000: ["parameters", "arguments"],
    50000: ["internal", "again"],
    403100: ["table name", "32 characters"],
    403101: ["description", "shorter table name"],
    403102: ["at least one", "fields"],
    403103: ["field name", "32 characters", "rename"],
    403104: ["field description", "shorter field names"],
    403105: ["type", "text, number, date or checkbox"],
    403106: ["no such table", "list_tables"],
    403108: ["already exists", "another name"],
    403111: ["more fields", "fewer fields"],
    403131: ["another", "agent", "GPTBOTS_AGENT_ID"],
}


def answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


def test_every_documented_code_has_a_message() -> None:
    assert sorted(MESSAGES) == sorted(DOCUMENTED)


@pytest.mark.parametrize("code", DOCUMENTED)
@pytest.mark.parametrize("style", ["mapped", "always_200"])
def test_documented_codes_say_what_to_do(code: int, style: str) -> None:
    status = 200 if style == "always_200" else (403 if code > 100000 else code // 100)
    with pytest.raises(ProviderError) as info:
        unwrap(answer(status, {"code": code, "message": "Something went wrong"}), masked_key="abcd****")
    error = info.value
    text = str(error)
    for words in MUST_SAY[code]:
        assert words.lower() in text.lower(), (code, text)
    assert f"gptbots code {code}" in text and "GPTBots said: Something went wrong" in text
    assert error.kind == ("transient" if code == 50000 else "fatal")


def test_both_shapes_of_a_good_answer() -> None:
    key = "abcd****"
    assert unwrap(answer(200, {"code": 0, "message": "OK", "data": "t1"}), masked_key=key) == "t1"
    assert unwrap(answer(200, {"code": 0, "message": "success", "data": ["x"]}), masked_key=key) == ["x"]
    assert unwrap(answer(200, {"tables": []}), masked_key=key) == {"tables": []}
    assert unwrap(answer(200, [{"id": "t"}]), masked_key=key) == [{"id": "t"}]
    assert (
        unwrap(answer(200, {"code": "0", "message": "OK", "progress": 1, "data": []}), masked_key=key) == []
    )
    assert unwrap(answer(200, {"code": 0, "message": "OK"}), masked_key=key) == {}
    assert unwrap(httpx.Response(200), masked_key=key) is None


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"code": 40127, "message": "Developer authentication failed"}, "auth"),
        (401, None, "auth"),
        (403, {"message": "forbidden"}, "auth"),
        (429, {"code": 42900, "message": "Too many requests"}, "throttle"),
        (429, None, "throttle"),
        (503, None, "transient"),
        (502, None, "unknown_outcome"),
        (504, None, "unknown_outcome"),
        (200, "<html>gateway</html>", "unknown_outcome"),
        (404, {"code": 40400, "message": "Not Found"}, "fatal"),
    ],
)
def test_other_answers_by_status(status: int, body: Any, kind: str) -> None:
    if isinstance(body, str):
        response = httpx.Response(status, content=body.encode())
    elif body is None:
        response = httpx.Response(status)
    else:
        response = answer(status, body)
    with pytest.raises(ProviderError) as info:
        unwrap(response, masked_key="abcd****")
    assert info.value.kind == kind
    if kind == "auth":
        assert "GPTBOTS_API_KEY" in str(info.value) and "abcd****" in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"tables_page_envelope": True, "records_page_envelope": False, "update_envelope": True},
        {"import_results_legacy": True, "error_status": "always_200"},
        {"import_results_bare": True, "failed_task_progress": "success_ratio"},
    ],
    ids=["default", "other-envelopes", "legacy-results", "bare-results"],
)
async def test_every_tool_reads_both_shapes(tmp_path: Path, options: dict[str, Any]) -> None:
    emu = GPTBotsEmulator(api_keys={KEY: AGENT}, **options)
    table_id = emu.add_table(
        AGENT,
        "shapes",
        [{"name": "code", "type": "TEXT", "unique": True, "required": True}, {"name": "n", "type": "INT"}],
        records=[{"code": "taken", "n": 0}],
    )
    async with gptbots(tmp_path, emu) as (h, _):
        assert (await h.call("list_tables"))["tables"] == [{"id": table_id, "name": "shapes"}]
        rows = [{"code": f"c{i}", "n": i} for i in range(25)] + [{"code": "taken", "n": 99}]
        created = await h.call("create_records", table="shapes", records=rows)
        assert created["created"] == 25 and created["ids"] is None
        (failure,) = created["failed"]
        assert failure["index"] == 25 and "already in the table" in failure["error"]
        records = await h.all_records("shapes")
        assert sorted(r["fields"]["n"] for r in records) == sorted([*range(25), 0])
        by_code = {r["fields"]["code"]: r["id"] for r in records}
        assert await h.call(
            "update_records", table="shapes", records=[{"id": by_code["c1"], "fields": {"n": 100}}]
        ) == {"updated": 1}
        message = await h.fails(
            "update_records", table="shapes", records=[{"id": "404404", "fields": {"n": 1}}]
        )
        assert "404404" in message and "not found" in message
        assert await h.call("delete_records", table="shapes", record_ids=[by_code["c2"]]) == {"deleted": 1}
        assert sorted(row["code"] for row in emu.rows(table_id)) == sorted(
            ["taken"] + [f"c{i}" for i in range(25) if i != 2]
        )
        emu.tables.pop(table_id)  # deleted in GPTBots meanwhile
        message = await h.fails("query_records", table=table_id)
        assert "403106" in message and "list_tables" in message


async def test_throttling_and_transient_errors_are_retried(tmp_path: Path) -> None:
    emu = emulator()
    async with gptbots(tmp_path, emu) as (h, _):
        fast(h)
        await h.call("create_table", name="flaky", fields=[{"name": "title", "type": "text"}])
        emu.faults.add("throttle", match="import/records")
        emu.faults.add("transient", match="import/records")
        emu.faults.add("transient", match="import-results")
        emu.faults.add("throttle", match="records/page")
        emu.faults.add("transient", match="update/record")
        emu.faults.add("throttle", match="delete/record")
        created = await h.call(
            "create_records", table="flaky", records=[{"title": f"t{i}"} for i in range(30)]
        )
        assert created["created"] == 30
        records = await h.all_records("flaky")
        assert sorted(r["fields"]["title"] for r in records) == sorted(f"t{i}" for i in range(30))
        await h.call(
            "update_records", table="flaky", records=[{"id": records[0]["id"], "fields": {"title": "x"}}]
        )
        await h.call("delete_records", table="flaky", record_ids=[records[1]["id"]])
        titles = sorted(r["fields"]["title"] for r in await h.all_records("flaky"))
        assert len(titles) == 29 and titles.count("x") == 1
        assert emu.faults.queue == []  # every fault was met, and overcome


async def test_retries_give_up_with_a_clear_message(tmp_path: Path) -> None:
    emu = emulator()
    async with gptbots(tmp_path, emu) as (h, _):
        fast(h)
        emu.faults.add("transient", match="tables/page", times=10)
        message = await h.fails("list_tables")
        assert "internal error" in message and "Gave up after 4 tries" in message and "50000" in message
