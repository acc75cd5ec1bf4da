"""The ``gptbots`` provider: a GPTBots agent's database through its API.

What GPTBots can do (docs/provider-api-notes.md §3) and so what this provider offers:
- tables: list (``tables/page``, which needs the agent id), describe (``table_info`` of
  ``records/page``), create (``create-table``). GPTBots cannot rename or delete a table, nor
  create, change or delete a field: those tools answer "not supported by GPTBots".
- records: query (``records/page``, page numbers behind our cursor), get by id (no endpoint: a
  scan, see ``get_records``), create (the asynchronous import, see ``imports``), update and delete
  (v2, by record id). The import gives no record ids: create_records answers ``ids: null``.

Configuration: ``GPTBOTS_API_KEY`` (one key = one agent), ``GPTBOTS_ENDPOINT`` (sg, jp, th or a
base URL), ``GPTBOTS_AGENT_ID`` for ``tables/page``. ``base`` is optional: when given it is the
agent id (the key names the agent for everything else).
"""

from __future__ import annotations

import json
import logging
import re
from contextlib import aclosing
from datetime import tzinfo
from typing import Any, ClassVar, Self

import httpx

from anytable.config import Settings
from anytable.errors import ConfigError, InputError, NotSupportedError, PartialWriteError, ProviderError
from anytable.masking import mask
from anytable.providers.base import (
    REMOTE_ID,
    Capabilities,
    CompiledFilter,
    CreateResult,
    Limits,
    Page,
    PageRequest,
    Provider,
)
from anytable.providers.gptbots.api import (
    ENDPOINTS,
    MAX_DELETE_ITEMS,
    MAX_IMPORT_ROWS,
    MAX_PAGE_SIZE,
    MAX_UPDATE_BODY_BYTES,
    MAX_UPDATE_ITEMS,
    GPTBotsApi,
    base_url,
)
from anytable.providers.gptbots.fields import CONTRACT_TO_TYPE, FIELD_TYPES, TYPE_TO_CONTRACT, name_problem
from anytable.providers.gptbots.filters import compile_where
from anytable.providers.gptbots.imports import Importer
from anytable.providers.gptbots.pages import count, scan
from anytable.providers.gptbots.uniques import UniqueIndex
from anytable.providers.gptbots.values import check_value, from_native, to_native, unique_key
from anytable.providers.http import NOT_APPLIED
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema
from anytable.schemas.filters import Node
from anytable.schemas.values import short

log = logging.getLogger("anytable.gptbots")

AGENT_HINT = (
    "set GPTBOTS_AGENT_ID to the id of the agent GPTBOTS_API_KEY belongs to, or pass that agent id as base"
)


