"""The contract suite over the GPTBots emulator: the server built from GPTBOTS_* variables, its
HTTP going in-process to ``tests.emulators.gptbots``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from anytable.config import Settings
from anytable.providers.gptbots import GPTBotsProvider
from anytable.providers.retry import RetryPolicy
from anytable.server import build_server
from tests.emulators.base import EmulatorTransport
from tests.emulators.gptbots import GPTBotsEmulator
from tests.harness import TZ, Harness, register, serve

KEY = "gpt-contract-key-7f3a9c21"
AGENT = "agent_contract"


def emulator(**options: Any) -> GPTBotsEmulator:
    return GPTBotsEmulator(api_keys={KEY: AGENT}, **options)


def env(**extra: str) -> dict[str, str]:
    return {"GPTBOTS_API_KEY": KEY, "GPTBOTS_ENDPOINT": "sg", "GPTBOTS_AGENT_ID": AGENT, **extra}


@register("gptbots")
def gptbots_harness(tmp_path: Path) -> Any:
    return serve("gptbots", env(), tmp_path, emulator=emulator())


class Capture(EmulatorTransport):
    """The emulator's transport, keeping every request (method, path, query, JSON body)."""

    def __init__(self, emu: GPTBotsEmulator) -> None:
        super().__init__(emu)
        self.sent: list[tuple[str, str, str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, request.url.query.decode(), body))
        return await super().handle_async_request(request)

    def bodies(self, path: str) -> list[Any]:
        return [body for _, p, _, body in self.sent if p.endswith(path)]


@asynccontextmanager
async def gptbots(
    tmp_path: Path, emu: GPTBotsEmulator | None = None, **variables: str
) -> AsyncIterator[tuple[Harness, Capture]]:
    """A server on ``emu`` (a fresh emulator by default) whose requests are captured.

    ``variables`` replace the GPTBOTS_* variables (a value of "" leaves that variable out).
    """
    emu = emu or emulator()
    capture = Capture(emu)
    values = {k: v for k, v in env(**variables).items() if v != ""}
    settings = Settings.from_env(
        {"ANYTABLE_LOCAL_PATH": str(tmp_path / "local.sqlite"), "ANYTABLE_TIMEZONE": TZ, **values}
    )
    server, svc = build_server(settings, lambda pid: capture if pid == "gptbots" else None)
    async with Client(server, raise_exceptions=True) as client:
        yield Harness("gptbots", client, svc, None, emu), capture


def provider(h: Harness) -> GPTBotsProvider:
    found = h.svc.providers["gptbots"]
    assert isinstance(found, GPTBotsProvider)
    return found


FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.005)


def fast(h: Harness, **importer: float) -> GPTBotsProvider:
    """Short retries and import waits for tests of failures."""
    p = provider(h)
    p.api.http.retry = FAST
    for name, value in importer.items():
        setattr(p.importer, name, value)
    return p
