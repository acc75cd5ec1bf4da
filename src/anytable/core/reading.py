"""Reading records, the same for every provider.

``where`` is checked and compiled by the provider; what the provider cannot filter is filtered
here (``server_filtered``) by ``anytable.providers.evaluate``. Pages of the provider are walked
behind our own cursor, which remembers the provider's page token and how far into that page we
got, so no record is missed or repeated whatever ``limit`` is. A sort the provider cannot do is
done here on a snapshot of every match, paged by offset. ``scan`` walks every match once, with
only the fields asked for: aggregates, writes by filter and upserts read through it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from anytable.core.addressing import Address
from anytable.core.catalog import Catalog
from anytable.core.cursor import decode_cursor, encode_cursor, fingerprint
from anytable.core.progress import Progress
from anytable.errors import InputError
from anytable.providers.base import CompiledFilter, PageRequest, Record
from anytable.providers.batching import chunked
from anytable.providers.evaluate import matches, sort_records
from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType, TableSchema
from anytable.schemas.filters import Node, SortKey, fields_of, parse_sort, parse_where
from anytable.schemas.values import render_read, short

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ANSWER_BYTES = 256 * 1024  # one query_records answer stays under this (at least one record)
MAX_SNAPSHOT = 200_000  # most records a server-side sort will hold
SNAPSHOT_TTL = 900.0
MAX_SNAPSHOTS = 8
FORMATS = ("records", "rows")
MAX_RENDERED_DATES = 10_000  # dates a renderer remembers
TOO_MANY_TO_SORT = (
    f"Sorting here means reading every match, and more than {MAX_SNAPSHOT:,} records match: "
    "narrow where, or leave sort out."
)


@dataclass
class Snapshot:
    created: float
    records: list[Record]


@dataclass
class Scan:
    """Every record matching a filter, read page by page with only ``fields``."""

    compiled: CompiledFilter
    residual: Node | None  # what the server still checks (None: the provider filtered exactly)
    fields: list[str] | None


@dataclass
class _Query:
    """A query checked against the schema: what to ask the provider, and what is left to do here."""

    projection: list[str] | None
    view_id: str | None
    compiled: CompiledFilter
    residual: Node | None
    keys: list[SortKey]
    server_sort: bool
    fetch: list[str] | None

    def request(self, token: str | None, page_size: int) -> PageRequest:
        return PageRequest(
            native_filter=self.compiled.native,
            sort=[] if self.server_sort else self.keys,
            fields=self.fetch,
            view=self.view_id,
            page_size=page_size,
            token=token,
        )


def _plain(value: Any) -> Any:
    return None if value == "" or value == [] else value


def value_renderer(field: FieldInfo, tz: tzinfo) -> Callable[[Any], Any] | None:
    """A canonical value of ``field`` -> its read format, None when empty (a checkbox reads
    false); the choice made once per field, since pages and exports run it for every value.
    None: the value is its own read format (only empty strings and lists read as no value)."""
    if field.type is FieldType.checkbox:
        return bool
    if field.type in DATE_TYPES:
        seen: dict[Any, Any] = {}  # dates repeat (days, imported batches): render each once

        def date(value: Any) -> Any:
            if type(value) is not int and type(value) is not float:  # None, or what a provider sent
                return None if value is None else _plain(render_read(field, value, tz))
            out = seen.get(value)
            if out is None:
                out = _plain(render_read(field, value, tz))
                if len(seen) < MAX_RENDERED_DATES:
                    seen[value] = out
            return out

        return date
    if field.type in USER_TYPES:
        return lambda value: _plain(render_read(field, value, tz))
    return None


def read_format(field: FieldInfo, tz: tzinfo) -> Callable[[Any], Any]:
    """``value_renderer`` as a function for every field."""
    return value_renderer(field, tz) or _plain


class Renderer:
    """Canonical records -> the contract's read format, with only the fields of ``projection``."""

    def __init__(self, schema: TableSchema, projection: list[str] | None, tz: tzinfo) -> None:
        self.fields = [
            (f.name, value_renderer(f, tz))
            for f in schema.fields
            if projection is None or f.name in projection
        ]

    def __call__(self, record: Record) -> dict[str, Any]:
        values = record.get("fields", {})
        out: dict[str, Any] = {}
        for name, read in self.fields:
            value = values.get(name)
            if read is not None:
                value = read(value)
                if value is not None:
                    out[name] = value
            elif value is not None and value != "" and value != []:
                out[name] = value
        return {"id": record["id"], "fields": out}


