"""Where Feishu is (FEISHU_DOMAIN) and what a Feishu/Lark link names (base, table, view).

Hosts (docs/provider-api-notes.md §2.0): Feishu ``https://open.feishu.cn``, Lark ``https://open.larksuite.com``
(the same paths on both), or the base URL of a private deployment. Base links look like
``https://<tenant>.feishu.cn/base/<app_token>?table=<table_id>&view=<view_id>`` on feishu.cn,
larksuite.com, larkoffice.com and the test hosts (feishu-boe.cn); the reference (A.30) shows one.

Wiki links (``/wiki/<node token>``) name a wiki node, not a base: resolving one needs the wiki
get_node API, which none of our references document, so they are refused with what to do instead.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from anytable.errors import ConfigError, InputError

FEISHU_API = "https://open.feishu.cn"
LARK_API = "https://open.larksuite.com"
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_LINK_HOSTS = (
    "feishu.cn",
    "larksuite.com",
    "larkoffice.com",
    "feishu-boe.cn",
    "larksuite-boe.com",
    "feishu.net",
)


def api_base_url(domain: str | None) -> str:
    """The API base URL for FEISHU_DOMAIN: ``feishu`` (default), ``lark``, or a base URL."""
    value = (domain or "feishu").strip()
    low = value.lower().rstrip("/")
    if low in ("feishu", "open.feishu.cn", "https://open.feishu.cn"):
        return FEISHU_API
    if low in ("lark", "larksuite", "open.larksuite.com", "https://open.larksuite.com"):
        return LARK_API
    if low.startswith(("http://", "https://")):
        parts = urlsplit(value)
        if not parts.hostname:
            raise _bad_domain(value)
        path = parts.path.rstrip("/")
        if path.endswith("/open-apis"):  # a base URL copied with the API prefix
            path = path[: -len("/open-apis")]
        return f"{parts.scheme}://{parts.netloc}{path}"
    if _HOST.match(value):
        return f"https://{value}"
    raise _bad_domain(value)


def _bad_domain(value: str) -> ConfigError:
    return ConfigError(
        f"FEISHU_DOMAIN={value!r} is not understood: use feishu (open.feishu.cn), lark (open.larksuite.com), "
        "or the base URL of a private deployment such as https://open.example.com."
    )


def is_feishu_host(host: str) -> bool:
    host = host.lower()
    return any(host == h or host.endswith("." + h) for h in _LINK_HOSTS)


def parse_url(url: str) -> tuple[str, str | None, str | None] | None:
    """(app_token, table_id, view_id) from a Feishu/Lark base link; None when it is not a Feishu link.

    A Feishu link that does not name a base (a wiki page, a share link, a document) is refused
    with a message saying which link to use instead.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not is_feishu_host(parts.hostname or ""):
        return None
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)

    def param(name: str) -> str | None:
        values = [v.strip() for v in query.get(name, []) if v.strip()]
        return values[0] if values else None

    if len(segments) >= 2 and segments[0] == "base" and _TOKEN.match(segments[1]):
        return segments[1], param("table"), param("view")
    open_base = (
        "open the base in Feishu and pass its link of the form https://<tenant>.feishu.cn/base/<app_token>"
    )
    if segments and segments[0] == "wiki":
        raise InputError(
            "base is a Feishu wiki link, which anytable cannot resolve to a base (the wiki API is not supported): "
            f"{open_base} (or its app_token)."
        )
    if segments[:1] == ["share"]:
        raise InputError(
            f"base is a Feishu share link, which does not give API access to the base: {open_base}."
        )
    raise InputError(f"base is a Feishu link that does not name a base: {open_base}.")
