"""End to end: `anytable serve` over stdio, configured by FEISHU_* variables, talking over a real
socket to the Feishu emulator served by uvicorn on 127.0.0.1 (FEISHU_DOMAIN=http://127.0.0.1:port)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.e2e.test_transports import server_env
from tests.emulators.base import served as served_on_loopback
from tests.emulators.feishu import FeishuEmulator
from tests.providers.feishu_harness import APP_ID, APP_SECRET, APP_TOKEN, emulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def served() -> Iterator[tuple[FeishuEmulator, str]]:
    emu = emulator(latency=0.002)
    with served_on_loopback(emu) as url:
        yield emu, url


async def test_stdio_server_on_the_emulator(tmp_path: Path, served: tuple[FeishuEmulator, str]) -> None:
    emu, url = served
    env = server_env(
        tmp_path,
        FEISHU_APP_ID=APP_ID,
        FEISHU_APP_SECRET=APP_SECRET,
        FEISHU_APP_TOKEN=APP_TOKEN,
        FEISHU_DOMAIN=url,
        ANYTABLE_PROVIDER="feishu",
        ANYTABLE_LOG_LEVEL="DEBUG",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "anytable", "serve"], env=env)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    def text(result: Any) -> str:
        return "".join(getattr(c, "text", "") for c in result.content)

    errlog = (tmp_path / "stderr.log").open("w+")
    with anyio.fail_after(90):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"list_views", "create_view", "delete_view", "query_records"} <= tools
            assert {"feishu_read", "feishu_update", "feishu_delete"} <= tools
            renamed = await client.call_tool(
                "feishu_update", {"action": "update_app", "data": {"name": "over stdio"}}
            )
            assert renamed.structured_content == {
                "app": {"id": APP_TOKEN, "name": "over stdio", "advanced": False}
            }
            assert emu.app(APP_TOKEN).name == "over stdio"

            listed = await client.call_tool("list_providers", {})
            feishu = next(p for p in listed.structured_content["providers"] if p["id"] == "feishu")
            assert feishu["enabled"] and feishu["credentials"]["FEISHU_APP_SECRET"] == APP_SECRET[:4] + "****"
            assert APP_SECRET not in text(listed)

            made = await client.call_tool(
                "create_table",
                {
                    "name": "e2e",
                    "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
                },
            )
            assert not made.is_error, text(made)
            rows = [{"title": f"row {i}", "n": i} for i in range(1_200)]
            created = await client.call_tool(
                "create_records", {"table": "e2e", "records": rows}, progress_callback=on_progress
            )
            assert not created.is_error, text(created)
            assert created.structured_content["created"] == 1_200
            page = await client.call_tool(
                "query_records",
                {
                    "table": "e2e",
                    "where": {"field": "n", "op": "gte", "value": 1_195},
                    "sort": [{"field": "n", "desc": True}],
                },
            )
            assert [r["fields"]["n"] for r in page.structured_content["records"]] == [
                1199,
                1198,
                1197,
                1196,
                1195,
            ]
            bad = await client.call_tool("describe_table", {"table": "nope"})
            assert bad.is_error and "e2e" in text(bad)
    assert [p[:2] for p in progress] == [(500, 1200), (1000, 1200), (1200, 1200)]
    assert len(emu.records(APP_TOKEN, "e2e")) == 1_200
    errlog.seek(0)
    stderr = errlog.read()
    token = next(iter(emu.tokens))
    assert "speaks MCP on stdin/stdout (providers: local, feishu)" in stderr
    assert APP_SECRET not in stderr and token not in stderr
