"""End to end: `anytable serve` over stdio, configured by DINGTALK_* variables, talking over a real
socket to the DingTalk emulator served by uvicorn on 127.0.0.1 (both hosts: api and oapi)."""

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
from tests.emulators.dingtalk import DingTalkEmulator
from tests.providers.dingtalk_harness import ADA, APP_KEY, APP_SECRET, BASE_ID, make_emulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def served() -> Iterator[tuple[DingTalkEmulator, str]]:
    emu = make_emulator(latency=0.002)
    with served_on_loopback(emu) as url:
        yield emu, url


def text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def test_stdio_server_on_the_emulator(tmp_path: Path, served: tuple[DingTalkEmulator, str]) -> None:
    emu, url = served
    env = server_env(
        tmp_path,
        DINGTALK_APP_KEY=APP_KEY,
        DINGTALK_APP_SECRET=APP_SECRET,
        DINGTALK_USER_ID=ADA[0],  # looked up on the legacy host
        DINGTALK_BASE_ID=f"https://alidocs.dingtalk.com/i/nodes/{BASE_ID}?utm_scene=team_space",
        DINGTALK_API_URL=url,
        DINGTALK_OAPI_URL=url,
        ANYTABLE_LOG_LEVEL="DEBUG",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "anytable", "serve"], env=env)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    errlog = (tmp_path / "stderr.log").open("w+")
    with anyio.fail_after(90):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            listed = await client.call_tool("list_providers", {})
            entry = next(p for p in listed.structured_content["providers"] if p["id"] == "dingtalk")
            assert entry["enabled"] is True
            assert entry["credentials"]["DINGTALK_APP_SECRET"] == APP_SECRET[:4] + "****"
            assert APP_SECRET not in text(listed) and APP_SECRET not in json.dumps(listed.structured_content)

            made = await client.call_tool(
                "create_table",
                {
                    "provider": "dingtalk",
                    "name": "tasks",
                    "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
                },
            )
            assert not made.is_error, text(made)
            emu.faults.add(
                "lost_response", match=r"POST .*/records$"
            )  # over a socket: the answer never comes
            rows = [{"title": f"task {i}", "n": i} for i in range(250)]
            created = await client.call_tool(
                "create_records",
                {"provider": "dingtalk", "table": "tasks", "records": rows},
                progress_callback=on_progress,
            )
            assert not created.is_error, text(created)
            assert created.structured_content["created"] == 250

            page = await client.call_tool(
                "query_records",
                {"provider": "dingtalk", "table": "tasks", "where": {"field": "n", "op": "eq", "value": 42}},
            )
            assert [r["fields"] for r in page.structured_content["records"]] == [
                {"title": "task 42", "n": 42}
            ]
            assert page.structured_content["server_filtered"] is False

            refused = await client.call_tool(
                "create_records", {"provider": "dingtalk", "table": "tasks", "records": [{"n": "lots"}]}
            )
            assert refused.is_error and "'n'" in text(refused) and "Traceback" not in text(refused)

    assert [p[:2] for p in progress] == [(100, 250), (200, 250), (250, 250)]
    sheet = emu.sheet_id(BASE_ID, "tasks")
    assert sorted(int(r["fields"]["n"]) for r in emu.records(BASE_ID, sheet)) == list(
        range(250)
    )  # none twice
    assert emu.count("GET", r"^/gettoken$") == 1 and emu.count("POST", r"^/topapi/v2/user/get$") == 1
    errlog.seek(0)
    log = errlog.read()
    assert "providers: local, dingtalk" in log and "clientToken shows 100 records stored" in log
    for secret in (APP_SECRET, *emu.tokens, *emu.legacy_tokens):
        assert secret not in log
