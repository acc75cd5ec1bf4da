"""Every tool call ends: a per-call deadline (ANYTABLE_CALL_TIMEOUT) and a cap on answer sizes, with
clear errors, whatever the upstream does (hang, drip, flood) (issue 11)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.harness import serve
from tests.providers.gptbots_harness import env

pytestmark = pytest.mark.anyio


class Upstream:
    """A stand-in for an upstream service, answering every request by ``mode``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "hang":
            await anyio.sleep(3600)
        if self.mode == "drip":
            return httpx.Response(200, headers={"content-type": "application/json"}, stream=Drip())
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=Flood())


class Drip(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"code": 0, "data": ['
        while True:  # a byte now and then: no read timeout ever fires
            await anyio.sleep(0.05)
            yield b" "


class Flood(httpx.AsyncByteStream):
    """300 MB of JSON, made as it is read."""

    sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"code": 0, "data": ['
        chunk = b'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",' * 32_768  # ~1 MB
        for _ in range(300):
            Flood.sent += len(chunk)
            yield chunk
        yield b'"x"]}'


@pytest.mark.parametrize("mode", ["hang", "drip"])
async def test_a_hanging_or_dripping_upstream_ends_at_the_call_deadline(tmp_path: Path, mode: str) -> None:
    async with serve("gptbots", env(ANYTABLE_CALL_TIMEOUT="1.5"), tmp_path, emulator=Upstream(mode)) as h:  # type: ignore[arg-type]
        start = time.monotonic()
        message = await h.fails("list_tables")
        elapsed = time.monotonic() - start
        assert 1.4 < elapsed < 5
        assert "did not finish within 1.5 s" in message and "ANYTABLE_CALL_TIMEOUT" in message
        assert "nothing was changed" in message
        # the server still answers
        assert (await h.call("list_providers"))["providers"]


async def test_a_huge_answer_is_cut_off_with_a_clear_error(tmp_path: Path) -> None:
    async with serve("gptbots", env(), tmp_path, emulator=Upstream("flood")) as h:  # type: ignore[arg-type]
        message = await h.fails("list_tables")
    assert "larger than 64 MB" in message
    assert Flood.sent < 80 * 1024 * 1024  # it stopped reading, not read 300 MB


def test_a_bad_call_timeout_is_refused() -> None:
    from anytable.config import Settings
    from anytable.errors import ConfigError

    with pytest.raises(ConfigError, match="ANYTABLE_CALL_TIMEOUT"):
        Settings.from_env({"ANYTABLE_CALL_TIMEOUT": "soon"})
