"""Protocol completeness: capabilities advertise only what is served; logging/setLevel is
honoured, with masked log notifications at the chosen level; unknown and read-only-hidden tools
are explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from anytable.config import Settings
from anytable.masking import SECRETS
from anytable.server import build_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]


async def test_capabilities_are_tools_and_logging_only(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "p.sqlite")))
    async with Client(server, mode="legacy") as client:
        caps = client.server_capabilities
        assert caps.tools is not None and caps.logging is not None
        assert caps.prompts is None and caps.resources is None and caps.completions is None
        with pytest.raises(MCPError, match="Method not found"):
            await client.list_prompts()
        with pytest.raises(MCPError, match="Method not found"):
            await client.list_resources()


async def test_set_level_sends_masked_log_messages_at_that_level_and_above(tmp_path: Path) -> None:
    secret = "zq-very-secret-value-81"
    SECRETS.add(secret)
    received: list[Any] = []

    async def on_log(params: Any) -> None:
        received.append(params)

    server, _ = build_server(Settings(local_path=str(tmp_path / "p.sqlite")))
    async with Client(server, mode="legacy", logging_callback=on_log) as client:
        # No level chosen: nothing is sent.
        await client.call_tool("query_records", {"table": secret})
        assert received == []
        await client.set_logging_level("warning")
        await client.call_tool("query_records", {"table": secret})
        assert received == []  # a missing table is logged at info
        await client.set_logging_level("info")
        result = await client.call_tool("query_records", {"table": secret})
        assert result.is_error
    assert len(received) == 1, received
    message = received[0]
    assert message.level == "info" and message.logger == "anytable.tools"
    assert secret not in str(message.data) and "zq-v****" in str(message.data)
    assert "query_records" in str(message.data)


async def test_a_2026_request_opts_in_to_log_messages_itself(tmp_path: Path) -> None:
    received: list[Any] = []

    async def on_log(params: Any) -> None:
        received.append(params)

    server, _ = build_server(Settings(local_path=str(tmp_path / "p.sqlite")))
    async with Client(server, logging_callback=on_log, log_level="info") as client:
        await client.call_tool("query_records", {"table": "Nope"})
    assert [m.level for m in received] == ["info"] and "Nope" in str(received[0].data)


async def test_unknown_tool_suggests_the_closest(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "p.sqlite")))
    async with Client(server) as client:
        result = await client.call_tool("query_record", {"table": "t"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "Did you mean query_records?" in text and "list_tables" in text


async def test_a_write_tool_in_read_only_mode_says_so(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "p.sqlite"), read_only=True))
    async with Client(server) as client:
        assert "create_records" not in {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("create_records", {"table": "t", "records": [{}]})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "read-only mode is on" in text and "ANYTABLE_READ_ONLY" in text
    assert not (tmp_path / "p.sqlite").exists()
