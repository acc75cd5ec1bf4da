"""Bulk work that builds many objects which all stay alive (parsed rows, checked records).

Python's cycle collector runs a full collection every so often as containers accumulate, and each
full collection walks every live container again: checking a 100,000-row import builds about a
million of them and spent over a third of its time in those walks. None of those objects form
cycles, so the collector is paused while such a job runs and resumed when the last one ends.

Once built, they stay alive while the job sends them batch by batch, which can take minutes on a
remote provider: there the collector keeps running (the requests make short-lived cycles) but the
objects alive when sending starts are frozen out of its full collections (``settled``), which
otherwise walk them all again every few batches (70-90 ms each with 20,000 rows in memory).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_running = 0
_was_enabled = True
_settled = 0


@contextmanager
def many_objects() -> Iterator[None]:
    """Pause the cycle collector for the block (jobs may overlap: counted, resumed by the last
    one, and left off if it was off before the first); reference counting frees memory as usual."""
    global _running, _was_enabled
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
            if _running == 0 and _was_enabled:
                if _settled:  # what the block built stays alive for a settled job: not walked either
                    gc.freeze()
                gc.enable()


def paused(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with the cycle collector paused (to run in a worker thread)."""
    with many_objects():
        return fn(*args)


@contextmanager
def settled() -> Iterator[None]:
    """Leave every object alive now out of the collector's full collections for the block
    (``gc.freeze``; both it and ``gc.unfreeze`` are constant-time). Blocks may overlap: each freezes
    what is alive when it starts, and the last to end gives everything back to the collector, which
    then frees any cycle that became garbage meanwhile."""
    global _settled
    with _lock:
        gc.freeze()
        _settled += 1
    try:
        yield
    finally:
        with _lock:
            _settled -= 1
            if _settled == 0:
                gc.unfreeze()
