"""The MCP server: the toolsets of ``anytable.tools`` registered over one engine (``app``), the
registration boundary (``registrar``), results and errors as they leave, masked (``results``), and
compact schemas (``schema``)."""

from anytable.server.app import AnytableServer, build_server

__all__ = ["AnytableServer", "build_server"]
