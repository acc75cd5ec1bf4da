"""Client-side rate limiting: keep each API under its documented rate by spacing requests.

One limiter per provider; a key per API (``"POST /records/list"``...). A throttle answer from the
service pauses that key for the time the service asked for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio


class RateLimiter:
    def __init__(
        self,
        rates: dict[str, float] | None = None,
        default_rate: float | None = None,
        *,
        margin: float = 1.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """``rates``: requests per second by key; ``default_rate`` for other keys (None: no limit).

        ``margin`` stretches the spacing a little so that jitter on the way never makes the service
        count one request too many in its window.
        """
        self.rates = dict(rates or {})
        self.default_rate = default_rate
        self.margin = margin
        self.clock = clock
        self.sleep = sleep
        self._next_free: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}

    def interval(self, key: str) -> float:
        rate = self.rates.get(key, self.default_rate)
        return 0.0 if not rate else self.margin / rate

    async def acquire(self, key: str) -> None:
        """Wait for this key's next free slot (slots are reserved in call order)."""
        interval = self.interval(key)
        now = self.clock()
        start = max(now, self._next_free.get(key, 0.0), self._paused_until.get(key, 0.0))
        if interval:
            self._next_free[key] = start + interval
        if start > now:
            await self.sleep(start - now)

    def pause(self, key: str, seconds: float) -> None:
        """The service throttled ``key``: send nothing on it for ``seconds``."""
        until = self.clock() + max(0.0, seconds)
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)
