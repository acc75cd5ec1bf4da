"""Shared bits of the benchmarks: timing, reporting as ratios against a bound or a baseline."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from anytable.masking import configure_logging

RESULTS: list[dict[str, Any]] = []
configure_logging("WARNING")  # benchmarks print their results; logs would only get in the way


def median_time(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(
    name: str, value: float, unit: str, bound: float, *, higher_is_better: bool = False, **extra: Any
) -> bool:
    """Print one result with its ratio to the bound; True when the bound holds."""
    ratio = value / bound if bound else (0.0 if value == 0 else float("inf"))
    ok = value >= bound if higher_is_better else value <= bound
    relation = ">=" if higher_is_better else "<="
    print(
        f"{'PASS' if ok else 'FAIL'}  {name}: {value:,.3f} {unit} (bound {relation} {bound:,.3f} {unit}; ratio {ratio:.3f})"
        + "".join(f"; {k}={v}" for k, v in extra.items()),
        flush=True,
    )
    RESULTS.append(
        {"name": name, "value": value, "unit": unit, "bound": bound, "ratio": ratio, "ok": ok, **extra}
    )
    return ok


def dump(path: str | None) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(RESULTS, fh, indent=2)
