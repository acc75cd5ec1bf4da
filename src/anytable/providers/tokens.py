"""Access tokens: fetched once, cached until shortly before they expire, fetched again on expiry
or when the service says the token is invalid. Every token is registered for masking."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from anytable.masking import SECRETS

Fetch = Callable[[], Awaitable[tuple[str, float]]]  # -> (token, lifetime in seconds)


class TokenCache:
    def __init__(
        self, fetch: Fetch, *, refresh_margin: float = 300.0, clock: Callable[[], float] = time.time
    ):
        self._fetch = fetch
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = anyio.Lock()
        self.fetches = 0  # how many times a token was fetched (tests assert "never per call")

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self._margin

    async def get(self) -> str:
        if self._fresh():
            assert self._token is not None
            return self._token
        async with self._lock:
            if not self._fresh():
                token, lifetime = await self._fetch()
                SECRETS.add(token)
                self.fetches += 1
                self._token = token
                # A lifetime shorter than the margin would make every call refetch: keep half of it.
                margin = min(self._margin, lifetime / 2)
                self._expires_at = self._clock() + lifetime - margin + self._margin
            assert self._token is not None
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, so concurrent calls refetch once)."""
        if token is None or token == self._token:
            self._token = None
            self._expires_at = 0.0
