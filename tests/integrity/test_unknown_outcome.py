"""A write whose answer was lost is never reported as "not created" unless the server checked:
giving up after a lost answer reconciles first, or says the outcome is unknown (issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anytable.providers.retry import RetryPolicy
from tests.harness import serve
from tests.providers import feishu_harness as fh
from tests.providers import gptbots_harness as gh

pytestmark = pytest.mark.anyio

PLAIN = [{"name": "title", "type": "TEXT"}, {"name": "n", "type": "INT"}]
SHORT = RetryPolicy(attempts=6, base_delay=0.001, max_delay=1.0, max_total_wait=2.5)


async def test_feishu_lost_create_answer_then_throttling_is_not_reported_as_not_created(
    tmp_path: Path,
) -> None:
    emu = fh.emulator()
    async with serve("feishu", fh.env(), tmp_path, emulator=emu, base=fh.APP_TOKEN) as h:
        h.svc.providers["feishu"].api.http.retry = SHORT  # type: ignore[attr-defined]
        await h.call("create_table", name="T", fields=[{"name": "n", "type": "number"}])
        emu.faults.add("lost_response", match="batch_create")
        emu.faults.add("throttle", match="batch_create", times=20)
        message = await h.fails("create_records", table="T", records=[{"n": i} for i in range(700)])
        stored = sorted(r["fields"]["n"] for r in await h.all_records("T"))
    assert stored == list(range(500))  # the first batch was stored; its answer was lost
    assert "call the tool again" not in message, message
    assert "records 0-499" in message and "is not known" in message, message
    assert "records 500-699 were not" in message, message


async def test_gptbots_import_accepted_then_polling_failing_is_reconciled(tmp_path: Path) -> None:
    emu = gh.emulator()
    table_id = emu.add_table(gh.AGENT, "plain", PLAIN)
    async with gh.gptbots(tmp_path, emu) as (h, capture):
        gh.fast(h, lost_grace=5.0)
        emu.faults.add("transient", match="import-results", times=40)  # every poll fails
        result = await h.call(
            "create_records", table="plain", records=[{"title": f"t{i}", "n": i} for i in range(25)]
        )
    # The import ran: the table says so, and the result says so (calling again would duplicate).
    assert result == {"created": 25, "ids": None}
    assert sorted(row["n"] for row in emu.rows(table_id)) == list(range(25))
    assert len(capture.bodies("/import/records")) == 1


async def test_gptbots_import_accepted_then_everything_failing_is_unknown_not_not_created(
    tmp_path: Path,
) -> None:
    emu = gh.emulator()
    table_id = emu.add_table(gh.AGENT, "plain", PLAIN)
    async with gh.gptbots(tmp_path, emu) as (h, _):
        gh.fast(h, lost_grace=0.5)
        rows = [{"title": f"t{i}", "n": i} for i in range(1500)]
        first = {"done": False}

        # Fail every read once the second import is accepted: polling and checking both fail.
        original = emu.handle

        async def handle(request: Any) -> Any:
            if request.url.path.endswith("import/records"):
                response = await original(request)
                if first["done"]:
                    emu.faults.add("transient", match="GET|records/page|query", times=10_000)
                first["done"] = True
                return response
            return await original(request)

        emu.handle = handle  # type: ignore[method-assign]
        message = await h.fails("create_records", table="plain", records=rows)
    stored = sorted(row["n"] for row in emu.rows(table_id))
    assert stored[:1000] == list(range(1000))
    assert "records 0-999 of the 1500 given were created" in message, message
    assert "whether records 1000-1499 were created is not known" in message, message
    assert "call the tool again" not in message


async def test_gptbots_lost_import_answer_is_looked_up_before_sending_again(tmp_path: Path) -> None:
    emu = gh.emulator()
    keyed = [{"name": "code", "type": "TEXT", "required": True, "unique": True}, *PLAIN]
    table_id = emu.add_table(gh.AGENT, "keyed", keyed)
    original = emu.handle

    async def handle(request: Any) -> Any:
        if "records/page" in request.url.path:
            emu.finish_imports()  # the lost import has run by the time the server looks
        return await original(request)

    emu.handle = handle  # type: ignore[method-assign]
    async with gh.gptbots(tmp_path, emu) as (h, capture):
        gh.fast(h)
        emu.faults.add("lost_response", match="import/records")  # stored, answer lost
        rows = [{"code": f"k{i}", "title": f"t{i}", "n": i} for i in range(3)]
        result = await h.call("create_records", table="keyed", records=rows)
    assert result == {"created": 3, "ids": None}
    assert len(capture.bodies("/import/records")) == 1  # found stored: not sent again
    assert sorted(row["code"] for row in emu.rows(table_id)) == ["k0", "k1", "k2"]
