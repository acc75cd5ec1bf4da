"""Writing records, the same for every provider: create, update and delete by id, by ``where``
(with dry runs and guards), and upserts by key.

Every value is checked against the schema before anything is read or sent; then every write goes
through the one batch loop (``anytable.core.batches``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import aclosing
from datetime import tzinfo
from typing import Any, TypeVar

import anyio

from anytable.bulk import paused
from anytable.core.addressing import Address
from anytable.core.batches import PAST, BatchLoop, Outcome
from anytable.core.catalog import Catalog
from anytable.core.cursor import fingerprint
from anytable.core.progress import Progress
from anytable.core.reading import Reader, check_ids, render
from anytable.core.upsert import KeyIndex, parse_key
from anytable.errors import InputError
from anytable.providers.base import CreateResult, Provider, Record
from anytable.schemas.fields import TableSchema
from anytable.schemas.filters import Node, parse_where
from anytable.schemas.values import record_coercer, short

T = TypeVar("T")
INLINE_CHECK = 1_000  # values checked on the event loop (about a millisecond); more go to a worker thread
GUARD = 10_000  # a where matching more than this needs a dry run first, or max
DRY_RUN_TTL = 900.0
SAMPLE = 5


class Writer:
    def __init__(self, catalog: Catalog, reader: Reader, tz: tzinfo) -> None:
        self.catalog = catalog
        self.reader = reader
        self.tz = tz
        self._dry_runs: dict[str, float] = {}
        self.batches = BatchLoop().run

    # ------------------------------------------------------------------------- checking input
    async def _coerced(
        self, addr: Address, schema: TableSchema, check: Callable[[TableSchema], T], count: int
    ) -> tuple[TableSchema, T]:
        """``check`` of ``count`` values against the cached schema, and once more against a fresh
        one if it fails (the table may have changed since we cached it). Many values are checked in
        a worker thread (seconds must not stall the event loop); a few, a millisecond or so of work,
        right here: many concurrent calls would otherwise each take a thread and contend for the
        interpreter with the event loop, which then serves its connections late."""

        async def run(s: TableSchema) -> T:
            if count <= INLINE_CHECK:
                return check(s)
            return await anyio.to_thread.run_sync(paused, check, s)

        try:
            return schema, await run(schema)
        except InputError:
            schema = await self.catalog.schema(addr, fresh=True)
            return schema, await run(schema)

    # ------------------------------------------------------------------------- create (and upsert)
    async def create_records(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        records: list[dict[str, Any]],
        progress: Progress = None,
        *,
        key: Any = None,
        on_match: Any = None,
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "create", "create_records")
        if not isinstance(records, list) or not records:
            raise InputError('records must be a non-empty list of records like [{"Name": "x"}].')
        if on_match is not None and key is None:
            raise InputError(
                'on_match needs key: the fields that say two records are the same, like ["Title"].'
            )
        if on_match is not None and on_match not in ("update", "skip"):
            raise InputError(f"on_match {short(on_match)} is unknown; use update or skip.")

        def check(s: TableSchema) -> list[dict[str, Any]]:
            coerce = record_coercer(s, self.tz, keep_none=False)
            return [coerce(r, i) for i, r in enumerate(records)]

        schema, rows = await self._coerced(addr, await self.catalog.schema(addr), check, _values(records))
        return await self.create_checked(addr, schema, rows, progress, key=key, on_match=on_match)

    async def create_checked(
        self,
        addr: Address,
        schema: TableSchema,
        rows: list[dict[str, Any]],
        progress: Progress = None,
        *,
        key: Any = None,
        on_match: Any = None,
    ) -> dict[str, Any]:
        """create_records of rows already coerced against ``schema`` (import_records checks every
        row itself before anything is written, and does not pay for the coercion twice)."""
        keys = parse_key(schema, key, rows) if key is not None else None
        addr.provider.check_rows(schema, rows, update=False)
        if keys is not None:
            return await self._upsert(addr, schema, rows, keys, on_match or "update", progress)
        out = await self._create(addr, schema, rows, progress)
        result: dict[str, Any] = {"created": len(rows) - len(out.failed)}
        result["ids"] = out.ids if addr.provider.capabilities.record_ids_on_create else None
        if out.failed:
            result["failed"] = out.failed
        return result

    async def _create(
        self,
        addr: Address,
        schema: TableSchema,
        rows: list[dict[str, Any]],
        progress: Progress,
        again: str | None = None,
    ) -> Outcome:
        async def send(chunk: list[dict[str, Any]]) -> CreateResult:
            return await addr.provider.create_batch(addr.base, schema, chunk)

        def ahead(chunk: list[dict[str, Any]]) -> None:
            addr.provider.prepare_create(schema, chunk)

        limits = addr.provider.limits
        prepares = type(addr.provider).prepare_create is not Provider.prepare_create
        return await self.batches(
            addr,
            schema,
            "create",
            rows,
            send,
            progress,
            size=limits.create_batch,
            nbytes=limits.batch_bytes,
            again=again,
            ahead=ahead if prepares else None,
        )

    async def _upsert(
        self,
        addr: Address,
        schema: TableSchema,
        rows: list[dict[str, Any]],
        keys: KeyIndex,
        on_match: str,
        progress: Progress,
    ) -> dict[str, Any]:
        self.catalog.require(addr, "records", "update", "create_records with key")
        existing = await keys.existing(self.reader, addr, schema)
        updates: list[tuple[str, dict[str, Any]]] = []
        creates: list[dict[str, Any]] = []
        ids: list[str | None] = [None] * len(rows)
        created_at: list[int] = []
        skipped = updated = 0
        for i, row in enumerate(rows):
            matched = existing.get(keys.of(row))
            if not matched:
                creates.append(row)
                created_at.append(i)
                continue
            ids[i] = matched[0]
            if on_match == "skip":
                skipped += 1
                continue
            updated += len(matched)
            values = {k: v for k, v in row.items() if k not in keys.names}
            if values:
                updates.extend((rid, values) for rid in matched)
        again = (
            "Calling create_records again with the same records, key and on_match is safe: the records already "
            "written now match their key."
        )
        if updates:
            await self._update(addr, schema, updates, progress, again)
        out = await self._create(addr, schema, creates, progress, again) if creates else Outcome()
        for i, rid in zip(created_at, out.ids, strict=False):
            ids[i] = rid
        result: dict[str, Any] = {
            "created": len(creates) - len(out.failed),
            "updated": updated,
            "skipped": skipped,
        }
        result["ids"] = ids if addr.provider.capabilities.record_ids_on_create else None
        if out.failed:
            result["failed"] = [{"index": created_at[f["index"]], "error": f["error"]} for f in out.failed]
        return result

    # ------------------------------------------------------------------------- update
    async def update_records(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        records: list[dict[str, Any]] | None,
        progress: Progress = None,
        *,
        where: Any = None,
        set_: Any = None,
        dry_run: Any = None,
        max: Any = None,
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "update", "update_records")
        if records is not None and (where is not None or set_ is not None):
            raise InputError("update_records takes either records, or where and set; not both.")
        if records is None:
            if where is None or set_ is None:
                raise InputError(
                    'update_records needs records [{"id", "fields"}], or where and set {"<field>": value} to '
                    "change every matching record."
                )
            return await self._update_where(addr, where, set_, dry_run, max, progress)
        if dry_run is not None or max is not None:
            raise InputError("dry_run and max go with where; with records, every given record is updated.")
        if not isinstance(records, list) or not records:
            raise InputError(
                'records must be a non-empty list like [{"id": "rec1", "fields": {"Name": "x"}}].'
            )

        def check(s: TableSchema) -> list[tuple[str, dict[str, Any]]]:
            coerce = record_coercer(s, self.tz)
            rows: list[tuple[str, dict[str, Any]]] = []
            seen: set[str] = set()
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
            return rows

        schema, rows = await self._coerced(
            addr,
            await self.catalog.schema(addr),
            check,
            _values([r.get("fields") for r in records if isinstance(r, dict)]),
        )
        addr.provider.check_rows(schema, [values for _, values in rows], update=True)
        await self._update(addr, schema, rows, progress)
        return {"updated": len(rows)}

    async def _update(
        self,
        addr: Address,
        schema: TableSchema,
        rows: list[tuple[str, dict[str, Any]]],
        progress: Progress,
        again: str | None = None,
    ) -> None:
        async def send(chunk: list[tuple[str, dict[str, Any]]]) -> None:
            await addr.provider.update_batch(addr.base, schema, chunk)

        limits = addr.provider.limits
        await self.batches(
            addr,
            schema,
            "update",
            rows,
            send,
            progress,
            size=limits.update_batch,
            nbytes=limits.batch_bytes,
            again=again,
        )

    # ------------------------------------------------------------------------- delete
    async def delete_records(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        record_ids: list[str] | None,
        progress: Progress = None,
        *,
        where: Any = None,
        dry_run: Any = None,
        max: Any = None,
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "delete", "delete_records")
        if record_ids is not None and where is not None:
            raise InputError("delete_records takes either record_ids or where; not both.")
        if record_ids is None:
            if where is None:
                raise InputError("delete_records needs record_ids, or where to delete every matching record.")
            return await self._update_where(addr, where, None, dry_run, max, progress)
        if dry_run is not None or max is not None:
            raise InputError("dry_run and max go with where; with record_ids, every given record is deleted.")
        ids = check_ids(record_ids)
        addr.provider.check_ids("record", ids)
        schema = await self.catalog.schema(addr)
        await self._delete(addr, schema, ids, progress)
        return {"deleted": len(ids)}

    async def _delete(
        self, addr: Address, schema: TableSchema, ids: list[str], progress: Progress, again: str | None = None
    ) -> None:
        async def send(chunk: list[str]) -> None:
            await addr.provider.delete_batch(addr.base, schema, chunk)

        await self.batches(
            addr, schema, "delete", ids, send, progress, size=addr.provider.limits.delete_batch, again=again
        )

    # ------------------------------------------------------------------------- by filter
    async def _update_where(
        self, addr: Address, where: Any, set_: Any, dry_run: Any, at_most: Any, progress: Progress
    ) -> dict[str, Any]:
        """Update (``set_`` given) or delete every record matching ``where``."""
        verb = "delete" if set_ is None else "update"
        tool = f"{verb}_records"
        if dry_run is not None and not isinstance(dry_run, bool):
            raise InputError("dry_run must be true or false.")
        if at_most is not None and (not isinstance(at_most, int) or isinstance(at_most, bool) or at_most < 0):
            raise InputError(
                f"max must be a whole number (the most records that may match); got {short(at_most)}."
            )
        schema = await self.catalog.schema(addr)
        node = self._where(schema, where, tool)
        values: dict[str, Any] | None = None
        if set_ is not None:
            if not isinstance(set_, dict) or not set_:
                raise InputError('set must be an object of field values to write, like {"Status": "done"}.')

            def check(s: TableSchema) -> dict[str, Any]:
                try:
                    return record_coercer(s, self.tz)(set_, None)
                except InputError as exc:
                    raise InputError(f"set: {exc.message}") from None

            schema, checked = await self._coerced(addr, schema, check, len(set_))
            addr.provider.check_rows(schema, [checked], update=True)
            values = checked
            node = self._where(schema, where, tool)
        query = fingerprint(addr.provider.id, addr.base, schema.id, verb, where, set_)
        now = time.monotonic()
        self._dry_runs = {k: t for k, t in self._dry_runs.items() if now - t < DRY_RUN_TTL}
        scan = self.reader.plan(addr, schema, node, set())
        dry_run_seen = query in self._dry_runs
        if not dry_run and scan.residual is None:  # the provider may do it all in one statement
            limit = at_most if at_most is not None else (None if dry_run_seen else GUARD)
            native = await addr.provider.write_where(addr.base, schema, scan.compiled.native, values, limit)
            if native is not None:
                self._guard(tool, native, at_most, dry_run_seen)
                self._dry_runs.pop(query, None)
                return {PAST[verb]: native, "matched": native}
        if scan.fields == []:
            scan.fields = [schema.fields[0].name]
        ids: list[str] = []
        sample: list[Record] = []
        async with aclosing(self.reader.scan(addr, schema, scan, progress, "matched in")) as pages:
            async for page in pages:
                ids.extend(r["id"] for r in page)
        matched = len(ids)
        if dry_run:
            self._dry_runs[query] = now
            if values is not None and ids:
                found = await self.reader.fetch(addr, schema, ids[:SAMPLE])
                sample = [
                    render(schema, {"id": i, "fields": {**found[i]["fields"], **values}}, None, self.tz)
                    for i in ids[:SAMPLE]
                    if i in found
                ]
            elif ids:
                found = await self.reader.fetch(addr, schema, ids[:SAMPLE])
                sample = [render(schema, found[i], None, self.tz) for i in ids[:SAMPLE] if i in found]
            return {PAST[verb]: 0, "matched": matched, "sample": sample}
        self._guard(tool, matched, at_most, dry_run_seen)
        again = (
            f"Fix the cause, then call {tool} again with the same where: the records already {PAST[verb]} "
            + ("are gone." if verb == "delete" else "get the same values again.")
        )
        if verb == "delete":
            await self._delete(addr, schema, ids, progress, again)
        else:
            assert values is not None
            await self._update(addr, schema, [(i, values) for i in ids], progress, again)
        self._dry_runs.pop(query, None)
        return {PAST[verb]: matched, "matched": matched}

    def _where(self, schema: TableSchema, where: Any, tool: str) -> Node | None:
        if where == {"all": True}:
            return None
        if not isinstance(where, dict) or not where:
            raise InputError(
                f'{tool}: where is empty; to change every record of the table pass where: {{"all": true}}, '
                'else a filter like {"field": "Status", "op": "eq", "value": "todo"}.'
            )
        if "all" in where:
            raise InputError('where: {"all": true} stands alone; it means every record.')
        return parse_where(where, schema, self.tz)

    @staticmethod
    def _guard(tool: str, matched: int, at_most: int | None, dry_run_seen: bool) -> None:
        if at_most is not None and matched > at_most:
            raise InputError(
                f"{tool}: {matched} records match where, more than max {at_most}; nothing was changed."
            )
        if matched > GUARD and at_most is None and not dry_run_seen:
            raise InputError(
                f"{tool}: {matched} records match where (more than {GUARD:,}); nothing was changed. Call it with "
                f"dry_run: true first, or pass max: {matched} to confirm."
            )


def _values(records: list[Any]) -> int:
    """How many field values ``records`` hold (what checking them costs)."""
    return sum(len(r) if isinstance(r, dict) else 1 for r in records)
