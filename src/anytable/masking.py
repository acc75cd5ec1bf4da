"""The one place where secrets are masked.

Every secret the server knows (app secrets, API keys, access tokens as they are fetched) is
registered here. ``scrub`` replaces any registered secret in a text by its mask (first 4
characters and ``****``); tool results, tool errors and every log line (tracebacks included) pass
through it before they leave the process.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

MASK_SUFFIX = "****"
NOT_SET = "not set"  # what list_providers and doctor show for a credential that is not configured
_MIN_SECRET_LEN = 6  # shorter strings would mask ordinary words; real secrets are much longer

# Query parameters and JSON keys that carry secrets even when we have not registered the value
# (e.g. an access token echoed back by a proxy in an error page).
SECRET_PARAMS = (
    "appsecret",
    "app_secret",
    "client_secret",
    "access_token",
    "accesstoken",
    "api_key",
    "apikey",
    "tenant_access_token",
    "x-acs-dingtalk-access-token",
    "authorization",
)
_SECRET_PARAM = re.compile(
    f"(?i)({'|'.join(re.escape(p) for p in SECRET_PARAMS)})"
    r"(\"?\s*[:=]\s*\"?(?:Bearer\s+)?)([A-Za-z0-9._\-+/=%\\]{6,})"
)
# Each parameter name holds one of these; a text holding none (case-folded as the (?i) patterns
# fold: lower(), and the three non-ASCII letters (?i) also matches to i or s) is left as it is,
# without running _SECRET_PARAM over it (about 100 ns per character).
PARAM_HINTS = ("secret", "token", "key", "authorization")
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s"}
# The password in a URL's user part (postgresql://user:password@host/db), registered or not.
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^\s:/@]*:)([^\s@/]+)(@)")
# What _URL_PASSWORD needs after the scheme: found by its literal start, which is fast; the scheme
# is then found by looking back (_URL_PASSWORD alone retries from every letter of every word,
# which costs time quadratic in a word's length).
_AFTER_SCHEME = re.compile(r"://[^\s:/@]*:[^\s@/]+@")
_SCHEME_CHAR = re.compile(r"(?i)[a-z0-9+.\-]")
_LETTER = re.compile(r"(?i)[a-z]")


def encoded_forms(secret: str) -> set[str]:
    """Every form a secret takes in a URL, a form body, a JSON text or a log line."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms |= {quote(form, safe="") for form in list(forms)}  # encoded twice (a URL inside a URL)
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}  # an escaped form inside JSON
    return {form for form in forms if len(form) >= _MIN_SECRET_LEN}


def mask(secret: str | None) -> str:
    """``abcd****``: at most the first 4 characters of a secret, never more; ``not set`` if none."""
    if not secret:
        return NOT_SET
    return secret[:4] + MASK_SUFFIX


def url_password(url: str | None) -> str | None:
    """The password in a URL's user part, if any."""
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def mask_url(url: str) -> str:
    """The URL with the password in its user part masked (``postgresql://u:pass****@host/db``);
    every URL of a text likewise."""
    if "://" not in url:
        return url
    parts: list[str] = []
    done = 0
    for hit in _AFTER_SCHEME.finditer(url):
        start = hit.start()  # back to the start of the scheme's run of characters
        while start > done and _SCHEME_CHAR.match(url, start - 1):
            start -= 1
        while start < hit.start() and not _LETTER.match(url, start):
            start += 1  # a scheme starts with a letter
        found = _URL_PASSWORD.match(url, start) if start < hit.start() else None
        if found is not None:
            parts += (url[done:start], found.group(1), mask(found.group(2)), found.group(3))
            done = found.end()
    return "".join(parts) + url[done:] if parts else url


def names_a_secret(text: str) -> bool:
    """Whether ``text`` may hold a secret-looking parameter (``_SECRET_PARAM`` can match)."""
    folded = (text if text.isascii() else text.translate(_FOLD)).lower()
    return any(hint in folded for hint in PARAM_HINTS)


class SecretRegistry:
    """Process-wide set of secret strings to scrub from everything that leaves the server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *secrets: str | None) -> None:
        """Register secrets, each in every form it can take on the way out: raw, percent-encoded
        (path or query, ``+`` for spaces), JSON-escaped (either ASCII setting)."""
        with self._lock:
            changed = False
            for secret in secrets:
                if not secret or len(secret) < _MIN_SECRET_LEN:
                    continue
                for form in encoded_forms(secret):
                    if form not in self._secrets:
                        self._secrets.add(form)
                        changed = True
            if changed:
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def add_basic(self, user: str | None, secret: str | None) -> None:
        """Register ``base64(user:secret)`` too (HTTP Basic auth, OAuth client credentials)."""
        if user and secret:
            pair = f"{user}:{secret}".encode()
            self.add(
                secret,
                base64.b64encode(pair).decode(),
                base64.urlsafe_b64encode(pair).decode(),
                base64.b64encode(pair).decode().rstrip("="),
            )

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(lambda m: mask(m.group(0)), text)
        if names_a_secret(text):
            text = _SECRET_PARAM.sub(lambda m: m.group(1) + m.group(2) + mask(m.group(3)), text)
        return mask_url(text)


SECRETS = SecretRegistry()


def scrub(text: str) -> str:
    """Mask every known secret (and every secret-looking parameter) in ``text``."""
    return SECRETS.scrub(text)


class ScrubbingFormatter(logging.Formatter):
    """Formats a record (message, arguments and traceback) and then masks secrets in the result."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))

    def formatException(self, ei: Any) -> str:
        return scrub(super().formatException(ei))


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr only (stdout is the MCP stream on stdio), every line scrubbed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level.upper())  # a client's logging/setLevel does not make stderr chattier
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; keep it at WARNING (URLs can carry app secrets).
    for noisy in ("httpx", "httpcore", "mcp", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    sys.excepthook = _scrubbing_excepthook


def _scrubbing_excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(scrub(text))
