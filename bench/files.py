"""Benchmark of the file tools (issue 12), runnable by anyone:

    python -m bench.files [--records 100000] [--feishu-rows 20000] [--latency 0.03] [--json out.json]

Through the engine the tools use (``anytable.files.transfer``; the MCP transport is left out):

1. Export 100,000 local records (6 fields) to CSV with export_records. Bound: at least 50,000
   records/s (also shown: query_records alone over the same pages, measured in the same run). Run in a fresh child process, whose peak resident memory (ru_maxrss, the whole
   process: interpreter and imports included) must stay under 200 MB: memory stays flat because
   the export streams page by page.
2. Import a 100,000-row CSV into a local table with import_records. Bound: at least 30,000 rows/s
   (also shown: create_records alone of the same rows already in memory, in the same run).
3. Import 20,000 CSV rows into the Feishu emulator at 30 ms latency and its documented rates.
   Bound: the requests the job needs (batch_create of 500 rows, plus the table, field and view
   lists the import reads) times, for each, the larger of the latency and 1/rate of its endpoint.
   Pass: wall time <= 1.2 x bound (also shown: create_records alone of the same rows, same run).
"""

from __future__ import annotations

import argparse
import csv
import math
import resource
import subprocess
import sys
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
from anytable.core.reading import MAX_LIMIT
from anytable.core.service import Anytable
from anytable.files import transfer
from anytable.files.roots import FileRoots
from bench.common import dump, report

APP_ID = "cli_bench000000000001"
APP_SECRET = "bench-secret-0123456789"
APP_TOKEN = "bascnBenchBase000001"
FIELDS = [
    {"name": "title", "type": "text"},
    {"name": "n", "type": "number"},
    {"name": "status", "type": "single_select", "options": ["todo", "doing", "done"]},
    {"name": "tags", "type": "multi_select", "options": ["红", "green", "blue"]},
    {"name": "due", "type": "date"},
    {"name": "done", "type": "checkbox"},
]


def engine(db: Path, emu: FeishuEmulator | None = None) -> Anytable:
    settings = Settings(
        feishu_app_id=APP_ID if emu else None,
        feishu_app_secret=APP_SECRET if emu else None,
        feishu_app_token=APP_TOKEN if emu else None,
        local_path=str(db),
        timezone="Asia/Shanghai",
        log_level="WARNING",
    )

    def transports(pid: str) -> httpx.AsyncBaseTransport | None:
        return EmulatorTransport(emu) if emu is not None and pid == "feishu" else None

    return Anytable(settings, transports)


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "title": f"任务 {i}",
            "n": i,
            "status": ("todo", "doing", "done")[i % 3],
            "tags": [["红"], ["green", "blue"], []][i % 3],
            "due": 1_795_000_000_000 + (i % 365) * 86_400_000,
            "done": i % 2 == 0,
        }
        for i in range(n)
    ]


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([f["name"] for f in FIELDS])
        for r in rows(n):
            out.writerow(
                [
                    r["title"],
                    r["n"],
                    r["status"],
                    ";".join(r["tags"]),
                    "2026-11-22T09:30:00+08:00",
                    str(r["done"]).lower(),
                ]
            )


async def export_child(db: Path, folder: Path) -> None:
    """Run in a child process: export the table and print records, seconds."""
    svc = engine(db)
    roots = FileRoots.from_setting(str(folder))
    start = time.perf_counter()
    out = await transfer.export_records(svc, roots, "local", "bench", "big", path="big.csv")
    wall = time.perf_counter() - start
    start = time.perf_counter()  # baseline: the same pages through query_records, no file
    cursor = None
    while True:
        page = await svc.query_records("local", "bench", "big", limit=MAX_LIMIT, cursor=cursor)
        if (cursor := page["next_cursor"]) is None:
            break
    query = time.perf_counter() - start
    await svc.aclose()
    print(out["records"], wall, out["bytes"], query)


