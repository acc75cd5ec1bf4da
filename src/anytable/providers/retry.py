"""The one retry policy: exponential backoff with jitter, bounded in attempts and total wait."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base_delay: float = 0.2
    max_delay: float = 8.0
    max_total_wait: float = 90.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None and retry_after >= 0:
            return float(min(retry_after, self.max_delay * 4))
        backoff = min(self.max_delay, self.base_delay * (2**attempt))
        return float(backoff * (0.5 + random.random() / 2))


DEFAULT_RETRY = RetryPolicy()
