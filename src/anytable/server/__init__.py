"""Building the MCP server: tools, transports, errors and masking of what leaves."""

from anytable.server.app import build_server

__all__ = ["build_server"]
