"""Which unique values a GPTBots table already holds, so a duplicate is refused before it is sent.

GPTBots refuses a record whose unique value is already stored, and its import discards the whole
10-record group such a record is in (error 1062 is a failed multi-row INSERT). Checking first keeps
good records from being discarded with a bad one.

Two ways to know, the cheaper one is used (page 1 says how many records there are):
- read the whole table (ceil(records / 100) requests) and keep the values, with the record count
  they were read at; later batches reuse them while the count still matches what we expect and
  they are less than ``TTL`` seconds old (our own imports are added as they are stored);
- or ask records/page with ``filter`` for each value (one request per value, a few at a time).

A value found in the kept copy is confirmed with a ``filter`` request before a record is refused
for it, so a stale copy can never refuse a good record. The import's own result stays the truth:
what slips through (another client's write at the same moment) is reported by the import.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import anyio

from anytable.providers.gptbots.api import MAX_PAGE_SIZE, GPTBotsApi
from anytable.providers.gptbots.pages import scan
from anytable.providers.gptbots.values import unique_key
from anytable.schemas.fields import FieldInfo, TableSchema

TTL = 120.0
LOOKUP_CONCURRENCY = 8

Wanted = dict[str, set[Any]]  # unique field name -> unique keys
Holders = dict[str, dict[Any, str]]  # unique field name -> unique key -> id of the record holding it


@dataclass
class _Copy:
    values: Holders  # record id "" when we stored it and do not know its id
    count: int | None
    at: float


class UniqueIndex:
    def __init__(self, api: GPTBotsApi) -> None:
        self.api = api
        self._copies: dict[str, _Copy] = {}

    def forget(self, table_id: str) -> None:
        self._copies.pop(table_id, None)

    def stored(self, table: TableSchema, rows: list[dict[str, Any]]) -> None:
        """Our import stored ``rows`` (native values): keep the copy in step."""
        copy = self._copies.get(table.id)
        if copy is None:
            return
        fields = {f.name: f for f in table.fields if f.unique}
        for row in rows:
            for name, field in fields.items():
                if row.get(name) is not None:
                    copy.values.setdefault(name, {})[unique_key(field, row[name])] = ""
        if copy.count is not None:
            copy.count += len(rows)

    async def holders(self, table: TableSchema, wanted: Wanted) -> Holders:
        """For each unique field, those of the ``wanted`` values a record already has."""
        fields = {f.name: f for f in table.fields if f.unique}
        if not any(wanted.values()):
            return {}
        first = await self.api.records_page(table.id, 1, MAX_PAGE_SIZE)
        copy = self._copies.get(table.id)
        if (
            copy is not None
            and copy.count is not None
            and copy.count == first.total
            and time.monotonic() - copy.at < TTL
        ):
            seen = {
                name: {k for k in keys if k in copy.values.get(name, {})} for name, keys in wanted.items()
            }
            return await self._lookup(table, fields, seen)
        lookups = sum(len(keys) for keys in wanted.values())
        if first.total is not None and math.ceil(first.total / MAX_PAGE_SIZE) - 1 > lookups:
            return await self._lookup(table, fields, wanted)
        values: Holders = {name: {} for name in fields}
        scanned = 0
        async for records in scan(self.api, table.id, first):
            scanned += len(records)
            for record in records:
                value = record.get("value") or {}
                for name, field in fields.items():
                    if value.get(name) not in (None, ""):
                        values[name][unique_key(field, value[name])] = str(record.get("id"))
        self._copies[table.id] = _Copy(
            values, first.total if first.total is not None else scanned, time.monotonic()
        )
        return {
            name: {k: values[name][k] for k in keys if k in values.get(name, {})}
            for name, keys in wanted.items()
        }

    async def holder(self, table: TableSchema, field: FieldInfo, key: Any) -> dict[str, Any] | None:
        """The record holding ``key`` in unique ``field`` now (raw records/page record), or None."""
        page = await self.api.records_page(table.id, 1, 1, filter={field.name: key})
        return page.records[0] if page.records else None

    async def _lookup(self, table: TableSchema, fields: dict[str, FieldInfo], wanted: Wanted) -> Holders:
        found: Holders = {}
        limiter = anyio.CapacityLimiter(LOOKUP_CONCURRENCY)

        async def one(name: str, key: Any) -> None:
            async with limiter:
                record = await self.holder(table, fields[name], key)
            if record is not None:
                found.setdefault(name, {})[key] = str(record.get("id"))

        async with anyio.create_task_group() as tg:
            for name, keys in wanted.items():
                for key in keys:
                    tg.start_soon(one, name, key)
        return found
