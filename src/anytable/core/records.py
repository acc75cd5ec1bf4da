"""Record operations, the same for every provider.

Reading: ``where`` is checked and compiled by the provider; what the provider cannot filter is
filtered here (``server_filtered``). Pages of the provider are walked behind our own cursor,
which remembers the provider's page token and how far into that page we got, so no record is
missed or repeated whatever ``limit`` is. A sort the provider cannot do is done here on a
snapshot of every match, paged by offset.

Writing: every value is checked against the schema before anything is sent; then the rows go in
batches within the provider's limits, one batch at a time, with progress; a failure part-way
says exactly which input records were stored.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anytable.core.cursor import decode_cursor, encode_cursor, fingerprint
from anytable.errors import AnytableError, InputError, PartialWriteError, ProviderError
from anytable.providers.base import CreateResult, PageRequest, Record
from anytable.providers.batching import chunked
from anytable.providers.evaluate import matches, sort_records
from anytable.schemas.fields import FieldType, TableSchema
from anytable.schemas.filters import fields_of, parse_sort, parse_where
from anytable.schemas.values import record_coercer, render_read, short

if TYPE_CHECKING:
    from anytable.core.addressing import Address
    from anytable.core.service import Anytable

Progress = Callable[[float, float | None, str | None], Awaitable[None]] | None

log = logging.getLogger("anytable.records")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ANSWER_BYTES = 256 * 1024  # one query_records answer stays under this (at least one record)
MAX_SNAPSHOT = 200_000  # most records a server-side sort will hold
SNAPSHOT_TTL = 900.0
MAX_SNAPSHOTS = 8
MAX_IDS_IN_MESSAGE = 20


@dataclass
class Snapshot:
    created: float
    records: list[Record]


class RecordsMixin:
    def __init__(self) -> None:
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()

    # ------------------------------------------------------------------------- reading
    async def query_records(
        self: Anytable,
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
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "records", "query", "query_records")
        schema = await self.schema(addr)
        limit = DEFAULT_LIMIT if limit is None else limit
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT}; got {short(limit)}.")
        node = parse_where(where, schema, self.tz)
        keys = parse_sort(sort, schema)
        projection = self._projection(schema, fields)
        view = view or addr.view
        view_id = self._view_id(addr, schema, view)
        compiled = addr.provider.compile_filter(node, schema)
        residual = None if compiled.exact else node
        server_sort = bool(keys) and not addr.provider.capabilities.native_sort
        fetch: list[str] | None = None
        if projection is not None:
            needed = set(projection) | fields_of(residual)
            if server_sort:
                needed |= {k.field.name for k in keys}
            fetch = [f.name for f in schema.fields if f.name in needed]
        query = fingerprint(addr.provider.id, addr.base, schema.id, where, sort, fields, view_id)
        key = await addr.provider.cursor_key()
        state = decode_cursor(cursor, query, key)

        def request(token: str | None, page_size: int) -> PageRequest:
            return PageRequest(
                native_filter=compiled.native,
                sort=[] if server_sort else keys,
                fields=fetch,
                view=view_id,
                page_size=page_size,
                token=token,
            )

        if server_sort:
            records, next_state = await self._sorted_page(addr, schema, request, residual, keys, limit, state)
        else:
            records, next_state = await self._streamed_page(addr, schema, request, residual, limit, state)
        return {
            "records": [self._render(schema, r, projection) for r in records],
            "next_cursor": encode_cursor(next_state, query, key) if next_state is not None else None,
            "server_filtered": residual is not None,
        }

    async def _streamed_page(
        self: Anytable,
        addr: Address,
        schema: TableSchema,
        request: Callable[[str | None, int], PageRequest],
        residual: Any,
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
        self: Anytable,
        addr: Address,
        schema: TableSchema,
        request: Callable[[str | None, int], PageRequest],
        residual: Any,
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
                    raise InputError(
                        f"Sorting here means reading every match, and more than {MAX_SNAPSHOT:,} records match: "
                        "narrow where, or leave sort out."
                    )
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

    async def get_records(
        self: Anytable, provider: str | None, base: str | None, table: str | None, record_ids: list[str]
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "records", "get", "get_records")
        ids = _check_ids(record_ids)
        addr.provider.check_ids("record", ids)
        schema = await self.schema(addr)
        found: dict[str, Record] = {}
        for chunk in chunked(ids, addr.provider.limits.get_batch):
            for record in await addr.provider.get_records(addr.base, schema, chunk):
                found[record["id"]] = record
        return {
            "records": [self._render(schema, found[i], None) for i in ids if i in found],
            "missing": [i for i in ids if i not in found],
        }

    # ------------------------------------------------------------------------- writing
    async def create_records(
        self: Anytable,
        provider: str | None,
        base: str | None,
        table: str | None,
        records: list[dict[str, Any]],
        progress: Progress = None,
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "records", "create", "create_records")
        if not isinstance(records, list) or not records:
            raise InputError('records must be a non-empty list of records like [{"Name": "x"}].')
        schema = await self.schema(addr)
        try:
            coerce = record_coercer(schema, self.tz, keep_none=False)
            rows = [coerce(r, i) for i, r in enumerate(records)]
        except InputError:
            schema = await self.schema(addr, fresh=True)  # the table may have changed since we cached it
            coerce = record_coercer(schema, self.tz, keep_none=False)
            rows = [coerce(r, i) for i, r in enumerate(records)]
        addr.provider.check_rows(schema, rows, update=False)
        limits = addr.provider.limits
        ids: list[str | None] = []
        failed: list[dict[str, Any]] = []
        total = len(rows)

        async def run(chunk: list[dict[str, Any]]) -> CreateResult:
            return await addr.provider.create_batch(addr.base, schema, chunk)

        start = 0
        for chunk in chunked(rows, limits.create_batch, limits.batch_bytes):
            try:
                result = await self._write(addr, schema.id, run, chunk)
            except Exception as exc:
                raise self._partial("create", exc, start, total, ids, failed, len(chunk)) from None
            for j, rid in enumerate(result.ids):
                if j in result.failed:
                    failed.append({"index": start + j, "error": result.failed[j]})
                    ids.append(None)
                else:
                    ids.append(rid)
            start += len(chunk)
            if progress is not None and total > len(chunk):
                await progress(start, total, f"created {start - len(failed)} of {total}")
        created = total - len(failed)
        out: dict[str, Any] = {"created": created}
        known = addr.provider.capabilities.record_ids_on_create
        out["ids"] = ids if known else None
        if failed:
            out["failed"] = failed
        return out

    async def update_records(
        self: Anytable,
        provider: str | None,
        base: str | None,
        table: str | None,
        records: list[dict[str, Any]],
        progress: Progress = None,
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "records", "update", "update_records")
        if not isinstance(records, list) or not records:
            raise InputError(
                'records must be a non-empty list like [{"id": "rec1", "fields": {"Name": "x"}}].'
            )
        schema = await self.schema(addr)
        rows: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for attempt in (0, 1):
            rows, seen = [], set()
            coerce = record_coercer(schema, self.tz)
            try:
                for i, item in enumerate(records):
                    if (
                        not isinstance(item, dict)
                        or set(item) - {"id", "fields"}
                        or not isinstance(item.get("id"), str)
                    ):
                        raise InputError(
                            f'Record {i}: write {{"id": "<record id>", "fields": {{...}}}}; got {short(item)}.'
                        )
                    if item["id"] in seen:
                        raise InputError(
                            f"Record {i}: id {item['id']!r} appears twice; merge its fields into one entry."
                        )
                    addr.provider.check_ids("record", [item["id"]])
                    seen.add(item["id"])
                    values = coerce(item.get("fields"), i)
                    if not values:
                        raise InputError(f"Record {i}: fields is empty; give at least one field to change.")
                    rows.append((item["id"], values))
                break
            except InputError:
                if attempt:
                    raise
                schema = await self.schema(addr, fresh=True)
        addr.provider.check_rows(schema, [values for _, values in rows], update=True)
        limits = addr.provider.limits
        total, done = len(rows), 0

        async def run(chunk: list[tuple[str, dict[str, Any]]]) -> None:
            await addr.provider.update_batch(addr.base, schema, chunk)

        for chunk in chunked(rows, limits.update_batch, limits.batch_bytes):
            try:
                await self._write(addr, schema.id, run, chunk)
            except Exception as exc:
                raise self._partial(
                    "update", exc, done, total, [r[0] for r in rows[:done]], [], len(chunk)
                ) from None
            done += len(chunk)
            if progress is not None and total > len(chunk):
                await progress(done, total, f"updated {done} of {total}")
        return {"updated": total}

    async def delete_records(
        self: Anytable,
        provider: str | None,
        base: str | None,
        table: str | None,
        record_ids: list[str],
        progress: Progress = None,
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "records", "delete", "delete_records")
        ids = _check_ids(record_ids)
        addr.provider.check_ids("record", ids)
        schema = await self.schema(addr)
        limits = addr.provider.limits
        total, done = len(ids), 0

        async def run(chunk: list[str]) -> None:
            await addr.provider.delete_batch(addr.base, schema, chunk)

        for chunk in chunked(ids, limits.delete_batch):
            try:
                await self._write(addr, schema.id, run, chunk)
            except Exception as exc:
                raise self._partial("delete", exc, done, total, list(ids[:done]), [], len(chunk)) from None
            done += len(chunk)
            if progress is not None and total > len(chunk):
                await progress(done, total, f"deleted {done} of {total}")
        return {"deleted": total}

    async def _write(
        self: Anytable, addr: Address, table_id: str, run: Callable[[Any], Awaitable[Any]], chunk: Any
    ) -> Any:
        lock = self.write_lock(addr, table_id)
        if lock is None:
            return await run(chunk)
        async with lock:
            return await run(chunk)

    @staticmethod
    def _partial(
        verb: str,
        exc: Exception,
        done: int,
        total: int,
        ids: list[Any],
        failed: list[dict[str, Any]],
        batch: int = 0,
    ) -> AnytableError:
        if not isinstance(exc, AnytableError):  # a bug or an unexpected failure: that batch is in doubt
            log.exception("%s_records failed unexpectedly", verb)
            exc = ProviderError(
                f"an internal error ({type(exc).__name__}) stopped the write; check the server log",
                kind="unknown_outcome",
            )
        # A batch whose outcome is unknown (its answer was lost and could not be checked) is neither
        # done nor not done: saying "were not" would invite sending it twice.
        unknown = isinstance(exc, ProviderError) and exc.kind == "unknown_outcome" and batch > 0
        if done == 0 and (not unknown or batch >= total):
            return exc
        past = {"create": "created", "update": "updated", "delete": "deleted"}[verb]
        shown = [i for i in ids if i][:MAX_IDS_IN_MESSAGE]
        more = (
            f" and {len([i for i in ids if i]) - len(shown)} more"
            if len([i for i in ids if i]) > len(shown)
            else ""
        )
        id_text = f" (ids {', '.join(shown)}{more})" if shown and verb == "create" else ""
        if unknown:
            last = min(done + batch, total) - 1
            message = (
                "Stopped part-way: "
                + (f"records 0-{done - 1} of the {total} given were {past}{id_text}; " if done else "")
                + f"whether records {done}-{last} were {past} is not known"
                + (f"; records {last + 1}-{total - 1} were not" if last + 1 < total else "")
                + f". Cause: {exc}. Check with query_records which of records {done}-{last} were {past}, then "
                f"call {verb}_records again with only the records that were not."
            )
            return PartialWriteError(message, done=done, ids=ids)
        message = (
            f"Stopped part-way: records 0-{done - 1} of the {total} given were {past}{id_text}"
            f"{f', {len(failed)} of them refused' if failed else ''}; records {done}-{total - 1} were not. "
            f"Cause: {exc}. Fix the cause, then call {verb}_records again with only records {done}-{total - 1}."
        )
        return PartialWriteError(message, done=done, ids=ids)

    # ------------------------------------------------------------------------- output
    def _projection(self: Anytable, schema: TableSchema, fields: list[str] | None) -> list[str] | None:
        if fields is None:
            return None
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise InputError('fields must be a list of field names, like ["Name", "Status"].')
        names: list[str] = []
        for key in fields:
            field = schema.find_field(key)
            if field is None:
                known = ", ".join(repr(f.name) for f in schema.fields[:40])
                raise InputError(f"fields: no field {key!r} in table {schema.name!r}; fields are {known}.")
            if field.name not in names:
                names.append(field.name)
        return names

    def _view_id(self: Anytable, addr: Address, schema: TableSchema, view: str | None) -> str | None:
        if view is None:
            return None
        if schema.views is None:
            raise InputError(f"{addr.provider.title} tables have no views: leave view out.")
        for v in schema.views:
            if view in (v.id, v.name):
                return v.id
        names = ", ".join(repr(v.name) for v in schema.views) or "none"
        raise InputError(f"No view {view!r} in table {schema.name!r}; views are {names}.")

    def _render(
        self: Anytable, schema: TableSchema, record: Record, projection: list[str] | None
    ) -> dict[str, Any]:
        values = record.get("fields", {})
        out: dict[str, Any] = {}
        for field in schema.fields:
            if projection is not None and field.name not in projection:
                continue
            value = values.get(field.name)
            if field.type is FieldType.checkbox:
                out[field.name] = bool(value)
                continue
            rendered = render_read(field, value, self.tz)
            if rendered is not None and rendered != [] and rendered != "":
                out[field.name] = rendered
        return {"id": record["id"], "fields": out}


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


def _check_ids(record_ids: Any) -> list[str]:
    if not isinstance(record_ids, list) or not record_ids:
        raise InputError('record_ids must be a non-empty list of record ids, like ["rec1", "rec2"].')
    bad = [i for i in record_ids if not isinstance(i, str) or not i.strip()]
    if bad:
        raise InputError(f"record_ids must be strings; {short(bad)} are not.")
    return list(dict.fromkeys(record_ids))
