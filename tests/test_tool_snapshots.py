"""Every tool's schema, snapshotted: a schema change is always a deliberate diff.

Run with ANYTABLE_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from anytable.config import Settings
from anytable.server import build_server

pytestmark = pytest.mark.anyio
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("ANYTABLE_UPDATE_SNAPSHOTS") == "1"

EVERY_PROVIDER: dict[str, Any] = {
    "dingtalk_app_key": "dingsnapshotkey",
    "dingtalk_app_secret": "snapshot-secret-1",
    "dingtalk_operator_id": "union1",
    "feishu_app_id": "cli_snapshot",
    "feishu_app_secret": "snapshot-secret-2",
    "gptbots_api_key": "snapshot-secret-3",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "local": {},
    "read_only": {"read_only": True},
    "every_provider": EVERY_PROVIDER,
    "every_provider_read_only": {**EVERY_PROVIDER, "read_only": True},
}


async def tool_list(settings: Settings) -> list[dict[str, Any]]:
    server, _ = build_server(settings)
    async with Client(server) as client:
        return [
            t.model_dump(mode="json", by_alias=True, exclude_none=True)
            for t in (await client.list_tools()).tools
        ]


@pytest.mark.parametrize("config", sorted(CONFIGS))
async def test_tool_schemas_match_snapshot(config: str, tmp_path: Path) -> None:
    tools = await tool_list(Settings(local_path=str(tmp_path / "s.sqlite"), **CONFIGS[config]))
    path = SNAPSHOTS / f"tools_{config}.json"
    text = json.dumps(tools, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"tool schemas changed: review, then ANYTABLE_UPDATE_SNAPSHOTS=1 ({path.name})"
    )


async def test_read_only_lists_no_write_tool(tmp_path: Path) -> None:
    tools = await tool_list(Settings(local_path=str(tmp_path / "s.sqlite"), read_only=True))
    assert {t["name"] for t in tools} == {
        "list_providers",
        "list_tables",
        "describe_table",
        "query_records",
        "get_records",
        "export_records",  # writes a file, never a table
        "download_attachments",
        "aggregate_records",
    }
    assert all(t["annotations"]["readOnlyHint"] for t in tools)


async def test_write_tools_are_not_callable_in_read_only_mode(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "s.sqlite"), read_only=True))
    async with Client(server) as client:
        result = await client.call_tool("create_table", {"name": "x"})
        assert result.is_error
        assert (await client.call_tool("list_tables", {})).structured_content == {"tables": []}


async def test_every_tool_has_annotations_and_an_output_schema(tmp_path: Path) -> None:
    tools = await tool_list(Settings(local_path=str(tmp_path / "s.sqlite")))
    destructive = {"delete_table", "delete_field", "delete_records"}
    reads = {
        "list_providers",
        "list_tables",
        "describe_table",
        "query_records",
        "get_records",
        "export_records",
        "download_attachments",
        "aggregate_records",
    }
    for tool in tools:
        hints = tool["annotations"]
        assert tool["outputSchema"]["type"] == "object", tool["name"]
        assert hints["readOnlyHint"] is (tool["name"] in reads)
        assert hints["destructiveHint"] is (tool["name"] in destructive)
        assert hints["openWorldHint"] is False  # local only
        assert "idempotentHint" in hints


HINTS = {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}


async def test_every_tool_lists_its_addressing_arguments_and_all_four_hints(tmp_path: Path) -> None:
    """The addressing arguments are listed by name (their schema is empty: the instructions say
    what they are), and every hint is explicit, with every provider enabled."""
    server, _ = build_server(Settings(local_path=str(tmp_path / "s.sqlite"), **EVERY_PROVIDER))
    async with Client(server) as client:
        instructions = client.instructions or ""
        tools = (await client.list_tools()).tools
    assert "provider (dingtalk, feishu, gptbots or local" in instructions
    assert "base (id or share URL) and table (id or name)" in instructions
    for tool in tools:
        hints = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        assert set(hints) >= HINTS and all(isinstance(hints[h], bool) for h in HINTS), tool.name
        props = tool.input_schema.get("properties", {})
        if tool.name != "list_providers":
            assert props["provider"] == props["base"] == {}, tool.name


async def test_addressing_arguments_are_type_checked_when_called(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "s.sqlite")))
    async with Client(server) as client:
        for bad in ({"table": 5}, {"table": "t", "provider": ["local"]}, {"base": {"id": 1}}):
            result = await client.call_tool("query_records", bad)
            name = next(k for k, v in bad.items() if not isinstance(v, str))
            assert result.is_error and result.content[0].text.startswith(f"query_records: {name}:"), bad
            assert "valid string" in result.content[0].text


async def test_provider_tool_groups_appear_with_their_provider(tmp_path: Path) -> None:
    tools = {
        t["name"]: t
        for t in await tool_list(Settings(local_path=str(tmp_path / "s.sqlite"), **EVERY_PROVIDER))
    }
    groups = {"list_views", "create_view", "delete_view", "feishu_read", "feishu_update", "feishu_delete"}
    assert groups <= set(tools)
    assert all(t["annotations"]["openWorldHint"] is True for t in tools.values())
    assert tools["feishu_delete"]["annotations"]["destructiveHint"] is True
    assert tools["feishu_read"]["annotations"]["readOnlyHint"] is True


async def test_unknown_and_malformed_arguments_are_refused_clearly(tmp_path: Path) -> None:
    server, _ = build_server(Settings(local_path=str(tmp_path / "s.sqlite")))
    async with Client(server) as client:
        await client.call_tool("create_table", {"name": "t", "fields": [{"name": "a", "type": "text"}]})
        typo = await client.call_tool("query_records", {"tabel": "t"})
        assert typo.is_error and "'tabel'" in typo.content[0].text and "table" in typo.content[0].text
        retype = await client.call_tool("update_field", {"table": "t", "field": "a", "type": "number"})
        assert retype.is_error and "cannot be changed" in retype.content[0].text
        described = await client.call_tool("describe_table", {"table": "t"})
        assert described.structured_content["fields"][0]["type"] == "text"
        bad = await client.call_tool("query_records", {"table": "t", "limit": "lots"})
        assert bad.is_error and bad.content[0].text.startswith("query_records: limit:")
        assert "pydantic" not in bad.content[0].text


TOOLS_LIST_BUDGET = 12_000  # bytes of compact JSON, every provider enabled (issue 10)


async def test_tools_list_with_every_provider_fits_the_budget(tmp_path: Path) -> None:
    tools = await tool_list(Settings(local_path=str(tmp_path / "s.sqlite"), **EVERY_PROVIDER))
    size = len(json.dumps({"tools": tools}, separators=(",", ":"), ensure_ascii=False).encode())
    assert size <= TOOLS_LIST_BUDGET, f"tools/list is {size} bytes; the budget is {TOOLS_LIST_BUDGET}"
