"""The ``local`` provider: an embedded table store (SQLite by default) that needs no account."""

from __future__ import annotations

from anytable.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]
