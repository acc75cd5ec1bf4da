"""Log notifications to the client: ``logging/setLevel`` chooses a level per connection (on
2026-07-28 connections the request's own ``_meta`` log level does), and what the server logs
while serving a tool call at that level or above reaches the client as ``notifications/message``,
masked like every log line. stderr logging is unaffected.
"""

from __future__ import annotations

import logging
import warnings
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from mcp.server.connection import allowed_log_levels
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import EmptyResult, LoggingLevel, SetLevelRequestParams

from anytable.masking import scrub

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.mcpserver import Context, MCPServer

# RFC 5424 levels of MCP against the logging module's numbers.
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO + 5,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL + 5,
    "emergency": logging.CRITICAL + 10,
}
APP_LOGGER = "anytable"

_CAPTURE: ContextVar[tuple[int, list[logging.LogRecord]] | None] = ContextVar(
    "anytable_client_log", default=None
)


def mcp_level(levelno: int) -> LoggingLevel:
    name: LoggingLevel = "debug"
    for candidate, number in LEVELS.items():
        if levelno >= number:
            name = candidate  # type: ignore[assignment]
    return name


class _Capture(logging.Handler):
    """Collects the records of the tool call in progress (the context variable says which)."""

    def emit(self, record: logging.LogRecord) -> None:
        capture = _CAPTURE.get()
        if capture is not None and record.levelno >= capture[0]:
            capture[1].append(record)


class ClientLog:
    def __init__(self) -> None:
        self._levels: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._formatter = logging.Formatter("%(message)s")

    def install(self, server: MCPServer[Any]) -> None:
        server._lowlevel_server.add_request_handler(
            "logging/setLevel", SetLevelRequestParams, self._set_level
        )
        logger = logging.getLogger(APP_LOGGER)
        if not any(isinstance(h, _Capture) for h in logger.handlers):
            logger.addHandler(_Capture())

    async def _set_level(self, ctx: ServerRequestContext[Any], params: SetLevelRequestParams) -> EmptyResult:
        level = LEVELS[params.level]
        self._levels[_connection(ctx)] = level
        app = logging.getLogger(APP_LOGGER)
        if app.getEffectiveLevel() > level:  # let records at the client's level be made at all
            app.setLevel(level)
        return EmptyResult()

    def level_for(self, ctx: ServerRequestContext[Any]) -> int | None:
        allowed = allowed_log_levels(ctx.protocol_version, ctx.meta)
        if len(allowed) < len(LEVELS):  # 2026-07-28: the request opted in (or not) itself
            return min((LEVELS[name] for name in allowed), default=None)
        return self._levels.get(_connection(ctx))

    @asynccontextmanager
    async def forwarding(self, context: Context[Any, Any] | None) -> AsyncIterator[None]:
        """Around a tool call: send what it logged at the client's level, before its result."""
        ctx = _request_context(context)
        level = None if ctx is None else self.level_for(ctx)
        if ctx is None or level is None:
            yield
            return
        records: list[logging.LogRecord] = []
        token = _CAPTURE.set((level, records))
        try:
            yield
        finally:
            _CAPTURE.reset(token)
        for record in records:
            text = scrub(self._formatter.format(record))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await ctx.session.send_log_message(
                    mcp_level(record.levelno), text, logger=record.name, related_request_id=ctx.request_id
                )


def _request_context(context: Context[Any, Any] | None) -> ServerRequestContext[Any] | None:
    if context is None:
        return None
    try:
        return context.request_context
    except ValueError:  # a context outside a request
        return None


def _connection(ctx: ServerRequestContext[Any]) -> Any:
    """The client connection a level belongs to (sessions are built per request)."""
    return getattr(ctx.session, "_connection", ctx.session)
