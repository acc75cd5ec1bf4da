"""Registering tools: annotations from the tool's kind, write tools left out in read-only mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from mcp.types import ToolAnnotations

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from anytable.core.service import Anytable

Kind = Literal["read", "write", "destructive"]


class Registrar:
    def __init__(self, server: MCPServer[Any], svc: Anytable) -> None:
        self.server = server
        self.svc = svc
        self.names: list[str] = []
        self.read_only_hidden: list[str] = []  # write tools left out in read-only mode

    def add(self, fn: Callable[..., Any], description: str, *, kind: Kind, idempotent: bool = False) -> None:
        """Register ``fn`` as a tool; in read-only mode a write tool is neither listed nor callable."""
        if kind != "read" and self.svc.settings.read_only:
            self.read_only_hidden.append(fn.__name__)
            return
        annotations = ToolAnnotations(
            read_only_hint=kind == "read",
            destructive_hint=kind == "destructive",
            idempotent_hint=kind == "read" or idempotent,
            open_world_hint=self.svc.open_world,
        )
        self.server.add_tool(fn, name=fn.__name__, description=description, annotations=annotations)
        self.names.append(fn.__name__)
