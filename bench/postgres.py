"""The local store on PostgreSQL: bulk insert, a filtered sorted first page (each beside the same
figures on SQLite, measured in the same run), and two server processes writing into one table at
once against one process. Beside that ratio: the share of the machine's cores busy in each run
(servers, PostgreSQL and the load generator share them), and so the most two processes could add
on this machine.

Needs a PostgreSQL server: ``--url`` or ANYTABLE_TEST_PG_URL (``.ci/postgres start DIR`` makes one).
Each run works in a schema of its own, dropped at the end.

    .venv/bin/python -m bench.postgres [--records 100000] [--json out.json]

Exit status 0: every bound held; 3: a figure missed its bound; anything else: the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from tests.pg import fresh_store

from anytable.config import Settings
from bench.common import RESULTS, dump, report
from bench.foundation import INIT, local_scale

TZ = "Asia/Shanghai"
BOUND_MISSED = 3  # the exit status when a figure misses its bound (a crash exits 1)
MAX_LINE = 64 * 1024 * 1024  # the longest answer line read from a server


def server_env(url: str, tmp: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")}
    return {
        **keep,
        "ANYTABLE_LOCAL_URL": url,
        "ANYTABLE_TIMEZONE": TZ,
        "ANYTABLE_LOCAL_PATH": str(tmp / "unused"),
    }


class StdioServer:
    """One server process as a client starts it (``anytable serve`` on stdio), spoken to in plain
    JSON-RPC lines. The load generator shares the machine's cores with the servers and PostgreSQL:
    the official client's own work per 500-record call (its models, each way) came to about half
    the server's, so requests are encoded before the clock starts and answers only parsed."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.answers = BufferedByteReceiveStream(process.stdout) if process.stdout else None

    async def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(line)

    async def answer(self) -> dict[str, Any]:
        """The next answer to a request (notifications skipped)."""
        assert self.answers is not None
        while True:
            message = json.loads(await self.answers.receive_until(b"\n", MAX_LINE))
            if "id" in message:
                return cast(dict[str, Any], message)

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        await self.send(encode(request))
        return await self.answer()


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


def create_call(n: int, table: str, rows: list[dict[str, Any]]) -> bytes:
    arguments = {"provider": "local", "table": table, "records": rows}
    return encode(
        {
            "jsonrpc": "2.0",
            "id": n,
            "method": "tools/call",
            "params": {"name": "create_records", "arguments": arguments},
        }
    )


def cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (Linux), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(t) for t in f.readline().split()[1:9]]
    except OSError:
        return None
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # idle and iowait are not busy


async def concurrent_creates(
    url: str, tmp: Path, *, processes: int, calls: int, per_call: int, table: str
) -> tuple[float, list[str], float | None]:
    """``processes`` server processes (stdio, as a client starts them), each given ``calls``
    concurrent create_records of ``per_call`` records into ``table``; (seconds, ids created, share of
    the machine's CPU busy meanwhile). The clock runs from the first call sent to the last answer."""
    ids: list[str] = []
    finished: list[float] = []
    ready, go = anyio.Event(), anyio.Event()
    started = [0]

    async def one_process(p: int) -> None:
        command = [sys.executable, "-m", "anytable", "serve"]
        log = tmp / f"server-{p}-{table}.log"  # its stderr, shown if it fails
        with log.open("wb") as errors:
            async with await anyio.open_process(command, env=server_env(url, tmp), stderr=errors) as proc:
                try:
                    await drive(p, StdioServer(proc))
                except Exception:
                    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
                    print(f"server {p} failed; its log ends:\n{tail}", file=sys.stderr)
                    raise
                finally:
                    if proc.stdin is not None:
                        await proc.stdin.aclose()  # end of input: the server stops
                    with anyio.move_on_after(10):
                        await proc.wait()
                    if proc.returncode is None:
                        proc.kill()

    async def drive(p: int, server: StdioServer) -> None:
        await server.call(INIT)
        await server.send(encode({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        listed = await server.call(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "list_tables", "arguments": {"provider": "local"}},
            }
        )
        assert "result" in listed, listed  # connected, migrated, its pool open
        requests = [
            create_call(100 + c, table, [{"title": f"p{p} c{c} r{r}", "n": r} for r in range(per_call)])
            for c in range(calls)
        ]
        started[0] += 1
        if started[0] == processes:
            ready.set()
        await go.wait()

        async def send_all() -> None:
            for request in requests:
                await server.send(request)

        async with anyio.create_task_group() as tg:
            tg.start_soon(send_all)  # concurrently with reading: the pipe holds 64 KB at most
            for _ in range(calls):
                message = await server.answer()
                result = message.get("result") or {}
                assert not result.get("isError") and "structuredContent" in result, str(message)[:500]
                ids.extend(result["structuredContent"]["ids"])
                finished.append(time.perf_counter())

    before: tuple[int, int] | None = None
    busy: float | None = None
    start = 0.0
    async with anyio.create_task_group() as tg:
        for p in range(processes):
            tg.start_soon(one_process, p)
        await ready.wait()
        before, start = cpu_ticks(), time.perf_counter()
        go.set()
        while len(finished) < processes * calls:
            await anyio.sleep(0.002)
        after = cpu_ticks()
        if before and after and after[1] > before[1]:
            busy = (after[0] - before[0]) / (after[1] - before[1])
    return max(finished) - start, ids, busy


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
    loads: dict[int, list[float]] = {1: [], 2: []}
    for attempt in range(repeat):
        for processes in (1, 2):
            table = f"replicas{processes}_{attempt}"
            await make_table(url, table)
            elapsed, ids, busy = await concurrent_creates(
                url, tmp, processes=processes, calls=calls, per_call=per_call, table=table
            )
            assert len(ids) == len(set(ids)) == processes * calls * per_call
            rates[processes].append(len(ids) / elapsed)
            if busy is not None:
                loads[processes].append(busy)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    # Two processes can add at most what one leaves idle: with the one-process run keeping a share
    # b of the machine's cores busy (server, PostgreSQL, load generator), two reach at most 1/b x.
    machine = {
        f"machine_busy_{n}_process{'es' if n > 1 else ''}": f"{statistics.median(v):.0%}"
        for n, v in loads.items()
        if v
    }
    if loads[1]:
        machine["most_two_can_add"] = f"{1 / statistics.median(loads[1]):.2f}x on {os.cpu_count()} cores"
    report(
        f"2 server processes x 20 concurrent 500-record creates, throughput vs 1 process (median of {repeat})",
        two / one,
        "x",
        1.5,
        higher_is_better=True,
        one_process_rps=round(one),
        two_processes_rps=round(two),
        runs={p: [round(r) for r in rs] for p, rs in rates.items()},
        **machine,
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
