"""Opaque, signed pagination cursors.

A cursor is base64url of compact JSON, bound to the query that made it (a fingerprint of provider,
base, table, where, sort, fields and view), so that a cursor reused with other arguments is a
clear error rather than a silently wrong page; and signed (HMAC-SHA256 with the store's key, see
``Provider.cursor_key``), so that an edited cursor is refused instead of giving pages out of order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from anytable.errors import InputError

PROCESS_KEY = secrets.token_bytes(32)  # for stores that keep no key of their own
_MAC_BYTES = 16
MAX_CURSOR = 4096


def fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES])


def encode_cursor(state: dict[str, Any], query: str, key: bytes | None = None) -> str:
    payload = _b64(json.dumps({**state, "q": query}, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_mac(key or PROCESS_KEY, payload)}"


def decode_cursor(cursor: str | None, query: str, key: bytes | None = None) -> dict[str, Any] | None:
    if not cursor:
        return None
    refused = InputError(
        "cursor is not one this server gave (it was changed, or it comes from before a restart): pass "
        "next_cursor from the previous answer unchanged, or leave cursor out to start over."
    )
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR or cursor.count(".") != 1:
        raise refused
    payload, mac = cursor.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(key or PROCESS_KEY, payload).encode()):
        raise refused
    try:
        state = json.loads(_unb64(payload))
        if not isinstance(state, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise refused from None
    if state.pop("q", None) != query:
        raise InputError(
            "cursor belongs to a different query: call again with the same table, where, sort, fields and "
            "view as the call that returned it, or leave cursor out to start over."
        )
    return state
