"""The cycle collector is paused while bulk jobs build their objects, and resumed after the last."""

from __future__ import annotations

import gc
import threading

import pytest

from anytable.bulk import many_objects, paused


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