def render(schema: TableSchema, record: Record, projection: list[str] | None, tz: tzinfo) -> dict[str, Any]:
    """A canonical record in the contract's read format."""
    return Renderer(schema, projection, tz)(record)


def check_ids(record_ids: Any) -> list[str]:
    if not isinstance(record_ids, list) or not record_ids:
        raise InputError('record_ids must be a non-empty list of record ids, like ["rec1", "rec2"].')
    bad = [i for i in record_ids if not isinstance(i, str) or not i.strip()]
    if bad:
        raise InputError(f"record_ids must be strings; {short(bad)} are not.")
    return list(dict.fromkeys(record_ids))


class Reader:
    def __init__(self, catalog: Catalog, tz: tzinfo) -> None:
        self.catalog = catalog
        self.tz = tz
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()

    # ------------------------------------------------------------------------- scans
    def plan(self, addr: Address, schema: TableSchema, node: Node | None, needed: set[str] | None) -> Scan:
        """How to read every match of ``node`` with the fields in ``needed`` (None: all)."""
        compiled = addr.provider.compile_filter(node, schema)
        residual = None if compiled.exact else node
        fetch = None
        if needed is not None:
            wanted = needed | fields_of(residual)
            fetch = [f.name for f in schema.fields if f.name in wanted]
        return Scan(compiled, residual, fetch)

    async def scan(
        self, addr: Address, schema: TableSchema, scan: Scan, progress: Progress = None, what: str = "read"
    ) -> AsyncGenerator[list[Record], None]:
        """The matching records, a provider page at a time (progress after each page)."""

        def request(token: str | None, size: int) -> PageRequest:
            return PageRequest(
                native_filter=scan.compiled.native,
                sort=[],
                fields=scan.fields,
                view=None,
                page_size=size,
                token=token,
            )

        async with aclosing(self._pages(addr, schema, request, scan.residual, progress, what)) as pages:
            async for records in pages:
                yield records

    async def _pages(
        self,
        addr: Address,
        schema: TableSchema,
        request: Callable[[str | None, int], PageRequest],
        residual: Node | None,
        progress: Progress = None,
        what: str = "read",
    ) -> AsyncGenerator[list[Record], None]:
        """Every page of a whole read, each with the records ``residual`` (the part of the filter
        the provider could not apply) keeps; progress after each page but the last."""
        token: str | None = None
        read = 0
        while True:
            page = await addr.provider.read_page(
                addr.base, schema, request(token, addr.provider.limits.page_size)
            )
            read += len(page.records)
            yield [r for r in page.records if residual is None or matches(residual, r)]
            if page.next_token is None:
                return
            token = page.next_token
            if progress is not None:
                await progress(read, page.total, f"{what} {read} records")

    async def count(self, addr: Address, schema: TableSchema, scan: Scan) -> int | None:
        """The number of matches in one request, where the provider's page reports a total."""
        if scan.residual is not None:
            return None
        page = await addr.provider.read_page(
            addr.base,
            schema,
            PageRequest(
                native_filter=scan.compiled.native, sort=[], fields=[], view=None, page_size=1, token=None
            ),
        )
        if page.total is not None:
            return page.total
        return len(page.records) if page.next_token is None else None

    # ------------------------------------------------------------------------- query_records
    async def query_records(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        *,
        where: Any = None,
        sort: Any = None,
        fields: list[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        view: str | None = None,
        format: str | None = None,
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "query", "query_records")
        schema = await self.catalog.schema(addr)
        limit = DEFAULT_LIMIT if limit is None else limit
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT}; got {short(limit)}.")
        format = format or "records"
        if format not in FORMATS:
            raise InputError(f"format {short(format)} is unknown; use records or rows.")
        q = self._prepare(addr, schema, where, sort, fields, view)
        query = fingerprint(addr.provider.id, addr.base, schema.id, where, sort, fields, q.view_id)
        key = await addr.provider.cursor_key()
        state = _checked_state(decode_cursor(cursor, query, key), addr.provider.limits.page_size)
        if q.server_sort:
            records, next_state = await self._sorted_page(
                addr, schema, q.request, q.residual, q.keys, limit, state
            )
        else:
            records, next_state = await self._streamed_page(addr, schema, q.request, q.residual, limit, state)
        projection, residual = q.projection, q.residual
        rendered = list(map(Renderer(schema, projection, self.tz), records))
        next_cursor = encode_cursor(next_state, query, key) if next_state is not None else None
        if format == "rows":
            names = projection or [f.name for f in schema.fields]
            return {
                "columns": ["id", *names],
                "rows": [[r["id"], *(r["fields"].get(n) for n in names)] for r in rendered],
                "next_cursor": next_cursor,
                "server_filtered": residual is not None,
            }
        return {"records": rendered, "next_cursor": next_cursor, "server_filtered": residual is not None}

    def _prepare(
        self, addr: Address, schema: TableSchema, where: Any, sort: Any, fields: Any, view: str | None
    ) -> _Query:
        node = parse_where(where, schema, self.tz)
        keys = parse_sort(sort, schema)
        projection = self.catalog.projection(schema, fields)
        view_id = self.catalog.view_id(addr, schema, view or addr.view)
        compiled = addr.provider.compile_filter(node, schema)
        residual = None if compiled.exact else node
        server_sort = bool(keys) and not addr.provider.capabilities.native_sort
        fetch: list[str] | None = None
        if projection is not None:
            needed = set(projection) | fields_of(residual)
            if server_sort:
                needed |= {k.field.name for k in keys}
            fetch = [f.name for f in schema.fields if f.name in needed]
        return _Query(projection, view_id, compiled, residual, keys, server_sort, fetch)

    async def read_all(
        self, addr: Address, schema: TableSchema, *, where: Any = None, sort: Any = None, fields: Any = None
    ) -> AsyncGenerator[list[Record], None]:
        """Every match in ``sort`` order (canonical records), a page at a time: a whole query
        without an answer budget or cursor (export reads through it and renders each value with
        ``value_renderer``). A sort the provider cannot do is done here once every match is read,
        as query_records does."""
        q = self._prepare(addr, schema, where, sort, fields, None)
        matched: list[Record] = []
        async with aclosing(self._pages(addr, schema, q.request, q.residual)) as pages:
            async for records in pages:
                if not q.server_sort:
                    yield records
                elif len(matched) + len(records) > MAX_SNAPSHOT:
                    raise InputError(TOO_MANY_TO_SORT)
                else:
                    matched.extend(records)
        ordered = sort_records(matched, q.keys)
        page_size = addr.provider.limits.page_size
        for start in range(0, len(ordered), page_size):
            yield ordered[start : start + page_size]

    async def _streamed_page(
        self,
        addr: Address,
        schema: TableSchema,
        request: Callable[[str | None, int], PageRequest],
        residual: Node | None,
        limit: int,
        state: dict[str, Any] | None,
    ) -> tuple[list[Record], dict[str, Any] | None]:
        max_page = addr.provider.limits.page_size
        token: str | None = state.get("t") if state else None
        skip: int = int(state.get("s", 0)) if state else 0
        size: int = int(state.get("n", max_page)) if state else max_page
        out: list[Record] = []
        budget = _Budget()
        while True:
            if not skip:
                size = max_page if residual is not None else min(max_page, max(limit - len(out), 1))
            page = await addr.provider.read_page(addr.base, schema, request(token, size))
            i = skip
            while i < len(page.records) and len(out) < limit:
                record = page.records[i]
                if residual is None or matches(residual, record):
                    if not budget.take(record) and out:
                        break
                    out.append(record)
                i += 1
            if i < len(page.records):
                return out, {"t": token, "s": i, "n": size}
            if page.next_token is None:
                return out, None
            token, skip = page.next_token, 0
            if len(out) >= limit or budget.full:
                return out, {"t": token, "s": 0, "n": size}

    async def _sorted_page(
        self,
        addr: Address,
        schema: TableSchema,
        request: Callable[[str | None, int], PageRequest],
        residual: Node | None,
        keys: Sequence[Any],
        limit: int,
        state: dict[str, Any] | None,
    ) -> tuple[list[Record], dict[str, Any] | None]:
        self._expire_snapshots()
        offset = int(state.get("o", 0)) if state else 0
        snap = self._snapshots.get(state.get("id", "")) if state else None
        if snap is None:
            matched: list[Record] = []
            token: str | None = None
            while True:
                page = await addr.provider.read_page(
                    addr.base, schema, request(token, addr.provider.limits.page_size)
                )
                matched.extend(r for r in page.records if residual is None or matches(residual, r))
                if len(matched) > MAX_SNAPSHOT:
                    raise InputError(TOO_MANY_TO_SORT)
                if page.next_token is None:
                    break
                token = page.next_token
            snap = Snapshot(time.monotonic(), sort_records(matched, keys))
            snap_id = uuid.uuid4().hex[:16]
            self._snapshots[snap_id] = snap
            while len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)
        else:
            snap_id = state["id"] if state else ""
        out: list[Record] = []
        budget = _Budget()
        i = offset
        while i < len(snap.records) and len(out) < limit:
            if not budget.take(snap.records[i]) and out:
                break
            out.append(snap.records[i])
            i += 1
        return out, ({"id": snap_id, "o": i} if i < len(snap.records) else None)

    def _expire_snapshots(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._snapshots.items() if now - s.created > SNAPSHOT_TTL]:
            del self._snapshots[key]

    # ------------------------------------------------------------------------- get_records
    async def get_records(
        self, provider: str | None, base: str | None, table: str | None, record_ids: list[str]
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "get", "get_records")
        ids = check_ids(record_ids)
        addr.provider.check_ids("record", ids)
        schema = await self.catalog.schema(addr)
        found = await self.fetch(addr, schema, ids)
        return {
            "records": [render(schema, found[i], None, self.tz) for i in ids if i in found],
            "missing": [i for i in ids if i not in found],
        }

    async def fetch(self, addr: Address, schema: TableSchema, ids: list[str]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for chunk in chunked(ids, addr.provider.limits.get_batch):
            for record in await addr.provider.get_records(addr.base, schema, chunk):
                found[record["id"]] = record
        return found


def _checked_state(state: dict[str, Any] | None, max_page: int) -> dict[str, Any] | None:
    """A decoded cursor's state, or a clear error when it was altered (never an internal error)."""
    if state is None:
        return None
    whole = {"s": 0, "o": 0, "n": 1}  # position fields and their least value
    good = all(
        k not in state or (isinstance(state[k], int) and not isinstance(state[k], bool) and state[k] >= least)
        for k, least in whole.items()
    )
    good = good and int(state.get("n", 1)) <= max_page
    good = good and all(k not in state or state[k] is None or isinstance(state[k], str) for k in ("t", "id"))
    if not good:
        raise InputError(
            "cursor is not one this server gave: pass next_cursor from the previous answer unchanged."
        )
    return state


_SIZE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


class _Budget:
    """Keeps one answer under MAX_ANSWER_BYTES."""

    def __init__(self) -> None:
        self.used = 0
        self.full = False

    def take(self, record: Record) -> bool:
        size = len(_SIZE.encode(record))
        if self.used + size > MAX_ANSWER_BYTES:
            self.full = True
            return False
        self.used += size
        return True
