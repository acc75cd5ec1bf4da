"""Building the MCP server: tools, transports, errors and masking of what leaves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anytable.server.app import AnytableServer


def build_server(*args: Any, **kwargs: Any) -> tuple[AnytableServer, Any]:
    """See ``anytable.server.app.build_server`` (imported here lazily: the tool modules import
    ``anytable.server.*`` helpers, and the app imports the tool modules)."""
    from anytable.server.app import build_server as build

    return build(*args, **kwargs)


__all__ = ["build_server"]
