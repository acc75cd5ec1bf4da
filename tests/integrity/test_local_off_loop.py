"""A long local write does not block the event loop: other calls keep being answered (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from tests.harness import serve

pytestmark = pytest.mark.anyio

ROWS = 60_000


async def test_other_calls_are_answered_during_a_long_local_write(tmp_path: Path) -> None:
    async with serve("local", {}, tmp_path, base="b") as h:
        await h.call(
            "create_table",
            name="big",
            fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        )
        await h.call("create_table", name="small", fields=[{"name": "title", "type": "text"}])
        rows = [{"title": f"row {i} " + "x" * 200, "n": i} for i in range(ROWS)]
        gaps: list[float] = []
        done = anyio.Event()
        write_time: list[float] = []

        async def write() -> None:
            start = time.monotonic()
            await h.call("create_records", table="big", records=rows)
            write_time.append(time.monotonic() - start)
            done.set()

        async def probe() -> None:
            await anyio.sleep(0.05)
            while not done.is_set():
                start = time.monotonic()
                await h.call("list_providers")
                gaps.append(time.monotonic() - start)
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(write)
            tg.start_soon(probe)

    assert len(gaps) >= 5  # answered all along the write
    assert max(gaps) < write_time[0] / 3  # never held up for a large part of it