class GPTBotsProvider(Provider):
    id = "gptbots"
    id_shapes: ClassVar[dict[str, re.Pattern[str]]] = {"base": REMOTE_ID, "record": REMOTE_ID}
    title = "GPTBots"
    capabilities = Capabilities(
        tables=["list", "describe", "create"],
        fields=[],
        records=["query", "get", "create", "update", "delete"],
        field_types=FIELD_TYPES,
        views=False,
        native_sort=False,
        record_ids_on_create=False,
        bases=False,
    )
    limits = Limits(
        page_size=MAX_PAGE_SIZE,
        create_batch=MAX_IMPORT_ROWS,
        update_batch=MAX_UPDATE_ITEMS,
        delete_batch=MAX_DELETE_ITEMS,
        get_batch=10_000,  # one table scan per 10,000 ids
        batch_bytes=MAX_UPDATE_BODY_BYTES * 9 // 10,  # the update body cap, with room for the body's keys
        # One write at a time per table: the unique-value check, the delete check and the wait after
        # a lost import answer read the table, and another write of ours at the same time would
        # confuse them (GPTBots runs a table's imports one after the other anyway).
        serialize_writes=True,
    )
    base_env = "GPTBOTS_AGENT_ID"
    required_env = ("GPTBOTS_API_KEY",)

    def __init__(
        self,
        *,
        key: str,
        endpoint: str,
        agent_id: str | None,
        tz: tzinfo,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        poll_timeout: float = 600.0,
        lost_grace: float = 60.0,
    ) -> None:
        try:
            url, self._config_error = base_url(endpoint), None
        except ValueError as exc:
            url, self._config_error = ENDPOINTS["sg"], str(exc)
        self.url = url
        self.key = key
        self.agent_id = agent_id
        self.tz = tz
        self.api = GPTBotsApi(key, url, transport, retry)
        self.uniques = UniqueIndex(self.api)
        self.importer = Importer(self.api, self.uniques, tz, poll_timeout=poll_timeout, lost_grace=lost_grace)

    # ------------------------------------------------------------------ the descriptor
    @classmethod
    def from_settings(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Self:
        assert settings.gptbots_api_key is not None
        return cls(
            key=settings.gptbots_api_key,
            endpoint=settings.gptbots_endpoint,
            agent_id=settings.gptbots_agent_id,
            tz=settings.tz(),
            transport=transport,
        )

    @classmethod
    def masked_credentials(cls, settings: Settings) -> dict[str, str]:
        if not settings.gptbots_api_key:
            return {"GPTBOTS_API_KEY": mask(settings.gptbots_api_key)}
        try:
            endpoint = base_url(settings.gptbots_endpoint)
        except ValueError as exc:
            endpoint = str(exc)
        return {
            "GPTBOTS_API_KEY": mask(settings.gptbots_api_key),
            "GPTBOTS_ENDPOINT": endpoint,
            "GPTBOTS_AGENT_ID": settings.gptbots_agent_id or f"not set: list_tables needs it ({AGENT_HINT})",
        }

    # ------------------------------------------------------------------ configuration

    def default_base(self) -> str | None:
        return self.agent_id

    def _ready(self) -> None:
        if self._config_error:
            raise ConfigError(self._config_error)

    def _agent(self, base: str) -> str:
        self._ready()
        agent = base or self.agent_id
        if not agent:
            raise ConfigError(f"GPTBots lists tables by agent, and no agent id is known: {AGENT_HINT}.")
        return agent

    async def check(self) -> str:
        self._ready()
        if self.agent_id:
            tables = await self.list_tables(self.agent_id)
            return (
                f"{self.url}: API key {mask(self.key)} works; agent {self.agent_id} has {len(tables)} tables"
            )
        try:
            await self.api.verify_key()
        except ProviderError as exc:
            if exc.kind == "auth":
                raise
            return f"{self.url}: configured; set GPTBOTS_AGENT_ID to check the key and list tables"
        return f"{self.url}: API key {mask(self.key)} accepted; set GPTBOTS_AGENT_ID to list tables"

    async def aclose(self) -> None:
        await self.api.aclose()

    # ------------------------------------------------------------------ tables
    async def list_tables(self, base: str) -> list[TableInfo]:
        tables = await self.api.list_tables(self._agent(base))
        out = []
        for t in tables:
            table_id = t.get("table_id") or t.get("id")
            if table_id:
                out.append(TableInfo(id=str(table_id), name=str(t.get("name") or table_id)))
        return out

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        self._ready()
        info = (await self.api.records_page(table_id, 1, 1)).table_info
        return self._schema(table_id, info)

    def _schema(self, table_id: str, info: dict[str, Any]) -> TableSchema:
        raw = [f for f in info.get("fields") or [] if isinstance(f, dict) and f.get("name")]
        primary = next((f["name"] for f in raw if f.get("unique")), raw[0]["name"] if raw else None)
        fields = []
        for f in raw:
            native = str(f.get("type") or "").upper()
            fields.append(
                FieldInfo(
                    id=str(f["name"]),
                    name=str(f["name"]),
                    type=TYPE_TO_CONTRACT.get(native, FieldType.other),
                    primary=f["name"] == primary,
                    required=bool(f.get("required")),
                    unique=bool(f.get("unique")),
                    native_type=native or None,
                    extra={"description": f.get("description") or ""},
                )
            )
        return TableSchema(id=table_id, name=str(info.get("name") or table_id), fields=fields)

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        agent = self._agent(base)
        if not fields:
            raise InputError(
                'GPTBots tables need at least one field: pass fields, e.g. [{"name": "title", "type": "text"}].'
            )
        problems = [p for p in [name_problem(name)] if p]
        if problems:
            raise InputError(f"name: {problems[0]}. Nothing was created.")
        bad = [p for p in (name_problem(f.name) for f in fields) if p]
        if bad:
            raise InputError(f"fields: {'; '.join(bad)}. Rename them; nothing was created.")
        body = {
            "name": name,
            "description": name,
            "fields": [
                {
                    "name": f.name,
                    "description": f.name,
                    "type": CONTRACT_TO_TYPE[f.type],
                    "required": False,
                    "unique": False,
                }
                for f in fields
            ],
        }

        async def reconcile() -> Any:  # a lost answer: did the table appear?
            for table in await self.api.list_tables(agent):
                if table.get("name") == name:
                    return str(table.get("table_id") or table.get("id"))
            return NOT_APPLIED

        table_id = await self.api.create_table(body, reconcile)
        return TableInfo(id=table_id, name=name)

    # ------------------------------------------------------------------ reading
    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        return compile_where(where, table)

    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page:
        """One records/page page; the token is the next page number (pages of 100, whatever the
        requested size, so the same token always means the same page)."""
        self._ready()
        page = int(request.token) if request.token else 1
        native = request.native_filter or {}
        data = await self.api.records_page(
            table.id, page, MAX_PAGE_SIZE, filter=native.get("filter"), keyword=native.get("keyword")
        )
        more = len(data.records) >= MAX_PAGE_SIZE and (
            data.total is None or page * MAX_PAGE_SIZE < data.total
        )
        return Page(
            records=[self._record(table, r) for r in data.records],
            next_token=str(page + 1) if more else None,
            total=data.total,
        )

    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[dict[str, Any]]:
        """GPTBots has no get-by-id: the table is read page by page until every id is found.

        Cost: up to ceil(records in the table / 100) records/page requests (4 at a time), fewer
        when the ids are found early.
        """
        self._ready()
        wanted = set(ids)
        found: dict[str, dict[str, Any]] = {}
        async with aclosing(scan(self.api, table.id)) as pages:
            async for records in pages:
                for raw in records:
                    if str(raw.get("id")) in wanted:
                        found[str(raw.get("id"))] = self._record(table, raw)
                if len(found) == len(wanted):
                    break
        return list(found.values())

    def _record(self, table: TableSchema, raw: dict[str, Any]) -> dict[str, Any]:
        values = raw.get("value") or raw.get("values") or {}
        out: dict[str, Any] = {}
        for field in table.fields:
            value = from_native(field, values.get(field.name), self.tz)
            if value is not None:
                out[field.name] = value
        return {"id": str(raw.get("id")), "fields": out}

    # ------------------------------------------------------------------ writing
    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:
        """GPTBots' own value rules, on every record before anything is sent: whole numbers for INT,
        dates in years 1000-9999, unique values of at most 256 characters; on update, a required or
        unique field cannot be cleared and two records cannot get the same unique value."""
        by_name = table.field_by_name()
        firsts: dict[tuple[str, Any], int] = {}
        for i, row in enumerate(rows):
            for name, value in row.items():
                field = by_name[name]
                why = check_value(field, value, self.tz)
                if why:
                    raise InputError(f"Record {i}: field {name!r} cannot take {short(value)}: {why}.")
                if update and value is None and (field.required or field.unique):
                    rule = "required" if field.required else "unique"
                    raise InputError(
                        f"Record {i}: field {name!r} is {rule} in GPTBots and cannot be cleared; give it a value or "
                        "leave it out."
                    )
                if update and field.unique and value is not None:
                    key = (name, unique_key(field, to_native(field, value, self.tz)))
                    if key in firsts:
                        raise InputError(
                            f"Records {firsts[key]} and {i} both set unique field {name!r} to {short(value)}; a unique "
                            "value can be in one record only."
                        )
                    firsts[key] = i

    def _native(self, table: TableSchema, row: dict[str, Any]) -> dict[str, Any]:
        by_name = table.field_by_name()
        return {name: to_native(by_name[name], value, self.tz) for name, value in row.items()}

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        """Create up to 1,000 records with one import (more when the CSV would pass 10 MB).

        Before sending, each record is checked against GPTBots' rules so that a bad record is never
        sent (GPTBots would discard the 10-record group it is in, good records included):
        required and unique fields must have a value (a required checkbox left out is written
        false, as it reads), a unique value may be given once, and must not already be stored
        (see ``uniques``). Refused records are reported with the reason; the rest are imported and
        followed to the end (see ``imports``). GPTBots returns no record ids.
        """
        self._ready()
        native = [self._native(table, row) for row in rows]
        for field in table.fields:
            if field.required and field.native_type == "BOOLEAN":
                for row in native:
                    if row.get(field.name) is None:
                        row[field.name] = False
        failed: dict[int, str] = {}
        uniques = [f for f in table.fields if f.unique]
        needed = [f for f in table.fields if f.required or f.unique]
        firsts: dict[str, dict[Any, int]] = {f.name: {} for f in uniques}
        for i, row in enumerate(native):
            missing = [f for f in needed if row.get(f.name) in (None, "")]
            if missing:
                f = missing[0]
                rule = "unique (every record needs a value there)" if f.unique else "required"
                failed[i] = f"field {f.name!r} is {rule} in GPTBots and this record has no value for it"
                continue
            for f in uniques:
                key = unique_key(f, row[f.name])
                if key in firsts[f.name]:
                    failed[i] = (
                        f"unique field {f.name!r}: {row[f.name]!r} is also given to an earlier record of this call "
                        "(that one is the one created); a unique value can be stored once"
                    )
                    break
            else:
                for f in uniques:
                    firsts[f.name][unique_key(f, row[f.name])] = i
        if uniques and len(failed) < len(rows):
            wanted = {f.name: set(firsts[f.name]) for f in uniques}
            holders = await self.uniques.holders(table, wanted)
            for i, row in enumerate(native):
                if i in failed:
                    continue
                for f in uniques:
                    holder = holders.get(f.name, {}).get(unique_key(f, row[f.name]))
                    if holder is not None:
                        failed[i] = (
                            f"unique field {f.name!r}: {row[f.name]!r} is already in the table (record {holder}); "
                            "to change that record use update_records"
                        )
                        break
        todo = [i for i in range(len(rows)) if i not in failed]
        if todo:
            refused = await self.importer.run(table, [native[i] for i in todo])
            for j, reason in refused.items():
                failed[todo[j]] = reason
        return CreateResult(ids=[None] * len(rows), failed=failed)

    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """v2 update by record id (at most 100 records and 5 MB per call); GPTBots reports each
        record it could not update, and they are named in the error with its reason."""
        self._ready()
        items = [{"record_id": rid, "updated_fields": self._native(table, values)} for rid, values in rows]
        failures: dict[str, str] = {}
        for part in _by_body_size(items):
            data = await self.api.update_records(table.id, part)
            failures.update(_update_failures(data, part))
        if any(f.unique for f in table.fields):
            self.uniques.forget(table.id)
        if failures:
            shown = "; ".join(f"{rid}: {reason}" for rid, reason in list(failures.items())[:20])
            more = f" (and {len(failures) - 20} more)" if len(failures) > 20 else ""
            raise PartialWriteError(
                f"GPTBots did not update {len(failures)} of these {len(items)} records: {shown}{more}. The other "
                f"{len(items) - len(failures)} were updated. Fix those records (query_records shows them) and call "
                "update_records again with only them.",
                done=len(items) - len(failures),
            )

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        """v2 delete by record id (at most 1,000 per call). GPTBots' answer says nothing per record,
        so the table's record count is read before and after (two small requests); only when it
        fell by less than the number of ids is the table read to name the records still there."""
        self._ready()
        before = await count(self.api, table.id)
        data = await self.api.delete_records(table.id, ids)
        self.uniques.forget(table.id)
        failures = _update_failures(data, [{"record_id": i} for i in ids])
        try:  # GPTBots answered: the check below only looks for ids it did not delete
            after = await count(self.api, table.id)
            if not failures and before is not None and after is not None and before - after < len(ids):
                wanted = set(ids)
                async with aclosing(scan(self.api, table.id)) as pages:
                    async for records in pages:
                        for raw in records:
                            if str(raw.get("id")) in wanted:
                                failures[str(raw.get("id"))] = "it is still in the table"
                unaccounted = len(ids) - (before - after) - len(failures)
                if unaccounted > 0 and not failures:
                    raise PartialWriteError(
                        f"{before - after} of these {len(ids)} records were deleted; the other {unaccounted} ids "
                        "are not records of this table (already deleted, or never there). get_records tells "
                        "which ids exist.",
                        done=before - after,
                    )
        except ProviderError as exc:
            log.warning("delete answered, but checking it failed (%s); taking GPTBots' answer", exc.kind)
        if failures:
            shown = "; ".join(f"{rid}: {reason}" for rid, reason in list(failures.items())[:20])
            more = f" (and {len(failures) - 20} more)" if len(failures) > 20 else ""
            raise PartialWriteError(
                f"GPTBots did not delete {len(failures)} of these {len(ids)} records: {shown}{more}. The others "
                "are gone. Call delete_records again with those ids.",
                done=len(ids) - len(failures),
            )

    # ------------------------------------------------------------------ not supported by GPTBots
    def unsupported(self, tool: str) -> NotSupportedError:
        return NotSupportedError(
            f"{tool} is not supported by GPTBots: its API can create tables and list, describe and fill them, "
            "but cannot rename or delete a table, nor add, change or delete a field (do that in the GPTBots "
            "console). list_providers shows what each provider can do."
        )


def _by_body_size(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``items`` in parts whose update body stays under GPTBots' 5 MB (the core's batches almost
    always fit; this halves one that does not)."""
    size = len(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()) + 200
    if size <= MAX_UPDATE_BODY_BYTES or len(items) == 1:
        return [items]
    half = (len(items) + 1) // 2
    return _by_body_size(items[:half]) + _by_body_size(items[half:])


def _update_failures(data: Any, sent: list[dict[str, Any]]) -> dict[str, str]:
    """Record id -> reason, from a v2 update/delete answer (``fail_detail``, either shape)."""
    if not isinstance(data, dict):
        return {}
    detail = data.get("fail_detail") or []
    out: dict[str, str] = {}
    for item in detail if isinstance(detail, list) else []:
        if not isinstance(item, dict):
            continue
        target = item.get("upsert_data") or item.get("delete_data") or item
        rid = target.get("record_id") if isinstance(target, dict) else None
        reason = str(item.get("fail_reason") or item.get("reason") or "no reason given")
        out[str(rid) if rid is not None else f"(record {len(out) + 1})"] = reason
    fail_count = data.get("fail_count")
    if not out and isinstance(fail_count, int) and not isinstance(fail_count, bool) and fail_count > 0:
        out["(unnamed)"] = f"GPTBots counted {fail_count} failures of {len(sent)} without naming them"
    return out
