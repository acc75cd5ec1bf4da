"""Benchmark of the DingTalk provider, runnable by anyone:

    python -m bench.dingtalk [--records 5000] [--latency 0.03] [--fault-rate 0.05] [--json out.json]

Through the MCP tools, as an agent would call them, against the DingTalk emulator (in-process,
``--latency`` seconds per request, its limit of 20 requests per second per API on):

1. Insert N records (create_records), then read them all back (query_records, limit 500, cursor to
   the end). Bound: the requests the job needs x the larger of the latency and 1/rate, where the
   requests needed are ceil(N/100) inserts + ceil(N/100) list pages + the 3 reads that find a table
   the server has not seen yet (its base's tables, the sheet, its fields); measured: wall time of
   the whole job. Pass: at most 1.2x.
2. The same, ``--seeds`` times, with ``--fault-rate`` of all requests failing (transient 500/504, QPS throttling, and
   answers lost after the write happened, in equal parts): exactly N records stored, none twice,
   every id returned in input order. Wall time, retries and reconciliations are reported.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

from bench.common import dump, report

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulators.base import FaultPlan  # noqa: E402
from tests.emulators.dingtalk import DingTalkEmulator  # noqa: E402
from tests.harness import Harness, serve  # noqa: E402
from tests.providers.dingtalk_harness import BASE_ID, env, make_emulator  # noqa: E402

RATE = 20.0
PAGE = 100
TABLE = "bench"


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "title": f"record {i:06d}",
            "n": i,
            "status": ("todo", "doing", "done")[i % 3],
            "due": 1795311000000 + i,
        }
        for i in range(n)
    ]


async def job(h: Harness, n: int) -> tuple[float, dict[str, Any], list[dict[str, Any]], int]:
    """Create the table (not timed), then insert n records and read them all back (timed): the
    seconds it took, what create_records answered, the records read and the requests sent."""
    emu = h.emulator
    assert emu is not None
    await h.call(
        "create_table",
        name=TABLE,
        fields=[
            {"name": "title", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "status", "type": "single_select", "options": ["todo", "doing", "done"]},
            {"name": "due", "type": "date"},
        ],
    )
    before = len(emu.requests)
    start = time.perf_counter()
    created = await h.call("create_records", table=TABLE, records=rows(n))
    records = await h.all_records(TABLE)
    return time.perf_counter() - start, created, records, len(emu.requests) - before


async def clean_run(n: int, latency: float) -> None:
    emu = make_emulator(latency=latency, qps=RATE)
    with tempfile.TemporaryDirectory() as tmp:
        async with serve("dingtalk", env(), Path(tmp), emulator=emu) as h:
            await h.call("list_tables")  # the access token: part of starting, not of the job
            elapsed, created, records, sent = await job(h, n)
            retries = h.svc.providers["dingtalk"].api.retries
    needed = 2 * math.ceil(n / PAGE) + 3
    bound = needed * max(latency, 1 / RATE)
    ok = created["created"] == n and len({r["id"] for r in records}) == n
    report(
        f"dingtalk insert {n:,} + read back (latency {latency * 1000:.0f} ms, {RATE:.0f} req/s per API)",
        elapsed,
        "s",
        bound * 1.2,
        requests_needed=needed,
        requests_sent=sent,
        bound_1x=round(bound, 3),
        ratio_to_1x=round(elapsed / bound, 3),
        retries=retries,
        all_read_back=ok,
    )


async def faulty_run(n: int, latency: float, rate: float, seed: int) -> None:
    emu: DingTalkEmulator = make_emulator(latency=latency, qps=RATE)
    with tempfile.TemporaryDirectory() as tmp:
        async with serve("dingtalk", env(), Path(tmp), emulator=emu) as h:
            await h.call("list_tables")
            emu.faults = FaultPlan(rate=rate, seed=seed)
            elapsed, created, records, sent = await job(h, n)
            emu.faults.rate = 0.0
            provider = h.svc.providers["dingtalk"]
            retries = provider.api.retries
    sheet = emu.sheet_id(BASE_ID, TABLE)
    stored = emu.records(BASE_ID, sheet)
    ns = Counter(int(r["fields"]["n"]) for r in stored)
    lost = sum(1 for i in range(n) if i not in ns)
    twice = sum(c - 1 for c in ns.values() if c > 1)
    by_n = {int(r["fields"]["n"]): r["id"] for r in stored}
    in_order = created["ids"] == [by_n.get(i) for i in range(n)]
    reconciled = emu.count("POST", r"/changedRecordIds/query$")
    report(
        f"dingtalk insert {n:,} + read back, {rate:.0%} of requests failing (seed {seed}): records lost or "
        "stored twice",
        lost + twice,
        "records",
        0,
        stored=len(stored),
        lost=lost,
        stored_twice=twice,
        ids_in_input_order=in_order,
        read_back=len({r["id"] for r in records}),
        faults_injected=dict(emu.faults.injected),
        retries=retries,
        reconciliations=reconciled,
        wall_time_s=round(elapsed, 3),
        requests_sent=sent,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, default=3, help="fault runs, each with its own random faults")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    anyio.run(clean_run, args.records, args.latency)
    for seed in range(1, args.seeds + 1):
        anyio.run(faulty_run, args.records, args.latency, args.fault_rate, seed)
    dump(args.json)


if __name__ == "__main__":
    main()
