"""Turning what a tool did into what leaves the server: structured content plus a compact text
form, or a tool error (``isError: true``) whose message says what to do. Everything is scrubbed
of secrets on the way out; unexpected exceptions are logged (scrubbed) and reported without a
traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from anytable.errors import AnytableError
from anytable.masking import scrub

log = logging.getLogger("anytable.tools")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def ok(data: dict[str, Any]) -> CallToolResult:
    """Structured content and its compact JSON text, both scrubbed (one pass over the JSON text)."""
    raw = _ENCODER.encode(data)
    text = scrub(raw)
    clean = data if text == raw else json.loads(text)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=clean)


def error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=scrub(message))], is_error=True)


async def run(tool: str, work: Awaitable[dict[str, Any]]) -> CallToolResult:
    """Await ``work`` and turn its outcome into a tool result."""
    try:
        return ok(await work)
    except AnytableError as exc:
        log.info("%s: %s", tool, exc)
        return error(str(exc))
    except Exception as exc:
        log.exception("%s failed unexpectedly", tool)
        return error(
            f"{tool} failed on an internal error ({type(exc).__name__}: {scrub(str(exc))[:300]}). Nothing more is "
            "known; check the server log, and report it if it happens again."
        )


def unknown_arguments(tool: str, unknown: list[str], known: list[str]) -> str:
    hint = ""
    if tool == "update_field" and "type" in unknown:
        hint = " A field's type cannot be changed: create a field of the new type and copy the values."
    return (
        f"{tool} has no argument {', '.join(repr(u) for u in unknown)}; its arguments are "
        f"{', '.join(known)}. Nothing was changed.{hint}"
    )


def invalid_arguments(tool: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        problems.append(f"{where}: {err['msg']}")
    return f"{tool}: {'; '.join(problems)}. Nothing was changed."
