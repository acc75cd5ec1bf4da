"""Reading a whole GPTBots table: records/page pages of 100, a few at a time.

GPTBots has no get-by-id and no cursor: finding records by id (get_records), checking which unique
values a table holds, or what an import stored means reading pages 1..n. Page 1 gives
``total_count``, so the other pages are known up front and are read ``SCAN_CONCURRENCY`` at a
time. Cost: ceil(records / 100) requests, at most SCAN_CONCURRENCY in flight.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from typing import Any

import anyio

from anytable.providers.gptbots.api import MAX_PAGE_SIZE, GPTBotsApi, RecordsPage

SCAN_CONCURRENCY = 4


async def scan(
    api: GPTBotsApi, table_id: str, first: RecordsPage | None = None
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """Every record of the table, page by page (raw records/page records), first page first."""
    if first is None:
        first = await api.records_page(table_id, 1, MAX_PAGE_SIZE)
    yield first.records
    if first.total is None:  # no total: read on until a short page
        page, last = 1, first
        while len(last.records) >= MAX_PAGE_SIZE:
            page += 1
            last = await api.records_page(table_id, page, MAX_PAGE_SIZE)
            yield last.records
        return
    pages = math.ceil(first.total / MAX_PAGE_SIZE)
    next_page = 2
    while next_page <= pages:
        window = list(range(next_page, min(pages, next_page + SCAN_CONCURRENCY - 1) + 1))
        results: dict[int, list[dict[str, Any]]] = {}

        async def fetch(number: int, into: dict[int, list[dict[str, Any]]]) -> None:
            into[number] = (await api.records_page(table_id, number, MAX_PAGE_SIZE)).records

        async with anyio.create_task_group() as tg:
            for number in window:
                tg.start_soon(fetch, number, results)
        for number in window:
            yield results[number]
        next_page = window[-1] + 1
        if results[window[-1]] and len(results[window[-1]]) < MAX_PAGE_SIZE:
            return


async def count(api: GPTBotsApi, table_id: str) -> int | None:
    """How many records the table holds now (one request; None if GPTBots does not say)."""
    return (await api.records_page(table_id, 1, 1)).total
