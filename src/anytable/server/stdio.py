"""stdio transport: every line gets an answer.

The SDK's stdio reader drops a line it cannot read as a JSON-RPC message (invalid JSON, JSON nested
too deep for its validator, a wrong shape) without answering, so the client waits forever. Lines
here are checked first: one that would be dropped is answered with a JSON-RPC error (-32700 parse
error, or -32600 invalid request with the request's id when it has one) and never reaches the SDK.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage

MAX_LINE_BYTES = 64 * 1024 * 1024  # one request; more is refused unread


class CheckedLines:
    """Lines of ``source`` the SDK can read; the others answered through ``reply``."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.ready = anyio.Event()
        self.write: Any = None

    def answer_with(self, write: Any) -> None:
        """The stream answers go to (the transport's write stream, once it exists)."""
        self.write = write
        self.ready.set()

    async def reply(self, answer: types.JSONRPCError) -> None:
        await self.ready.wait()
        await self.write.send(SessionMessage(answer))

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        async for line in self.source:
            if not line.strip():
                continue
            problem = check_line(line)
            if problem is None:
                yield line
            else:
                await self.reply(problem)


def check_line(line: str) -> types.JSONRPCError | None:
    """None when the SDK reads ``line``; else the error to answer it with."""
    if len(line) > MAX_LINE_BYTES:
        return _error(
            None, types.INVALID_REQUEST, f"Request too large: at most {MAX_LINE_BYTES // 2**20} MB."
        )
    try:
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        return None
    except Exception as exc:  # any failure means the SDK would drop the line
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return _error(None, types.PARSE_ERROR, f"Parse error: not valid JSON ({reason}).")
    request_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        request_id = None
    if isinstance(data, dict) and "method" not in data and ("result" in data or "error" in data):
        return None  # an unreadable response from the client: a response is never answered
    return _error(request_id, types.PARSE_ERROR, f"Parse error: the message cannot be read ({reason}).")


def _error(request_id: int | str | None, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))
