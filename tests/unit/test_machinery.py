"""Rate limiter, token cache, batching (the batch loop too), cursors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from anytable.core.batches import BatchLoop
from anytable.core.cursor import decode_cursor, encode_cursor, fingerprint
from anytable.errors import InputError, PartialWriteError, ProviderError
from anytable.masking import scrub
from anytable.providers.batching import chunked, encoded_size
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.tokens import TokenCache
from anytable.schemas.fields import TableSchema

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


def _loop_target() -> tuple[Any, TableSchema]:
    """An address whose provider takes its writes one at a time (the loop's own lock), and a table."""
    provider = SimpleNamespace(id="p", limits=SimpleNamespace(serialize_writes=True))
    return SimpleNamespace(provider=provider, base="b"), TableSchema(id="t", name="t", fields=[])


async def test_batch_loop_prepares_the_next_batch_while_one_is_sent() -> None:
    addr, schema = _loop_target()
    events: list[tuple[str, int]] = []

    async def send(chunk: list[int]) -> None:
        events.append(("start", chunk[0]))
        await anyio.sleep(0.05)
        events.append(("end", chunk[0]))

    def ahead(chunk: list[int]) -> None:
        events.append(("ahead", chunk[0]))
        if chunk[0] == 20:
            raise ValueError("work ahead that fails is only lost time: the batch does it itself")

    out = await BatchLoop().run(addr, schema, "create", list(range(35)), send, None, size=10, ahead=ahead)
    assert out.done == 35
    sends = [(kind, first) for kind, first in events if kind != "ahead"]
    assert sends == [
        (k, first) for first in (0, 10, 20, 30) for k in ("start", "end")
    ]  # in order, one at a time
    assert [first for kind, first in events if kind == "ahead"] == [10, 20, 30]  # not the first batch
    for current, following in ((0, 10), (10, 20), (20, 30)):  # prepared while the one before is on its way
        assert (
            events.index(("start", current))
            < events.index(("ahead", following))
            < events.index(("end", current))
        )


async def test_batch_loop_with_work_ahead_reports_a_stop_part_way() -> None:
    addr, schema = _loop_target()

    async def send(chunk: list[int]) -> None:
        if chunk[0] == 20:
            raise ProviderError("the service refused it", kind="fatal", provider="p")

    with pytest.raises(PartialWriteError) as stopped:
        await BatchLoop().run(
            addr, schema, "create", list(range(35)), send, None, size=10, ahead=lambda c: None
        )
    assert stopped.value.done == 20 and "records 20-34 were not" in stopped.value.message


async def test_batch_loop_keeps_what_it_sends_out_of_full_collections_while_it_sends() -> None:
    import gc

    addr, schema = _loop_target()
    frozen: list[int] = []

    async def send(chunk: list[int]) -> None:
        frozen.append(gc.get_freeze_count())

    await BatchLoop().run(addr, schema, "create", list(range(35)), send, None, size=10)
    assert len(frozen) == 4 and min(frozen) > 0  # the rows to send are not walked again every few batches
    assert gc.get_freeze_count() == 0  # and given back to the collector at the end
    frozen.clear()
    await BatchLoop().run(addr, schema, "create", list(range(5)), send, None, size=10)
    assert frozen == [0]  # one batch: nothing to gain
