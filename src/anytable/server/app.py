"""The MCP server: the tools of ``anytable.tools`` over one :class:`Anytable` engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from anytable import __version__
from anytable.config import Settings
from anytable.core.service import Anytable
from anytable.providers.registry import TransportFactory
from anytable.server.registrar import Registrar
from anytable.server.results import error, invalid_arguments, unknown_arguments
from anytable.server.schema import compact_input, compact_output
from anytable.tools import TOOLSETS

INSTRUCTIONS = """\
anytable reads and edits AI tables (DingTalk AI Table, Feishu/Lark Bitable, GPTBots, local SQLite) \
with one tool set. Address a table with provider (dingtalk, feishu, gptbots or local; needed when \
several are enabled), base (id or share URL) and table (id or name); fields by name or id. Start with list_providers, list_tables, describe_table.
Values: text/phone/email strings; number; checkbox true/false; single_select an option name; \
multi_select a list of option names; date ISO 8601 ('2026-11-22' or '2026-11-22T09:30:00+08:00') or \
epoch ms, read back as ISO with offset; user an id or list of ids, read as [{id, name}]; url a link or \
{text, link}; link a list of record ids; computed fields are read-only; null clears a value.
where: {"field","op","value"} or {"and":[...]}/{"or":[...]}; op eq neq gt gte lt lte contains \
not_contains is_empty is_not_empty in. neq/not_contains match empty values; contains ignores case; a \
date without time compares whole days. sort: [{"field","desc"}], empties last. query_records pages: \
pass next_cursor back until it is null.
"""


# Accepted by every tool, even one that has no use for them (list_providers), so that a client
# that always sends the addressing arguments is not refused.
ADDRESSING = frozenset({"provider", "base", "table"})


class AnytableServer(MCPServer[Any]):
    """MCPServer whose tools/list carries compact schemas, and whose tools refuse arguments they
    do not have (a misspelt argument silently ignored is a change the caller did not get) and
    explain malformed ones in a line."""

    async def list_tools(self) -> list[MCPTool]:
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema = compact_input(tool.input_schema)
            if tool.output_schema is not None:
                tool.output_schema = compact_output(tool.output_schema)
        return tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            known = tool.parameters.get("properties", {})
            unknown = sorted(set(arguments) - set(known) - ADDRESSING)
            if unknown:
                return error(unknown_arguments(name, unknown, sorted(known)))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return error(invalid_arguments(name, exc.__cause__))
            raise


def build_server(
    settings: Settings | None = None, transports: TransportFactory | None = None
) -> tuple[AnytableServer, Anytable]:
    """The server and the engine behind it (tests and ``anytable call`` use the engine too)."""
    settings = settings or Settings.from_env()
    svc = Anytable(settings, transports)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Anytable]:
        try:
            yield svc
        finally:
            await svc.aclose()

    server = AnytableServer(
        "anytable",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level.upper(),  # type: ignore[arg-type]
    )
    Registrar(server, svc).add_toolsets(TOOLSETS)
    return server, svc
