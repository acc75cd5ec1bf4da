"""Attachment files of the local store: a 25 MB file kept in PostgreSQL (in 1 MB chunks) and read
back, beside the same file in SQLite's folder measured in the same run; the Python memory each way
(the file is never held whole) and the longest stall of the event loop meanwhile.

Needs a PostgreSQL server: ``--url`` or ANYTABLE_TEST_PG_URL (``.ci/postgres start DIR`` makes one).
The run works in a schema of its own, dropped at the end.

    .venv/bin/python -m bench.pgfiles [--mb 25] [--json out.json]

Exit status 0: every bound held; 3: a figure missed its bound; anything else: the run failed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

import anyio
from tests.pg import fresh_store

from anytable.config import Settings
from anytable.providers.local.backend import store_backend
from anytable.providers.local.provider import LocalProvider
from anytable.schemas.fields import FieldSpec, FieldType
from bench.common import RESULTS, dump, report

BOUND_MISSED = 3
MB = 1024 * 1024
MIN_RATE = 25.0  # MB/s each way on PostgreSQL: a 25 MB file in at most a second
MAX_MEMORY = 8.0  # MB of Python memory while a file goes in or out (it is never held whole)
MAX_STALL = 50.0  # ms the event loop may stall meanwhile


async def _noop(n: int) -> None:
    return None


async def transfer(
    provider: LocalProvider, source: Path, *, traced: bool
) -> tuple[float, float, float, float]:
    """(seconds in, seconds out, peak MB of Python memory, longest event-loop stall in ms)."""
    info = await provider.create_table(
        "b", f"docs{time.monotonic_ns()}", [FieldSpec(name="f", type=FieldType.attachment)]
    )
    stall, done = 0.0, False

    async def ticker() -> None:
        nonlocal stall
        while not done:
            start = time.perf_counter()
            await anyio.sleep(0.001)
            stall = max(stall, time.perf_counter() - start - 0.001)

    peak = 0
    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        if traced:
            tracemalloc.start()
        try:
            start = time.perf_counter()
            item = await provider.files.store("b", info.id, "rec1", source, _noop)
            stored = time.perf_counter() - start
            size = 0
            start = time.perf_counter()
            async for chunk in provider.files.read(item):
                size += len(chunk)
            read = time.perf_counter() - start
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
        finally:
            if traced:
                tracemalloc.stop()
            done = True
    assert size == source.stat().st_size, (size, source.stat().st_size)
    await provider.delete_table("b", info.id)
    return stored, read, peak / MB, stall * 1000


async def run(url: str | None, mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "big.bin"
        source.write_bytes(os.urandom(mb * MB))
        stores: dict[str, AbstractAsyncContextManager[str]] = {
            "sqlite": nullcontext(""),
            "postgresql": fresh_store(url),
        }
        for kind, store in stores.items():
            async with store as store_url:
                env = (
                    {"ANYTABLE_LOCAL_URL": store_url}
                    if store_url
                    else {"ANYTABLE_LOCAL_PATH": f"{tmp}/s.sqlite"}
                )
                provider = LocalProvider(store_backend(Settings.from_env(env)))
                try:
                    await transfer(provider, source, traced=False)  # warm: connections, pages
                    stored, read, _, stall = await transfer(provider, source, traced=False)
                    _, _, peak, _ = await transfer(provider, source, traced=True)
                finally:
                    await provider.aclose()
            if kind == "sqlite":
                print(
                    f"      sqlite folder (baseline): {mb} MB in {stored * 1000:.0f} ms "
                    f"({mb / stored:,.0f} MB/s), out {read * 1000:.0f} ms ({mb / read:,.0f} MB/s); "
                    f"peak Python memory {peak:.1f} MB; longest loop stall {stall:.1f} ms"
                )
                continue
            report(
                f"postgresql: keep a {mb} MB attachment", mb / stored, "MB/s", MIN_RATE, higher_is_better=True
            )
            report(
                f"postgresql: read a {mb} MB attachment", mb / read, "MB/s", MIN_RATE, higher_is_better=True
            )
            report(f"postgresql: peak Python memory, {mb} MB in and out", peak, "MB", MAX_MEMORY)
            report("postgresql: longest event-loop stall meanwhile", stall, "ms", MAX_STALL)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a PostgreSQL server (default: ANYTABLE_TEST_PG_URL)")
    parser.add_argument("--mb", type=int, default=25, help="the file's size in MB (default 25)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    url = args.url or os.environ.get("ANYTABLE_TEST_PG_URL")
    if not url:
        parser.error("no PostgreSQL server: pass --url or set ANYTABLE_TEST_PG_URL (.ci/postgres start DIR)")
    anyio.run(run, url, args.mb)
    dump(args.json)
    return 0 if all(r["ok"] for r in RESULTS) else BOUND_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
