"""Opaque pagination cursors.

A cursor is base64url of compact JSON, bound to the query that made it (a fingerprint of provider,
base, table, where, sort, fields and view), so that a cursor reused with other arguments is a
clear error rather than a silently wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from anytable.errors import InputError


def fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def encode_cursor(state: dict[str, Any], query: str) -> str:
    payload = json.dumps({**state, "q": query}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, query: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(state, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise InputError(
            "cursor is not one this server gave: pass next_cursor from the previous answer unchanged."
        ) from None
    if state.pop("q", None) != query:
        raise InputError(
            "cursor belongs to a different query: call again with the same table, where, sort, fields and "
            "view as the call that returned it, or leave cursor out to start over."
        )
    return state
