"""The DingTalk harness of the contract suite: the server built from DINGTALK_* variables, its HTTP
going in-process to the DingTalk emulator (rate limit on, 20 requests/s per API; no latency)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from anytable.providers.dingtalk import DingTalkProvider
from anytable.providers.retry import RetryPolicy
from tests.emulators.dingtalk import DingTalkEmulator
from tests.harness import Harness, register, serve

APP_KEY = "dingappkey0001"
APP_SECRET = "dingSECRETvalue0123456789"
BASE_ID = "qnYcontractBase01"
ADA = ("ada01", "unionAda0001", "Ada")
BOB = ("bob01", "unionBob0002", "Bob")


def make_emulator(**kw: Any) -> DingTalkEmulator:
    emu = DingTalkEmulator(app_key=APP_KEY, app_secret=APP_SECRET, **kw)
    emu.add_user(*ADA)
    emu.add_user(*BOB)
    emu.add_base(BASE_ID, name="Contract", members=[ADA[1], BOB[1]])
    return emu


def env(**extra: str) -> dict[str, str]:
    return {
        "DINGTALK_APP_KEY": APP_KEY,
        "DINGTALK_APP_SECRET": APP_SECRET,
        "DINGTALK_OPERATOR_ID": ADA[1],
        "DINGTALK_BASE_ID": BASE_ID,
        **extra,
    }


@register("dingtalk")
def dingtalk_harness(tmp_path: Path) -> Any:
    return serve("dingtalk", env(), tmp_path, emulator=make_emulator(), users=[ADA[1], BOB[1]])


# Fast retries for the DingTalk-specific tests (the throttle wait becomes max_delay * 4 = 40 ms).
FAST = RetryPolicy(attempts=6, base_delay=0.001, max_delay=0.01, max_total_wait=5.0)


@asynccontextmanager
async def session(
    tmp_path: Path, emu: DingTalkEmulator | None = None, *, fast: bool = True, **env_vars: str
) -> AsyncIterator[Harness]:
    """A server on ``emu`` (default: a fresh emulator) configured by ``env()`` updated with ``env_vars``
    (an empty value leaves a variable out)."""
    variables = {k: v for k, v in env(**env_vars).items() if v}
    async with serve(
        "dingtalk", variables, tmp_path, emulator=emu or make_emulator(), users=[ADA[1], BOB[1]]
    ) as h:
        if fast:
            provider(h).api.http.retry = FAST
        yield h


def provider(h: Harness) -> DingTalkProvider:
    p = h.svc.providers["dingtalk"]
    assert isinstance(p, DingTalkProvider)
    return p


def emulator(h: Harness) -> DingTalkEmulator:
    assert isinstance(h.emulator, DingTalkEmulator)
    return h.emulator


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"title": f"item {i}", "n": i} for i in range(start, start + n)]


async def numbers_table(h: Harness, name: str = "items") -> str:
    made = await h.call(
        "create_table",
        table=None,
        name=name,
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    return str(made["id"])


def stored(h: Harness, table: str = "items") -> list[dict[str, Any]]:
    """The records the emulator holds (as DingTalk renders them), in insertion order."""
    emu = emulator(h)
    return emu.records(BASE_ID, emu.sheet_id(BASE_ID, table))


def on_request(
    emu: DingTalkEmulator, hook: Callable[[httpx.Request], Awaitable[httpx.Response | None]]
) -> None:
    """Run ``hook`` before the emulator answers each request; a response it returns is the answer."""
    original = emu.dispatch

    async def dispatch(request: httpx.Request) -> httpx.Response:
        answer = await hook(request)
        return answer if answer is not None else await original(request)

    emu.dispatch = dispatch  # type: ignore[method-assign]
