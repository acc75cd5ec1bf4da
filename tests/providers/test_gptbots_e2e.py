"""End to end: `anytable serve` over stdio, configured by GPTBOTS_* variables, talking over a real
socket to the GPTBots emulator served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
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
from tests.emulators.gptbots import GPTBotsEmulator

pytestmark = pytest.mark.anyio

KEY = "gptk-e2e-9c1d7b3a5f"
AGENT = "agent_e2e"


@pytest.fixture
def served() -> Iterator[tuple[GPTBotsEmulator, str]]:
    emu = GPTBotsEmulator(api_keys={KEY: AGENT}, latency=0.002)
    with served_on_loopback(emu) as url:
        yield emu, url


async def test_stdio_server_on_the_emulator(tmp_path: Path, served: tuple[GPTBotsEmulator, str]) -> None:
    emu, url = served
    table_id = emu.add_table(
        AGENT, "leads", [{"name": "email", "type": "TEXT", "unique": True}, {"name": "score", "type": "INT"}]
    )
    env = server_env(
        tmp_path,
        GPTBOTS_API_KEY=KEY,
        GPTBOTS_ENDPOINT=url,
        GPTBOTS_AGENT_ID=AGENT,
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
            listed = await client.call_tool("list_providers", {})
            entry = next(p for p in listed.structured_content["providers"] if p["id"] == "gptbots")
            assert entry["enabled"] is True
            assert entry["credentials"]["GPTBOTS_API_KEY"] == KEY[:4] + "****"
            assert KEY not in text(listed) and KEY not in json.dumps(listed.structured_content)

            tables = await client.call_tool("list_tables", {"provider": "gptbots"})
            assert tables.structured_content == {"tables": [{"id": table_id, "name": "leads"}]}

            rows = [{"email": f"p{i}@example.com", "score": i} for i in range(2300)]
            rows[1500]["email"] = "p3@example.com"  # a unique value given twice: refused, with its reason
            created = await client.call_tool(
                "create_records",
                {"provider": "gptbots", "table": "leads", "records": rows},
                progress_callback=on_progress,
            )
            assert not created.is_error, text(created)
            assert created.structured_content["created"] == 2299 and created.structured_content["ids"] is None
            assert [f["index"] for f in created.structured_content["failed"]] == [1500]

            page = await client.call_tool(
                "query_records",
                {
                    "provider": "gptbots",
                    "table": "leads",
                    "where": {"field": "email", "op": "eq", "value": "p42@example.com"},
                },
            )
            assert [r["fields"] for r in page.structured_content["records"]] == [
                {"email": "p42@example.com", "score": 42}
            ]
            refused = await client.call_tool(
                "update_table", {"provider": "gptbots", "table": "leads", "name": "other"}
            )
            assert refused.is_error and "not supported by GPTBots" in text(refused)

    assert [p[:2] for p in progress] == [(1000, 2300), (2000, 2300), (2300, 2300)]
    assert len(emu.rows(table_id)) == 2299
    errlog.seek(0)
    log = errlog.read()
    assert KEY not in log
