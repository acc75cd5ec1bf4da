"""Agent-shaped requests, measured (issue 10), runnable by anyone:

    python -m bench.agent [--tasks 5000] [--records 100000] [--emulator-records 20000] [--json out.json]

1. Seven everyday requests on a local table of 5,000 tasks (owner, status, priority, due, tags),
   made the way an agent would with the fewest calls the tools allow, through the MCP client:
   calls and bytes of tool results per request. Goal: 1 call each; all seven under 4,000 bytes.
2. Local aggregate at scale: a grouped count with a filter over 100,000 records (median of runs;
   bound 100 ms).
3. Each emulator: an aggregate over 20,000 records takes no more requests than reading those
   records with fields limited to the needed ones (the baseline, measured in the same run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client
from tests.harness import HARNESSES

from anytable.config import Settings
from anytable.server import build_server
from bench.common import dump, report

OWNERS = ["Ada", "Bob", "Cy", "Dee", "Eve", "Finn"]
STATUSES = ["todo", "doing", "done"]
TAGS = ["bug", "feature", "ops", "docs"]
TODAY = "2026-06-15"
TASK_FIELDS = [
    {"name": "Title", "type": "text"},
    {"name": "Owner", "type": "single_select", "options": OWNERS},
    {"name": "Status", "type": "single_select", "options": STATUSES},
    {"name": "Priority", "type": "number"},
    {"name": "Due", "type": "date"},
    {"name": "Tags", "type": "multi_select", "options": TAGS},
]


def tasks(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = date(2025, 10, 1)
    return [
        {
            "Title": f"Task {i}",
            "Owner": rng.choice(OWNERS),
            "Status": rng.choice(STATUSES),
            "Priority": rng.randint(1, 5),
            "Due": (start + timedelta(days=rng.randint(0, 450))).isoformat(),
            "Tags": rng.sample(TAGS, rng.randint(0, 2)),
        }
        for i in range(n)
    ]


OPEN = {"field": "Status", "op": "neq", "value": "done"}
OVERDUE = {"and": [{"field": "Due", "op": "lt", "value": TODAY}, OPEN]}
REQUESTS: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
    ("overdue tasks per owner", [("aggregate_records", {"where": OVERDUE, "group_by": ["Owner"]})]),
    (
        "owner with the most open high-priority tasks",
        [
            (
                "aggregate_records",
                {
                    "where": {"and": [OPEN, {"field": "Priority", "op": "gte", "value": 4}]},
                    "group_by": ["Owner"],
                    "sort": [{"field": "count", "desc": True}],
                    "limit": 1,
                },
            )
        ],
    ),
    (
        "10 soonest-due open tasks",
        [
            (
                "query_records",
                {
                    "where": OPEN,
                    "sort": [{"field": "Due"}],
                    "fields": ["Title", "Owner", "Due"],
                    "limit": 10,
                    "format": "rows",
                },
            )
        ],
    ),
    (
        "mark every overdue todo of Bob as doing",
        [
            (
                "update_records",
                {
                    "where": {
                        "and": [
                            {"field": "Owner", "op": "eq", "value": "Bob"},
                            {"field": "Status", "op": "eq", "value": "todo"},
                            {"field": "Due", "op": "lt", "value": TODAY},
                        ]
                    },
                    "set": {"Status": "doing"},
                },
            )
        ],
    ),
    (
        "average priority per status",
        [("aggregate_records", {"group_by": ["Status"], "metrics": [{"op": "avg", "field": "Priority"}]})],
    ),
    (
        "add 3 tasks without duplicating titles",
        [
            (
                "create_records",
                {
                    "records": [
                        {"Title": "Task 17", "Owner": "Ada", "Status": "todo"},
                        {"Title": "Write the release notes", "Owner": "Eve", "Status": "todo"},
                        {"Title": "Rotate the keys", "Owner": "Cy", "Status": "todo"},
                    ],
                    "key": ["Title"],
                    "on_match": "skip",
                },
            )
        ],
    ),
    (
        "tasks per month of 2026",
        [
            (
                "aggregate_records",
                {
                    "where": {
                        "and": [
                            {"field": "Due", "op": "gte", "value": "2026-01-01"},
                            {"field": "Due", "op": "lt", "value": "2027-01-01"},
                        ]
                    },
                    "group_by": [{"field": "Due", "by": "month"}],
                },
            )
        ],
    ),
]


async def agent_requests(tmp: Path, n: int) -> None:
    server, _ = build_server(Settings(local_path=str(tmp / "agent.sqlite")))
    async with Client(server) as client:
        await client.call_tool("create_table", {"name": "Tasks", "fields": TASK_FIELDS})
        made = await client.call_tool("create_records", {"table": "Tasks", "records": tasks(n)})
        assert not made.is_error, made.content
        total_bytes = 0
        for name, calls in REQUESTS:
            size = 0
            for tool, args in calls:
                result = await client.call_tool(tool, {"table": "Tasks", **args})
                text = "".join(getattr(c, "text", "") for c in result.content)
                assert not result.is_error, text
                size += len(text.encode())
            total_bytes += size
            report(f"agent: {name}", len(calls), "calls", 1, bytes=size)
        report("agent: seven requests, bytes of tool results", total_bytes, "bytes", 4_000)


async def local_aggregate(tmp: Path, n: int, runs: int = 15) -> None:
    _, svc = build_server(Settings(local_path=str(tmp / "scale.sqlite")))
    await svc.create_table(None, None, "Tasks", TASK_FIELDS)
    rows = tasks(n, seed=11)
    for i in range(0, n, 50_000):
        await svc.create_records(None, None, "Tasks", rows[i : i + 50_000])
    where = {"and": [OPEN, {"field": "Priority", "op": "gte", "value": 3}]}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = await svc.aggregate_records(None, None, "Tasks", where=where, group_by=["Owner"])
        times.append(time.perf_counter() - start)
    expected = sum(1 for r in rows if r["Status"] != "done" and r["Priority"] >= 3)
    assert sum(g["count"] for g in out["groups"]) == expected
    report(
        f"local: grouped count with a filter over {n:,} records",
        statistics.median(times) * 1000,
        "ms",
        100,
        server_computed=out["server_computed"],
    )
    await svc.aclose()


async def emulator_aggregate(tmp: Path, provider: str, n: int) -> None:
    async with HARNESSES[provider](tmp / provider) as h:
        emu = h.emulator
        assert emu is not None
        handle = emu.handle
        count = {"n": 0}

        async def counted(request: httpx.Request) -> httpx.Response:
            count["n"] += 1
            return await handle(request)

        emu.handle = counted  # type: ignore[method-assign]
        svc, args = h.svc, (provider, h.base)
        # lower-case names: GPTBots allows only a-z, 0-9 and _
        fields = [{**f, "name": f["name"].lower()} for f in TASK_FIELDS if f["type"] in h.caps["field_types"]]
        await svc.create_table(*args, "tasks", fields)
        names = {f["name"] for f in fields}
        rows = [{k.lower(): v for k, v in r.items() if k.lower() in names} for r in tasks(n)]
        await svc.create_records(*args, "tasks", rows)
        where = {"field": "priority", "op": "gte", "value": 2}
        count["n"] = 0
        cursor = None
        read = 0
        while True:
            page = await svc.query_records(
                *args, "tasks", where=where, fields=["priority"], limit=500, cursor=cursor
            )
            read += len(page["records"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        baseline = count["n"]
        count["n"] = 0
        out = await svc.aggregate_records(
            *args, "tasks", where=where, group_by=["priority"], metrics=[{"op": "count"}]
        )
        assert sum(1 for _ in out["groups"]) >= 1 and out["scanned"] == read
        report(
            f"{provider}: aggregate over {n:,} records, requests vs reading them (limited fields)",
            count["n"],
            "requests",
            baseline,
            server_computed=out["server_computed"],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--emulator-records", type=int, default=20_000)
    parser.add_argument("--providers", default="dingtalk,feishu,gptbots")
    parser.add_argument("--json")
    opts = parser.parse_args()
    for module in (
        "tests.providers.dingtalk_harness",
        "tests.providers.feishu_harness",
        "tests.providers.gptbots_harness",
    ):
        importlib.import_module(module)

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            await agent_requests(Path(tmp), opts.tasks)
            await local_aggregate(Path(tmp), opts.records)
            for provider in filter(None, opts.providers.split(",")):
                await emulator_aggregate(Path(tmp), provider, opts.emulator_records)

    anyio.run(run)
    dump(opts.json)
    print(json.dumps({"ok": all(r["ok"] for r in __import__("bench.common").common.RESULTS)}))


if __name__ == "__main__":
    main()
