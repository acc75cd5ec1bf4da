"""The one registration boundary: each :class:`~anytable.tools.Tool` becomes an MCP tool whose
annotations come from its kind, that is left out in read-only mode when it writes, and whose
outcome (a result, or any error) becomes a tool result here, masked (``results``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from mcp.types import CallToolResult, ToolAnnotations

from anytable.server.results import run
from anytable.tools import CORE, Tool, Toolset
from anytable.tools.toolset import listed

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from anytable.core.service import Anytable


def bind(tool: Tool, svc: Anytable) -> Callable[..., Any]:
    """The MCP-facing function of ``tool``: its arguments without the engine, the engine bound,
    the result or error turned into a tool result."""
    signature = inspect.signature(tool.fn, eval_str=True)
    params = list(signature.parameters.values())[1:]  # the first is the engine
    returns = Annotated[CallToolResult, tool.out]

    async def call(**arguments: Any) -> CallToolResult:
        return await run(tool.name, tool.fn(svc, **arguments))

    call.__name__ = call.__qualname__ = tool.name
    call.__doc__ = tool.description
    call.__signature__ = signature.replace(parameters=params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return call


class Registrar:
    def __init__(self, server: MCPServer[Any], svc: Anytable) -> None:
        self.server = server
        self.svc = svc
        self.names: list[str] = []
        self.read_only_hidden: list[str] = []  # write tools left out in read-only mode

    def add_toolsets(self, toolsets: Sequence[Toolset]) -> None:
        """Register every tool of the toolsets listed with the enabled providers, in order."""
        for toolset in toolsets:
            if listed(toolset, self.svc, CORE):
                for tool in toolset.tools:
                    self.add(tool)

    def add(self, tool: Tool) -> None:
        """Register ``tool``; in read-only mode a write tool is neither listed nor callable."""
        if tool.kind != "read" and self.svc.settings.read_only:
            self.read_only_hidden.append(tool.name)
            return
        annotations = ToolAnnotations(
            read_only_hint=tool.kind == "read",
            destructive_hint=tool.kind == "destructive",
            idempotent_hint=tool.kind == "read" or tool.idempotent,
            open_world_hint=self.svc.open_world,
        )
        self.server.add_tool(
            bind(tool, self.svc), name=tool.name, description=tool.description, annotations=annotations
        )
        self.names.append(tool.name)
