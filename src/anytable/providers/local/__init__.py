"""The ``local`` provider: an embedded SQLite table store that needs no account."""

from __future__ import annotations

from anytable.providers.local.store import LocalProvider

__all__ = ["LocalProvider"]
