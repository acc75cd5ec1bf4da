"""DingTalk AI table links: ``https://alidocs.dingtalk.com/i/nodes/<baseId>?...``.

The path segment after ``/i/nodes/`` is the baseId (the document's nodeId; docs/provider-api-notes.md
§1.0 [DOC] and the DingTalk skill). Links copied from an open table may also carry the table as
``sheetId`` in the query, directly or inside ``iframeQuery`` [INF: seen in copied links, not
documented]; it is used when present, and ``table`` given to a tool wins over it. DingTalk tables
have no views through the API, so a view in a link is ignored.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

HOSTS = ("alidocs.dingtalk.com", "alidocs.dingtalk.io")
_NODE = re.compile(r"^/i/nodes/([A-Za-z0-9_-]+)/?$")
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_url(url: str) -> tuple[str, str | None, str | None] | None:
    """(baseId, sheetId or None, None) for an AI table link; None when ``url`` is not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in HOSTS:
        return None
    match = _NODE.match(parts.path)
    if match is None:
        return None
    query = parse_qs(parts.query)
    sheet = _first(query.get("sheetId"))
    if sheet is None:
        for inner in query.get("iframeQuery", []):
            sheet = _first(parse_qs(inner).get("sheetId"))
            if sheet is not None:
                break
    return match.group(1), sheet, None


def _first(values: list[str] | None) -> str | None:
    for value in values or []:
        if _ID.match(value):
            return value
    return None


def base_id(value: str | None) -> str | None:
    """A base given as its id or its link (DINGTALK_BASE_ID may be either)."""
    if not value:
        return None
    parsed = parse_url(value) if value.lower().startswith(("http://", "https://")) else None
    return parsed[0] if parsed else value.strip()