async def local_benches(tmp: Path, n: int) -> None:
    db = tmp / "local.sqlite"
    svc = engine(db)
    await svc.create_table("local", "bench", "big", FIELDS)
    await svc.create_records("local", "bench", "big", rows(n))
    await svc.aclose()

    child = subprocess.run(
        [sys.executable, "-m", "bench.files", "--export-child", str(db), str(tmp)],
        capture_output=True,
        text=True,
        check=True,
    )
    records, wall, size, query = child.stdout.split()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = int(records) / float(wall)
    report(
        f"local: export {int(records):,} records to CSV",
        rate,
        "records/s",
        50_000,
        higher_is_better=True,
        wall_s=round(float(wall), 3),
        bytes=int(size),
        query_records_alone_s=round(float(query), 3),
    )
    report("local: peak memory of the exporting process", peak_mb, "MB", 200)

    svc = engine(db)
    await svc.create_table("local", "bench", "imported", FIELDS)
    await svc.create_table("local", "bench", "baseline", FIELDS)
    write_csv(tmp / "in.csv", n)
    roots = FileRoots.from_setting(str(tmp))
    start = time.perf_counter()
    out = await transfer.import_records(svc, roots, "local", "bench", "imported", path="in.csv")
    wall = time.perf_counter() - start
    same = rows(n)
    start = time.perf_counter()  # baseline: create_records of the same rows, already in memory
    await svc.create_records("local", "bench", "baseline", same)
    create = time.perf_counter() - start
    await svc.aclose()
    report(
        f"local: import {n:,} CSV rows",
        out["created"] / wall,
        "rows/s",
        30_000,
        higher_is_better=True,
        wall_s=round(wall, 3),
        created=out["created"],
        failed=len(out["failed"]),
        create_records_alone_s=round(create, 3),
    )


def route(method: str, path: str) -> str:
    for (m, suffix), name in {
        ("POST", "/records/batch_create"): "records.batch_create",
        ("GET", "/tables"): "tables.list",
        ("GET", "/fields"): "fields.list",
        ("GET", "/views"): "views.list",
    }.items():
        if method == m and path.endswith(suffix):
            return name
    return f"{method} {path.rsplit('/', 1)[-1]}"


async def feishu_bench(tmp: Path, n: int, latency: float) -> None:
    emu = FeishuEmulator(app_id=APP_ID, app_secret=APP_SECRET, latency=latency)
    emu.add_app(APP_TOKEN, "bench")
    emu.add_table(APP_TOKEN, "Sheet1", fields=[{"field_name": "Title", "type": 1}])
    svc = engine(tmp / "unused.sqlite", emu)
    await svc.create_table("feishu", None, "bench", FIELDS)
    write_csv(tmp / "feishu.csv", n)
    roots = FileRoots.from_setting(str(tmp))
    before = len(emu.requests)
    start = time.perf_counter()
    out = await transfer.import_records(svc, roots, "feishu", None, "bench", path="feishu.csv")
    wall = time.perf_counter() - start
    sent = Counter(route(m, p) for m, p in emu.requests[before:])
    stored = len(emu.records(APP_TOKEN, "bench"))
    await svc.create_table("feishu", None, "baseline", FIELDS)
    await svc.schema(svc.address("feishu", None, "baseline"))
    same = rows(n)
    start = time.perf_counter()  # baseline: create_records of the same rows, already in memory
    await svc.create_records("feishu", None, "baseline", same)
    create = time.perf_counter() - start
    await svc.aclose()
    needed = {"records.batch_create": math.ceil(n / 500), "tables.list": 1, "fields.list": 1, "views.list": 1}
    bound = sum(k * max(latency, 1.0 / DEFAULT_RATE_LIMITS[name]) for name, k in needed.items())
    report(
        f"feishu: import {n:,} CSV rows ({latency * 1000:.0f} ms latency, documented rates)",
        wall,
        "s",
        1.2 * bound,
        bound_s=round(bound, 3),
        ratio_to_bound=round(wall / bound, 3),
        created=out["created"],
        stored=stored,
        requests=dict(sent),
        create_records_alone_s=round(create, 3),
    )


async def main_async(records: int, feishu_rows: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "local").mkdir()
        (tmp / "feishu").mkdir()
        await local_benches(tmp / "local", records)
        await feishu_bench(tmp / "feishu", feishu_rows, latency)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--feishu-rows", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--export-child", nargs=2, metavar=("DB", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        anyio.run(export_child, Path(args.export_child[0]), Path(args.export_child[1]))
        return 0
    anyio.run(main_async, args.records, args.feishu_rows, args.latency)
    dump(args.json)
    from bench.common import RESULTS

    return 0 if all(r["ok"] for r in RESULTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
