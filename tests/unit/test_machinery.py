"""Rate limiter, token cache, batching, cursors."""

from __future__ import annotations

import pytest

from anytable.core.cursor import decode_cursor, encode_cursor, fingerprint
from anytable.errors import InputError
from anytable.masking import scrub
from anytable.providers.batching import chunked, encoded_size
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.tokens import TokenCache

pytestmark = pytest.mark.anyio


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_rate_limiter_spaces_requests_per_key() -> None:
    t = FakeTime()
    limiter = RateLimiter({"list": 20}, margin=1.0, clock=t.clock, sleep=t.sleep)
    for _ in range(21):
        await limiter.acquire("list")
    assert t.now - 1000.0 == pytest.approx(20 / 20)  # 21 requests span exactly one second at 20/s
    await limiter.acquire("other")  # other keys are not limited
    assert t.now - 1000.0 == pytest.approx(1.0)


async def test_rate_limiter_pause_holds_the_key() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.pause("k", 2.5)
    await limiter.acquire("k")
    assert t.slept == [pytest.approx(2.5)]


async def test_token_cache_fetches_once_and_renews_before_expiry() -> None:
    t = FakeTime()
    fetched: list[str] = []

    async def fetch() -> tuple[str, float]:
        token = f"token-number-{len(fetched)}"
        fetched.append(token)
        return token, 7200

    cache = TokenCache(fetch, refresh_margin=300, clock=t.clock)
    assert await cache.get() == "token-number-0"
    t.now += 6800
    assert await cache.get() == "token-number-0"
    t.now += 200  # within 5 minutes of expiry
    assert await cache.get() == "token-number-1"
    cache.invalidate("some-older-token")
    assert await cache.get() == "token-number-1"
    cache.invalidate("token-number-1")
    assert await cache.get() == "token-number-2"
    assert cache.fetches == 3
    assert "token-number-2" not in scrub("leak token-number-2")


def test_chunked_by_count_and_bytes() -> None:
    assert [len(c) for c in chunked(list(range(250)), 100)] == [100, 100, 50]
    rows = [{"v": "x" * 100}] * 10
    size = encoded_size(rows[0]) + 1
    batches = chunked(rows, 100, max_bytes=size * 3)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert chunked([{"v": "y" * 1000}], 10, max_bytes=10) == [[{"v": "y" * 1000}]]


def test_cursor_round_trip_and_binding() -> None:
    q = fingerprint("local", "base", "tbl", {"field": "a"}, None)
    cursor = encode_cursor({"t": "abc", "s": 3}, q)
    assert decode_cursor(cursor, q) == {"t": "abc", "s": 3}
    with pytest.raises(InputError, match="different query"):
        decode_cursor(cursor, fingerprint("local", "base", "tbl", None, None))
    with pytest.raises(InputError, match="next_cursor"):
        decode_cursor("!!!", q)
    assert decode_cursor(None, q) is None
