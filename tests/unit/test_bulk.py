"""The cycle collector is paused while bulk jobs build their objects, and resumed after the last;
what a job keeps alive while it sends is frozen out of full collections until the last job ends."""

from __future__ import annotations

import gc
import threading

import pytest

from anytable.bulk import many_objects, paused, paused_kept, settled


def test_paused_for_the_job_and_resumed_after_the_last_of_overlapping_jobs() -> None:
    assert gc.isenabled()
    with many_objects():
        assert not gc.isenabled()
        with many_objects():  # a second job (another import) overlapping the first
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still running
    assert gc.isenabled()


def test_resumed_when_the_job_fails() -> None:
    with pytest.raises(ValueError), many_objects():
        raise ValueError("bad row")
    assert gc.isenabled()


def test_left_off_when_it_was_off_before() -> None:
    gc.disable()
    try:
        assert paused(lambda: 1 + 1) == 2
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_jobs_in_threads() -> None:
    started, release = threading.Barrier(5), threading.Event()

    def job() -> None:
        with many_objects():
            started.wait()
            release.wait()

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    assert not gc.isenabled()
    release.set()
    for t in threads:
        t.join()
    assert gc.isenabled()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_what_is_alive_when_a_job_settles_is_left_out_until_the_last_job_ends() -> None:
    import weakref

    node = _Node()
    gone = weakref.ref(node)
    with settled():
        assert gc.get_freeze_count() > 0
        with settled():  # a second job overlapping the first
            pass
        assert gc.get_freeze_count() > 0  # the first still runs
        del node  # garbage now, but frozen: full collections do not walk it while the job runs
        gc.collect()
        assert gone() is not None
    assert gc.get_freeze_count() == 0
    gc.collect()  # given back to the collector: nothing leaks
    assert gone() is None


def test_what_a_kept_block_builds_in_a_settled_job_is_settled_too() -> None:
    with settled():
        frozen = gc.get_freeze_count()
        built = paused_kept(lambda: [[i] for i in range(1_000)])
        assert gc.get_freeze_count() >= frozen + len(built)
        other = paused(lambda: [[i] for i in range(1_000)])  # another call's block: left to the collector
        assert gc.get_freeze_count() < frozen + len(built) + len(other)
    assert gc.get_freeze_count() == 0


def test_jobs_that_keep_overlapping_give_garbage_back_after_max_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import weakref

    from anytable import bulk

    clock = [1000.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: clock[0])
    node = _Node()
    gone = weakref.ref(node)
    first = settled()
    first.__enter__()
    del node  # garbage, frozen with the first job
    for _ in range(3):  # each job starts before the one before it ends: never none running
        clock[0] += bulk.MAX_FROZEN / 2
        nxt = settled()
        nxt.__enter__()
        first.__exit__(None, None, None)
        first = nxt
        gc.collect()
        if gone() is None:
            break
    assert gone() is None  # given back within MAX_FROZEN and a job's length, not when the last ends
    first.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0


def test_settled_ends_when_the_job_fails() -> None:
    with pytest.raises(ValueError), settled():
        raise ValueError("batch refused")
    assert gc.get_freeze_count() == 0
