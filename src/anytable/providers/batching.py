"""The one batching helper: split rows into batches within a count and a byte limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def encoded_size(item: Any) -> int:
    """Bytes ``item`` takes in a compact JSON request body."""
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def chunked(
    items: Sequence[T],
    size: int,
    max_bytes: int | None = None,
    size_of: Callable[[T], int] = encoded_size,
) -> list[list[T]]:
    """Consecutive batches of at most ``size`` items and (roughly) ``max_bytes`` of JSON each.

    ``size_of`` measures one item (default: its compact JSON; a provider whose limit is on another
    encoding, such as GPTBots' CSV, passes its own). A single item larger than ``max_bytes`` still
    gets a batch of its own: the provider then says whether it takes it.
    """
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batches: list[list[T]] = []
    current: list[T] = []
    current_bytes = 0
    for item in items:
        item_bytes = size_of(item) + 1 if max_bytes else 0
        if current and (len(current) >= size or (max_bytes and current_bytes + item_bytes > max_bytes)):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += item_bytes
    if current:
        batches.append(current)
    return batches
