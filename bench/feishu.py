"""Benchmark of the feishu provider, runnable by anyone:

    python -m bench.feishu [--records 20000] [--latency 0.03] [--fault-rate 0.05] [--json out.json]

Against the Feishu emulator (tests/emulators/feishu.py) with 30 ms latency per request and its
documented per-endpoint rate limits (records/search 20/s, records/batch_create 50/s; tables, fields
and views lists 20/s), through the engine every tool uses (``Anytable.create_records`` and
``Anytable.query_records``; the MCP transport is left out):

1. Insert 20,000 records (a Bitable table's limit) with one create_records call, then read them all
   back with query_records (limit 500, following next_cursor). Bound: the requests the job needs
   (batch_create and search pages of 500, plus the table list, field list and view list the first
   call reads) times, for each, the larger of the latency and 1/rate of its endpoint. Pass: wall
   time <= 1.2 x bound.
   The emulator's latency is a floor on each response time that includes its own processing (as
   a real service's does), so its Python work does not stretch a 30 ms answer into a longer one.
2. The same with 5% of requests failing (transient codes, 429 throttling, answers lost after the
   write happened): pass when exactly 20,000 records are stored, none twice, and all are read back.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import DEFAULT_RATE_LIMITS, FeishuEmulator

from anytable.config import Settings
from anytable.core.service import Anytable
from bench.common import RESULTS, dump, report

APP_ID = "cli_bench000000000001"
APP_SECRET = "bench-secret-0123456789"
APP_TOKEN = "bascnBenchBase000001"
PAGE = 500
ROUTES = {  # (method, path suffix) -> the emulator's rate-limit name
    ("POST", "/records/batch_create"): "records.batch_create",
    ("POST", "/records/search"): "records.search",
    ("GET", "/tables"): "tables.list",
    ("GET", "/fields"): "fields.list",
    ("GET", "/views"): "views.list",
}


def route(method: str, path: str) -> str:
    for (m, suffix), name in ROUTES.items():
        if method == m and path.endswith(suffix):
            return name
    return f"{method} {path.rsplit('/', 1)[-1]}"


def engine(tmp: Path, emu: FeishuEmulator) -> Anytable:
    settings = Settings(
        feishu_app_id=APP_ID,
        feishu_app_secret=APP_SECRET,
        feishu_app_token=APP_TOKEN,
        local_path=str(tmp / "local.sqlite"),
        timezone="Asia/Shanghai",
        log_level="WARNING",
    )

    def transports(pid: str) -> httpx.AsyncBaseTransport | None:
        return EmulatorTransport(emu) if pid == "feishu" else None

    return Anytable(settings, transports)


async def run(tmp: Path, records: int, latency: float, fault_rate: float) -> dict[str, Any]:
    emu = FeishuEmulator(app_id=APP_ID, app_secret=APP_SECRET, latency=latency)
    emu.add_app(APP_TOKEN, "bench")
    emu.add_table(APP_TOKEN, "Sheet1", fields=[{"field_name": "Title", "type": 1}])
    svc = engine(tmp, emu)
    fields = [
        {"name": "title", "type": "text"},
        {"name": "n", "type": "number"},
        {"name": "status", "type": "single_select", "options": ["todo", "doing", "done"]},
        {"name": "due", "type": "date"},
        {"name": "done", "type": "checkbox"},
    ]
    await svc.create_table("feishu", None, "bench", fields)
    rows = [
        {
            "title": f"Task {i}",
            "n": i,
            "status": ("todo", "doing", "done")[i % 3],
            "due": 1_795_000_000_000 + (i % 365) * 86_400_000,
            "done": i % 2 == 0,
        }
        for i in range(records)
    ]
    emu.faults.rate = fault_rate
    before = len(emu.requests)
    start = time.perf_counter()
    created = await svc.create_records("feishu", None, "bench", rows)
    write_done = time.perf_counter()
    read: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await svc.query_records("feishu", None, "bench", limit=PAGE, cursor=cursor)
        read.extend(page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    end = time.perf_counter()
    emu.faults.rate = 0.0
    sent = Counter(route(m, p) for m, p in emu.requests[before:])
    stored = [r["fields"]["n"] for r in emu.records(APP_TOKEN, "bench")]
    await svc.aclose()
    return {
        "wall": end - start,
        "write": write_done - start,
        "read": end - write_done,
        "created": created["created"],
        "ids": created["ids"],
        "read_back": read,
        "stored": stored,
        "sent": sent,
        "faults": dict(emu.faults.injected),
    }


def bound(records: int, latency: float) -> tuple[float, dict[str, int]]:
    """Requests the job needs, each costing the larger of the latency and 1/rate of its endpoint."""
    pages = math.ceil(records / PAGE)
    needed = {
        "records.batch_create": pages,
        "records.search": pages,
        "tables.list": 1,
        "fields.list": 1,
        "views.list": 1,
    }
    total = sum(n * max(latency, 1.0 / DEFAULT_RATE_LIMITS[name]) for name, n in needed.items())
    return total, needed


async def main_async(records: int, latency: float, fault_rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clean = await run(tmp / "clean", records, latency, 0.0)
        limit, needed = bound(records, latency)
        extra = {k: v for k, v in clean["sent"].items() if needed.get(k, 0) != v}
        report(
            f"feishu: insert {records:,} then read them all back ({latency * 1000:.0f} ms latency, documented rates)",
            clean["wall"],
            "s",
            1.2 * limit,
            bound_s=round(limit, 3),
            ratio_to_bound=round(clean["wall"] / limit, 3),
            write_s=round(clean["write"], 3),
            read_s=round(clean["read"], 3),
            requests=sum(clean["sent"].values()),
            requests_beyond_needed=extra or "none",
        )
        ok_clean = clean["created"] == records and sorted(clean["stored"]) == list(range(records))
        ok_clean = ok_clean and len({r["id"] for r in clean["read_back"]}) == records

        faulty = await run(tmp / "faults", records, latency, fault_rate)
        stored = faulty["stored"]
        exact = (
            faulty["created"] == records
            and len(stored) == records
            and sorted(stored) == list(range(records))
            and len({r["id"] for r in faulty["read_back"]}) == records
            and sorted(r["fields"]["n"] for r in faulty["read_back"]) == list(range(records))
            and len(set(faulty["ids"])) == records
        )
        report(
            f"feishu: {fault_rate:.0%} of requests failing: records stored exactly once",
            len(stored),
            "records",
            records,
            higher_is_better=True,
            exactly_once=exact,
            duplicates=len(stored) - len(set(stored)),
            faults_injected=faulty["faults"],
            retries_sent=sum(faulty["sent"].values()) - sum(clean["sent"].values()),
            wall_s=round(faulty["wall"], 3),
        )
        if not (ok_clean and exact):
            RESULTS[-1]["ok"] = False
            print("FAIL  records lost or repeated", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    anyio.run(main_async, args.records, args.latency, args.fault_rate)
    dump(args.json)
    return 0 if all(r["ok"] for r in RESULTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
