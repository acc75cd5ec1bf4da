"""The progress callback the long operations take: (done, total or None, message)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Progress = Callable[[float, float | None, str | None], Awaitable[None]] | None
