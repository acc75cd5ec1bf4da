"""Benchmark of the GPTBots provider, runnable by anyone:

    python -m bench.gptbots [--records 10000] [--bad 50] [--latency 0.03] [--json out.json]

Imports ``--records`` records, ``--bad`` of them breaking a unique rule, through the
create_records tool (in-process MCP client and server) into the GPTBots emulator answering every
request after ``--latency`` seconds and processing imports at its default 0.2 s per 1,000 rows.
The table has a unique, required field ``code`` and already holds 20 records. The bad records:
40% repeat a code already in the table, 40% repeat a code given earlier in the same call (in
another batch of 1,000), 20% have no code.

Checked, not assumed: every good record is in the table exactly once, every bad one is in
``failed`` with its reason, nothing else is.

Bound: the requests needed x latency, plus the emulator's import processing time (the sum of its
tasks' durations, taken from the emulator after the run). Requests needed: list the tables and
read the schema (2), then per batch of 1,000 one read to check unique values, one import and one
poll of its result (3). The bound is what an ideal client would take; the result is reported as a
ratio to it and passes at 1.5 or less. A second run with the pre-check turned off shows what it
buys: bad records sent make GPTBots discard their whole group of 10, whose good records have to
be sent again.
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
from mcp import Client
from tests.emulators.base import EmulatorTransport
from tests.emulators.gptbots import GPTBotsEmulator

from anytable.config import Settings
from anytable.providers.gptbots import GPTBotsProvider
from anytable.server import build_server
from bench.common import dump, report

KEY, AGENT = "gptbots-bench-key-0001", "agent_bench"
SEEDED = 20
TOLERANCE = 1.5


def dataset(records: int, bad: int) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The records to import and, by index, the rule each bad one breaks."""
    rows = [{"code": f"C{i:06d}", "name": f"Contact {i}", "score": i % 97} for i in range(records)]
    broken: dict[int, str] = {}
    spots = [int((k + 0.5) * records / bad) for k in range(bad)]
    for k, i in enumerate(spots):
        kind = k % 5
        if kind in (0, 1):  # a code already in the table
            rows[i]["code"] = f"OLD{k % SEEDED:03d}"
            broken[i] = "already in the table"
        elif kind in (2, 3):  # the code of a good earlier record of this call (in an earlier batch if any)
            j = i - 1001 if i >= 1001 else i - 1
            rows[i]["code"] = f"C{j:06d}"
            same_batch = j // 1000 == i // 1000
            broken[i] = "earlier record of this call" if same_batch else "already in the table"
        else:  # no code at all
            del rows[i]["code"]
            broken[i] = "is unique"
    return rows, broken


async def run(tmp: Path, records: int, bad: int, latency: float, precheck: bool) -> dict[str, Any]:
    emu = GPTBotsEmulator(api_keys={KEY: AGENT}, latency=latency)
    table_id = emu.add_table(
        AGENT,
        "contacts",
        [
            {"name": "code", "type": "TEXT", "required": True, "unique": True},
            {"name": "name", "type": "TEXT"},
            {"name": "score", "type": "INT"},
        ],
        records=[{"code": f"OLD{i:03d}", "name": f"Old {i}"} for i in range(SEEDED)],
    )
    rows, broken = dataset(records, bad)
    settings = Settings.from_env(
        {
            "ANYTABLE_LOCAL_PATH": str(tmp / "bench.sqlite"),
            "ANYTABLE_TIMEZONE": "UTC",
            "GPTBOTS_API_KEY": KEY,
            "GPTBOTS_AGENT_ID": AGENT,
        }
    )
    transport = EmulatorTransport(emu)
    server, svc = build_server(settings, lambda pid: transport if pid == "gptbots" else None)
    provider = svc.providers["gptbots"]
    assert isinstance(provider, GPTBotsProvider)
    if not precheck:

        async def nothing_known(table: Any, wanted: Any) -> dict[str, Any]:
            return {}

        provider.uniques.holders = nothing_known  # type: ignore[method-assign]
    async with Client(server, raise_exceptions=True) as client:
        emu.requests.clear()
        start = time.perf_counter()
        result = await client.call_tool(
            "create_records", {"provider": "gptbots", "table": "contacts", "records": rows}
        )
        wall = time.perf_counter() - start
    await svc.aclose()
    assert not result.is_error, result.content
    out = result.structured_content
    assert out is not None
    # Every good record stored exactly once; every bad one reported with its reason.
    failed = {f["index"]: f["error"] for f in out.get("failed") or []}
    assert set(failed) == set(broken), sorted(set(failed) ^ set(broken))[:10]
    if precheck:
        for i, reason in failed.items():
            assert broken[i] in reason, (i, reason)
    else:
        assert all(reason for reason in failed.values())
    stored = Counter(row["code"] for row in emu.rows(table_id))
    good = [rows[i]["code"] for i in range(records) if i not in broken]
    assert out["created"] == len(good) == records - bad
    assert all(stored[code] == 1 for code in good), "a good record is missing or stored twice"
    assert sum(stored.values()) == SEEDED + len(good), "something else was stored"
    processing = sum(task.duration for task in emu.tasks.values())
    imported = sum(task.total for task in emu.tasks.values())
    batches = math.ceil(records / 1000)
    needed = 2 + 3 * batches
    return {
        "wall": wall,
        "bound": needed * latency + processing,
        "needed": needed,
        "requests": len(emu.requests),
        "processing": processing,
        "sent_rows": imported,
        "failed": len(failed),
        "created": out["created"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--bad", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for precheck in (True, False):
            figures = anyio.run(run, tmp, args.records, args.bad, args.latency, precheck)
            label = "with pre-check" if precheck else "pre-check off (for comparison)"
            print(
                f"      {label}: {figures['created']:,} created, {figures['failed']} refused with reasons, "
                f"{figures['sent_rows']:,} rows sent in imports, {figures['requests']} requests "
                f"(needed {figures['needed']}), emulator processing {figures['processing']:.2f} s, "
                f"ideal {figures['bound']:.2f} s",
                flush=True,
            )
            if precheck:
                report(
                    f"GPTBots import of {args.records:,} records ({args.bad} bad) at {args.latency * 1000:.0f} ms "
                    f"latency, wall time (bound: {TOLERANCE} x ideal)",
                    figures["wall"],
                    "s",
                    TOLERANCE * figures["bound"],
                    ideal=round(figures["bound"], 3),
                    ratio_to_ideal=round(figures["wall"] / figures["bound"], 3),
                    requests=figures["requests"],
                    requests_needed=figures["needed"],
                    rows_sent=figures["sent_rows"],
                )
            else:
                print(
                    f"      pre-check off: wall {figures['wall']:.2f} s "
                    f"(ratio to its ideal {figures['wall'] / figures['bound']:.2f})",
                    flush=True,
                )
    dump(args.json)
    from bench.common import RESULTS

    return 0 if all(r["ok"] for r in RESULTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
