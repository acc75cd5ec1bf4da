"""End to end: spawn `anytable serve` and drive it with the official MCP client, over stdio and HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio
CORE_TOOLS = {
    "list_providers",
    "list_tables",
    "describe_table",
    "create_table",
    "update_table",
    "delete_table",
    "create_field",
    "update_field",
    "delete_field",
    "query_records",
    "get_records",
    "aggregate_records",
    "create_records",
    "update_records",
    "delete_records",
    "export_records",
    "import_records",
    "upload_attachment",
    "download_attachments",
}

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DINGTALK_", "FEISHU_", "GPTBOTS_", "ANYTABLE_"))
    }
    env.update(
        {"ANYTABLE_LOCAL_PATH": str(tmp_path / "e2e.sqlite"), "ANYTABLE_TIMEZONE": "Asia/Shanghai", **extra}
    )
    return env


async def exercise(client: Client) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == CORE_TOOLS
    made = await client.call_tool(
        "create_table",
        {"name": "E2E", "fields": [{"name": "Title", "type": "text"}, {"name": "Due", "type": "date"}]},
    )
    assert not made.is_error, made.content
    created = await client.call_tool(
        "create_records", {"table": "E2E", "records": [{"Title": "a", "Due": "2026-11-22"}, {"Title": "b"}]}
    )
    assert created.structured_content["created"] == 2
    page = await client.call_tool(
        "query_records", {"table": "E2E", "where": {"field": "Due", "op": "is_not_empty"}}
    )
    assert page.structured_content["records"][0]["fields"] == {
        "Title": "a",
        "Due": "2026-11-22T00:00:00+08:00",
    }
    bad = await client.call_tool("create_records", {"table": "E2E", "records": [{"Nope": 1}]})
    assert bad.is_error and "Nope" in bad.content[0].text and "Traceback" not in bad.content[0].text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "anytable", "serve"], env=server_env(tmp_path)
    )
    with anyio.fail_after(60):
        async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
            await exercise(client)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def test_stdout_carries_only_protocol_and_stderr_says_hello(tmp_path: Path) -> None:
    requests = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "list_tables", "arguments": {}},
        },
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "anytable", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path, ANYTABLE_LOG_LEVEL="DEBUG"),
        text=True,
    )
    assert proc.stdin and proc.stdout
    for request in requests:
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
    answers: dict[int, Any] = {}
    deadline = time.monotonic() + 30
    while len(answers) < 3 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        message = json.loads(line)  # every stdout line is JSON-RPC
        assert message["jsonrpc"] == "2.0"
        if "id" in message:
            answers[message["id"]] = message
    proc.stdin.close()
    proc.wait(timeout=20)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert set(answers) == {1, 2, 3}
    assert {t["name"] for t in answers[2]["result"]["tools"]} == CORE_TOOLS
    assert answers[3]["result"]["structuredContent"] == {"tables": []}
    assert "anytable 0.1.0 speaks MCP on stdin/stdout (providers: local)" in stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(proc: subprocess.Popen[bytes], port: int) -> str:
    """The /mcp URL of ``anytable serve --transport http`` once it answers (at most 30 s)."""
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return url
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)


async def test_streamable_http(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "anytable", "serve", "--transport", "http", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path),
    )
    try:
        url = wait_for_http(proc, port)
        with anyio.fail_after(60):
            async with Client(url) as client:
                await exercise(client)
        # Bound to loopback and refusing other Host headers (DNS rebinding protection).
        refused = httpx.post(
            url, headers={"host": "evil.example", "content-type": "application/json"}, json={}
        )
        assert refused.status_code in (400, 403, 421)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
