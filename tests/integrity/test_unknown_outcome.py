"""A write whose answer was lost is never reported as "not created" unless the server checked:
giving up after a lost answer reconciles first, or says the outcome is unknown (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anytable.providers.retry import RetryPolicy
from tests.harness import serve
from tests.providers import feishu_harness as fh

pytestmark = pytest.mark.anyio

SHORT = RetryPolicy(attempts=6, base_delay=0.001, max_delay=1.0, max_total_wait=2.5)


async def test_feishu_lost_create_answer_then_throttling_is_not_reported_as_not_created(
    tmp_path: Path,
) -> None:
    emu = fh.emulator()
    async with serve("feishu", fh.env(), tmp_path, emulator=emu, base=fh.APP_TOKEN) as h:
        h.svc.providers["feishu"].client.api.retry = SHORT  # type: ignore[attr-defined]
        await h.call("create_table", name="T", fields=[{"name": "n", "type": "number"}])
        emu.faults.add("lost_response", match="batch_create")
        emu.faults.add("throttle", match="batch_create", times=20)
        message = await h.fails("create_records", table="T", records=[{"n": i} for i in range(700)])
        stored = sorted(r["fields"]["n"] for r in await h.all_records("T"))
    assert stored == list(range(500))  # the first batch was stored; its answer was lost
    assert "call the tool again" not in message, message
    assert "records 0-499" in message and "is not known" in message, message
    assert "records 500-699 were not" in message, message
