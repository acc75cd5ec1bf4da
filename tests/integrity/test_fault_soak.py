"""Fault soak, per provider: many small create/update/delete calls through the MCP client with 30%
transient faults and 30% lost answers, then 20 concurrent calls under a rate limit of 5 per second.
The final state must be exactly what the tool results said (a result the server could not check
allows both states), with no record stored twice, on every seed."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from anytable.providers.http import ApiClient
from anytable.providers.retry import RetryPolicy
from tests.harness import Harness, ToolFailed, serve
from tests.providers import dingtalk_harness as dh
from tests.providers import feishu_harness as fh
from tests.providers import gptbots_harness as gh

pytestmark = pytest.mark.anyio

SOAK = RetryPolicy(attempts=6, base_delay=0.001, max_delay=0.05, max_total_wait=30.0)
ABSENT = None
OPS = 24
SEEDS = [1, 2, 3]


def api_client(h: Harness) -> ApiClient:
    p: Any = h.svc.providers[h.provider]
    for path in ("api", "client.api", "api.http"):
        obj = p
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, ApiClient):
            return obj
    raise AssertionError("no ApiClient")


@asynccontextmanager
async def soaked(provider: str, tmp_path: Path, seed: int) -> AsyncIterator[Harness]:
    if provider == "local":
        async with serve("local", {}, tmp_path, base="soak") as h:
            yield h
        return
    if provider == "dingtalk":
        emu: Any = dh.make_emulator(seed=seed)
        ctx = serve("dingtalk", dh.env(), tmp_path, emulator=emu)
    elif provider == "feishu":
        emu = fh.emulator()
        ctx = serve("feishu", fh.env(), tmp_path, emulator=emu, base=fh.APP_TOKEN)
    else:
        emu = gh.emulator(seed=seed)
        ctx = serve("gptbots", gh.env(), tmp_path, emulator=emu)
    async with ctx as h:
        api_client(h).retry = SOAK
        if provider == "gptbots":
            gh.fast(h, lost_grace=1.0)
            api_client(h).retry = SOAK
        yield h


def set_faults(h: Harness, rate: float, seed: int) -> None:
    if h.emulator is None:
        return
    plan = h.emulator.faults
    plan.rate, plan.mix = rate, ("transient", "lost_response")
    plan._rng = random.Random(seed)


def set_rate_limit(h: Harness, per_second: float) -> None:
    emu: Any = h.emulator
    if h.provider == "dingtalk":
        emu.qps = per_second
    elif h.provider == "feishu":
        emu.rate_limits = {k: per_second for k in emu.rate_limits}
    elif h.provider == "gptbots":
        emu.rate_limit = per_second


def unknown(message: str) -> bool:
    return "not known" in message or "may or may not" in message


async def stored(h: Harness, table: str) -> dict[str, list[tuple[str, float | None]]]:
    out: dict[str, list[tuple[str, float | None]]] = {}
    for r in await h.all_records(table):
        out.setdefault(r["fields"]["key"], []).append((r["id"], r["fields"].get("n")))
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("provider", ["local", "dingtalk", "feishu", "gptbots"])
async def test_fault_soak(provider: str, seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    async with soaked(provider, tmp_path, seed) as h:
        await h.call(
            "create_table",
            name="soak",
            fields=[{"name": "key", "type": "text"}, {"name": "n", "type": "number"}],
        )
        await h.call("create_records", table="soak", records=[{"key": f"p{i}", "n": 0} for i in range(12)])
        ids = {key: rows[0][0] for key, rows in (await stored(h, "soak")).items()}
        allowed: dict[str, set[float | None]] = {key: {0} for key in ids}
        definite = set(ids)  # keys whose state is known (so they can be updated or deleted)
        set_faults(h, 0.6, seed)
        made = 0
        log: list[str] = []
        for _ in range(OPS):
            op = rng.choice(["create", "update", "delete"])
            if op == "create" or not definite:
                keys = [f"c{made + j}" for j in range(rng.randint(1, 3))]
                made += len(keys)
                try:
                    await h.call("create_records", table="soak", records=[{"key": k, "n": 1} for k in keys])
                    result: set[float | None] = {1}
                except ToolFailed as exc:
                    result = {ABSENT, 1} if unknown(str(exc)) else {ABSENT}
                    log.append(f"create {keys}: {exc}")
                for k in keys:
                    allowed[k] = result
                continue
            key = rng.choice(sorted(definite))
            (old,) = allowed[key]
            if op == "update":
                new = float(rng.randint(2, 99))
                try:
                    await h.call(
                        "update_records", table="soak", records=[{"id": ids[key], "fields": {"n": new}}]
                    )
                    allowed[key] = {new}
                except ToolFailed as exc:
                    allowed[key] = {old, new} if unknown(str(exc)) else {old}
                    log.append(f"update {key}: {exc}")
            else:
                try:
                    await h.call("delete_records", table="soak", record_ids=[ids[key]])
                    allowed[key] = {ABSENT}
                except ToolFailed as exc:
                    allowed[key] = {old, ABSENT} if unknown(str(exc)) else {old}
                    log.append(f"delete {key}: {exc}")
            if len(allowed[key]) > 1 or allowed[key] == {ABSENT}:
                definite.discard(key)

        # 20 concurrent calls under a rate limit of 5 per second (no faults): none fails.
        set_faults(h, 0.0, seed)
        if h.emulator is not None:
            set_rate_limit(h, 5)
        failures: list[str] = []

        async def one(i: int) -> None:
            try:
                await h.call("create_records", table="soak", records=[{"key": f"q{i}", "n": 2}])
            except ToolFailed as exc:
                failures.append(str(exc))

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(one, i)
        assert failures == []
        for i in range(20):
            allowed[f"q{i}"] = {2}
        if h.emulator is not None:
            set_rate_limit(h, 1000)
        final = await stored(h, "soak")

    dupes = {k: v for k, v in final.items() if len(v) > 1}
    assert dupes == {}, f"stored more than once: {dupes}"
    wrong = {
        k: (final[k][0][1] if k in final else ABSENT, sorted(map(str, states)))
        for k, states in allowed.items()
        if (final[k][0][1] if k in final else ABSENT) not in states
    }
    assert wrong == {}, f"final state differs from what the tool results said: {wrong}; {log}"
    assert set(final) <= set(allowed)
    assert Counter(len(s) for s in allowed.values())  # something was decided
