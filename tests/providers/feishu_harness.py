"""The contract suite's harness for ``feishu`` (the server built from FEISHU_* variables, its HTTP
going in-process to the Feishu Bitable emulator, tests/emulators/feishu.py), and helpers of the
Feishu-specific tests: a recording transport and a provider built directly on the emulator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from anytable.providers.feishu import FeishuApi, FeishuProvider
from anytable.providers.retry import RetryPolicy
from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import FeishuEmulator
from tests.harness import register, serve

APP_ID = "cli_a1b2c3d4e5f60001"
APP_SECRET = "feishu-harness-secret-0123456789"
APP_TOKEN = "bascnContractBase0001"
USERS = {"ou_ada0000000001": "Ada", "ou_bob0000000002": "Bob"}
# Quick backoff for tests; max_delay 2 s lets a throttle's reset (up to 4 x max_delay) be honoured.
FAST = RetryPolicy(attempts=6, base_delay=0.005, max_delay=2.0, max_total_wait=10.0)


def emulator(**knobs: Any) -> FeishuEmulator:
    """A Feishu tenant with one base (holding one table, as a real base always does) and two users."""
    emu = FeishuEmulator(app_id=APP_ID, app_secret=APP_SECRET, **knobs)
    emu.add_app(APP_TOKEN, name="contract")
    emu.add_table(APP_TOKEN, "Sheet1", fields=[{"field_name": "Title", "type": 1}])
    for open_id, name in USERS.items():
        emu.add_user(open_id, name, union_id="on_" + open_id[3:], user_id="u_" + open_id[3:])
    return emu


def env(**extra: str) -> dict[str, str]:
    return {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_APP_TOKEN": APP_TOKEN, **extra}


@register("feishu")
def feishu_harness(tmp_path: Path) -> Any:
    return serve("feishu", env(), tmp_path, emulator=emulator(), base=APP_TOKEN, users=list(USERS))


@dataclass
class Exchange:
    method: str
    url: httpx.URL
    body: Any
    status: int | None = None
    code: int | None = None  # Feishu's code (None: no JSON answer, or the answer was lost)

    @property
    def path(self) -> str:
        return self.url.path

    @property
    def params(self) -> httpx.QueryParams:
        return self.url.params


class Recorder:
    """Stands in front of the emulator (``serve(..., emulator=recorder)`` or :func:`direct`) and
    records every exchange, and how many writes were in flight per table."""

    def __init__(self, emu: FeishuEmulator, before: Any = None) -> None:
        self.emu = emu
        self.before = before  # optional hook(request), run before a request reaches the emulator
        self.exchanges: list[Exchange] = []
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self.most_in_flight_total = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        exchange = Exchange(request.method, request.url, body)
        self.exchanges.append(exchange)
        if self.before is not None:
            self.before(request)
        path = request.url.path
        write = request.method != "GET" and "/records" in path and not path.endswith(("search", "batch_get"))
        table = path.split("/tables/")[1].split("/")[0] if write else ""
        if write:
            self.in_flight[table] = self.in_flight.get(table, 0) + 1
            self.most_in_flight[table] = max(self.most_in_flight.get(table, 0), self.in_flight[table])
            self.most_in_flight_total = max(self.most_in_flight_total, sum(self.in_flight.values()))
        try:
            response = await self.emu.handle(request)
        finally:
            if write:
                self.in_flight[table] -= 1
        exchange.status = response.status_code
        try:
            exchange.code = json.loads(response.content).get("code")
        except (ValueError, AttributeError):
            exchange.code = None
        return response

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for e in self.exchanges if e.method == method and path_part in e.path)

    def codes(self) -> list[int | None]:
        return [e.code for e in self.exchanges]


def direct(
    emu: FeishuEmulator,
    *,
    base_url: str = "https://open.feishu.cn",
    user_id_type: str = "open_id",
    retry: RetryPolicy = FAST,
    rates: dict[str, float] | None = None,
    clock: Any = None,
) -> tuple[FeishuProvider, Recorder]:
    """A provider on the emulator without the MCP layer (fast retries, emulator clock for tokens)."""
    recorder = Recorder(emu)
    client = FeishuApi(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_url=base_url,
        user_id_type=user_id_type,
        transport=EmulatorTransport(recorder),  # type: ignore[arg-type]
        retry=retry,
        rates=rates,
        clock=clock or emu.clock.now,
    )
    return FeishuProvider(client, app_token=APP_TOKEN), recorder
