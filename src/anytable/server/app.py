"""The MCP server: the tools of ``anytable.tools`` over one :class:`Anytable` engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from anytable import __version__
from anytable.config import Settings
from anytable.core.service import Anytable
from anytable.providers.registry import TransportFactory
from anytable.server.clientlog import ClientLog
from anytable.server.registrar import Registrar
from anytable.server.results import error, invalid_arguments, unknown_arguments
from anytable.server.schema import compact_input, compact_output
from anytable.tools import TOOLSETS

INSTRUCTIONS = """\
anytable reads and edits AI tables (DingTalk AI Table, Feishu/Lark Bitable, GPTBots, local SQLite) \
with one tool set. Address a table with the strings provider (dingtalk, feishu, gptbots or local; needed \
when several are enabled), base (id or share URL) and table (id or name); fields, views and roles by name or id. Start with list_providers, list_tables, describe_table.
Values: text/phone/email strings; number; checkbox true/false; single_select an option name; \
multi_select a list of option names; date ISO 8601 ('2026-11-22' or '2026-11-22T09:30:00+08:00') or \
epoch ms, read back as ISO with offset; user an id or list of ids, read as [{id, name}]; url a link or \
{text, link}; link a list of record ids; computed fields are read-only; null clears a value.
where: {"field","op","value"} or {"and":[...]}/{"or":[...]}; op eq neq gt gte lt lte contains \
not_contains is_empty is_not_empty in. neq/not_contains match empty values; contains ignores case; a \
date without time compares whole days. sort: [{"field","desc"}], empties last. query_records pages: \
pass next_cursor back until it is null.
"""


# Handlers MCPServer installs for features this server does not serve: removed so that the
# capabilities advertise tools and logging only.
UNSERVED = (
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
)

# Accepted by every tool, even one that has no use for them (list_providers), so that a client
# that always sends the addressing arguments is not refused.
ADDRESSING = frozenset({"provider", "base", "table"})


class AnytableServer(MCPServer[Any]):
    """MCPServer whose tools/list carries compact schemas, and whose tools refuse arguments they
    do not have (a misspelt argument silently ignored is a change the caller did not get) and
    explain malformed ones in a line. A tool it does not have gets the closest name, or says
    that read-only mode hides it. Every call ends within ``call_timeout`` seconds, and every stdio
    line gets an answer (see ``stdio``)."""

    call_timeout: float = 300.0

    client_log: ClientLog
    read_only_hidden: frozenset[str] = frozenset()

    async def run_stdio(self) -> None:
        """Serve stdio until stdin ends, SIGINT or SIGTERM (stdin read so that a signal is not held
        up by a pending read); the lifespan closes the engine on every path."""
        from mcp.server.stdio import stdio_server

        from anytable.server.lifecycle import StdinLines, run_until_signal
        from anytable.server.stdio import CheckedLines

        async def main() -> None:
            lines = CheckedLines(StdinLines())
            async with stdio_server(stdin=cast(Any, lines)) as (read, write):
                lines.answer_with(write)
                low = self._lowlevel_server
                await low.run(read, write, low.create_initialization_options())

        await run_until_signal(main)

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
        if tool is None:
            return error(self._unknown_tool(name))
        known = tool.parameters.get("properties", {})
        unknown = sorted(set(arguments) - set(known) - ADDRESSING)
        if unknown:
            return error(unknown_arguments(name, unknown, sorted(known)))
        try:
            with anyio.fail_after(self.call_timeout):
                async with self.client_log.forwarding(context):
                    return await super().call_tool(name, arguments, context)
        except TimeoutError:
            read = tool is not None and tool.annotations is not None and tool.annotations.read_only_hint
            return error(
                f"{name} did not finish within {self.call_timeout:g} s (ANYTABLE_CALL_TIMEOUT) and was stopped: "
                + (
                    "nothing was changed. The service may be slow or unreachable: ask for less, or try again later."
                    if read
                    else "part of the change may have been applied. Check with query_records before calling it again."
                )
            )
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return error(invalid_arguments(name, exc.__cause__))
            raise

    def _unknown_tool(self, name: str) -> str:
        if name in self.read_only_hidden:
            return (
                f"{name} changes data and read-only mode is on (ANYTABLE_READ_ONLY): nothing was changed. "
                "Turn read-only mode off in the server's configuration to write."
            )
        import difflib  # only for this rare answer: not on the start-up path

        names = [t.name for t in self._tool_manager.list_tools()]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        return f"There is no tool {name!r}.{hint} The tools are: {', '.join(names)}."


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
            with anyio.CancelScope(shield=True):  # also when a signal cancelled the server
                await svc.aclose()

    server = AnytableServer(
        "anytable",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level.upper(),  # type: ignore[arg-type]
    )
    server.call_timeout = settings.call_timeout
    registrar = Registrar(server, svc)
    registrar.add_toolsets(TOOLSETS)
    server.read_only_hidden = frozenset(registrar.read_only_hidden)
    for method in UNSERVED:
        server._lowlevel_server._request_handlers.pop(method, None)
    server.client_log = ClientLog()
    server.client_log.install(server)
    return server, svc
