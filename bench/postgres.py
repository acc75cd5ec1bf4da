"""The local store on PostgreSQL: bulk insert, a filtered sorted first page (each beside the same
figures on SQLite, measured in the same run), and two server processes writing into one table at
once against one process.

Needs a PostgreSQL server: ``--url`` or ANYTABLE_TEST_PG_URL (``.ci/postgres start DIR`` makes one).
Each run works in a schema of its own, dropped at the end.

    .venv/bin/python -m bench.postgres [--records 100000] [--json out.json]

Exit status 0: every bound held; 3: a figure missed its bound; anything else: the run failed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from tests.pg import fresh_store

from anytable.config import Settings
from bench.common import RESULTS, dump, report
from bench.foundation import local_scale

TZ = "Asia/Shanghai"
BOUND_MISSED = 3  # the exit status when a figure misses its bound (a crash exits 1)


def server_env(url: str, tmp: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")}
    return {
        **keep,
        "ANYTABLE_LOCAL_URL": url,
        "ANYTABLE_TIMEZONE": TZ,
        "ANYTABLE_LOCAL_PATH": str(tmp / "unused"),
    }


async def concurrent_creates(
    url: str, tmp: Path, *, processes: int, calls: int, per_call: int, table: str
) -> tuple[float, list[str]]:
    """``processes`` server processes (stdio, as a client would start them), each given ``calls``
    concurrent create_records of ``per_call`` records into ``table``; (seconds, ids created)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "anytable", "serve"], env=server_env(url, tmp)
    )
    ids: list[str] = []
    finished: list[float] = []  # when each call was answered (stopping the servers is not timed)

    async def one_process(p: int, ready: anyio.Event, go: anyio.Event, counter: list[int]) -> None:
        async with Client(params) as client:
            await client.call_tool("list_tables", {"provider": "local"})  # connected and migrated
            counter[0] += 1
            if counter[0] == processes:
                ready.set()
            await go.wait()

            async def one_call(c: int) -> None:
                rows = [{"title": f"p{p} c{c} r{r}", "n": r} for r in range(per_call)]
                result = await client.call_tool(
                    "create_records", {"provider": "local", "table": table, "records": rows}
                )
                assert not result.is_error, result.content
                assert result.structured_content is not None
                ids.extend(result.structured_content["ids"])
                finished.append(time.perf_counter())

            async with anyio.create_task_group() as tg:
                for c in range(calls):
                    tg.start_soon(one_call, c)

    ready, go, counter = anyio.Event(), anyio.Event(), [0]
    start = 0.0
    async with anyio.create_task_group() as tg:
        for p in range(processes):
            tg.start_soon(one_process, p, ready, go, counter)
        await ready.wait()
        start = time.perf_counter()
        go.set()
    return max(finished) - start, ids


async def make_table(url: str, name: str) -> None:
    from anytable.server import build_server

    _, svc = build_server(Settings(local_url=url, timezone=TZ))
    try:
        await svc.create_table(
            "local", None, name, [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
        )
    finally:
        await svc.aclose()


async def replicas(url: str, tmp: Path, repeat: int = 5) -> None:
    """Each configuration ``repeat`` times, alternating, into a table of its own; the median rates.
    The clock runs from the first call sent to the last answer (starting and stopping the server
    processes is not part of it)."""
    calls, per_call = 20, 500
    rates: dict[int, list[float]] = {1: [], 2: []}
    for attempt in range(repeat):
        for processes in (1, 2):
            table = f"replicas{processes}_{attempt}"
            await make_table(url, table)
            elapsed, ids = await concurrent_creates(
                url, tmp, processes=processes, calls=calls, per_call=per_call, table=table
            )
            assert len(ids) == len(set(ids)) == processes * calls * per_call
            rates[processes].append(len(ids) / elapsed)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    report(
        f"2 server processes x 20 concurrent 500-record creates, throughput vs 1 process (median of {repeat})",
        two / one,
        "x",
        1.5,
        higher_is_better=True,
        one_process_rps=round(one),
        two_processes_rps=round(two),
        runs={p: [round(r) for r in rs] for p, rs in rates.items()},
    )


async def run(url: str, records: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        await local_scale(tmp, records, label="baseline: local on SQLite, same run")
        async with fresh_store(url) as store:
            await local_scale(
                tmp,
                records,
                Settings(local_url=store, timezone=TZ),
                label="local on PostgreSQL",
                insert_bound=30_000,
            )
        async with fresh_store(url) as store:
            await replicas(store, tmp)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("ANYTABLE_TEST_PG_URL"))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not args.url:
        parser.error("no PostgreSQL server: pass --url or set ANYTABLE_TEST_PG_URL (.ci/postgres start DIR)")
    anyio.run(run, args.url, args.records)
    dump(args.json)
    return 0 if all(r["ok"] for r in RESULTS) else BOUND_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
