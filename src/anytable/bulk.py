"""Bulk work that builds many objects which all stay alive (parsed rows, checked records).

Python's cycle collector runs a full collection every so often as containers accumulate, and each
full collection walks every live container again: checking a 100,000-row import builds about a
million of them and spent over a third of its time in those walks. None of those objects form
cycles, so the collector is paused while such a job runs and resumed when the last one ends.

Once built, they stay alive while the job sends them batch by batch, which can take minutes on a
remote provider: there the collector keeps running (the requests make short-lived cycles) but the
objects alive when sending starts are frozen out of its full collections (``settled``), which
otherwise walk them all again every few batches (70-90 ms each with 20,000 rows in memory).
A freeze also keeps whatever cyclic garbage was waiting for a full collection then; it is given
back when the last job ends, or when a job ends more than ``MAX_FROZEN`` seconds after the freeze
began (jobs that keep overlapping would otherwise never give it back).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
MAX_FROZEN = 60.0  # seconds a freeze lasts at most, counted from the first job's start

_lock = threading.Lock()
_running = 0
_was_enabled = True
_settle_built = False  # a block whose objects a settled job keeps has ended while others ran
_settled = 0
_frozen_since = 0.0


@contextmanager
def many_objects(*, kept: bool = False) -> Iterator[None]:
    """Pause the cycle collector for the block (jobs may overlap: counted, resumed by the last
    one, and left off if it was off before the first); reference counting frees memory as usual.
    ``kept``: what the block builds stays alive for the settled job running it (frozen too, before
    the collector resumes, instead of walked once more as it ages)."""
    global _running, _was_enabled, _settle_built
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            _settle_built = _settle_built or kept
            if _running == 0:
                if _settle_built and _settled:
                    gc.freeze()
                _settle_built = False
                if _was_enabled:
                    gc.enable()


def paused(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with the cycle collector paused (to run in a worker thread)."""
    with many_objects():
        return fn(*args)


def paused_kept(fn: Callable[..., T], *args: Any) -> T:
    """``paused``, for a settled job that keeps what ``fn`` builds until it ends."""
    with many_objects(kept=True):
        return fn(*args)


@contextmanager
def settled() -> Iterator[None]:
    """Leave every object alive now out of the collector's full collections for the block
    (``gc.freeze``; both it and ``gc.unfreeze`` are constant-time). Blocks may overlap: each freezes
    what is alive when it starts; everything goes back to the collector when the last one ends, or
    when one ends after ``MAX_FROZEN`` seconds of freeze (the others then run unfrozen until the
    next job freezes again), and the collector then frees any cycle that became garbage meanwhile."""
    global _settled, _frozen_since
    with _lock:
        if _settled == 0:
            _frozen_since = time.monotonic()
        gc.freeze()
        _settled += 1
    try:
        yield
    finally:
        with _lock:
            _settled -= 1
            if _settled == 0 or time.monotonic() - _frozen_since > MAX_FROZEN:
                gc.unfreeze()
                _frozen_since = time.monotonic()
