"""The ``dingtalk`` provider: DingTalk AI Table (Notable) open API v1.0 behind the one interface.

HTTP endpoints and the call path are in ``api``; values in ``values``; the filter in ``filters``;
field shapes in ``fields``; share links in ``urls``.

Writes go 100 records per call (the documents state no cap; a community report says inserts stop
at 100 [3P], so 100 it is). Every API stays under 20 requests per second by itself (§1.3 [DOC]):
the limiter spaces the calls of each API. No write is repeated blindly after a lost answer or a
5xx: an insert carries a clientToken (a UUID per batch) and is reconciled through
changedRecordIds; an update sends the same values again (idempotent); a delete, a table or field
creation or deletion first checks what happened.

DingTalk has no batch get: ``get_records`` reads ``GET .../records/{recordId}`` once per id, a few at
a time: one request per id, at most 20 per second.

``§n``: section n of docs/provider-api-notes.md.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import Any, Self

import httpx

from anytable.config import Settings
from anytable.errors import NotFoundError, ProviderError
from anytable.masking import SECRETS, mask
from anytable.providers.base import (
    Capabilities,
    CompiledFilter,
    CreateResult,
    Limits,
    Page,
    PageRequest,
    Provider,
    Record,
)
from anytable.providers.dingtalk.api import (
    FIELD,
    FIELDS,
    MAX_PAGE,
    MAX_PROJECTION,
    RECORDS,
    RECORDS_DELETE,
    RECORDS_LIST,
    SHEET,
    SHEETS,
    DingTalkApi,
    gather,
)
from anytable.providers.dingtalk.errors import (
    DUPLICATE_TOKEN,
    NOT_FOUND,
    PROVIDER,
    WRITE_VALUES_HINT,
    Call,
    api_parser,
)
from anytable.providers.dingtalk.fields import FIELD_TYPES, field_info, fields_of, native_field
from anytable.providers.dingtalk.filters import compile_where
from anytable.providers.dingtalk.urls import base_id, parse_url
from anytable.providers.dingtalk.values import check_rows, record_reader, row_writer
from anytable.providers.http import NOT_APPLIED
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy
from anytable.schemas.fields import FieldInfo, FieldSpec, TableInfo, TableSchema
from anytable.schemas.filters import Node

log = logging.getLogger("anytable.dingtalk")

GET_CONCURRENCY = 4  # record reads in flight at once (the limiter still spaces them)

TABLES_HINT = "list_tables shows the tables of the base"


class DingTalkProvider(Provider):
    id = "dingtalk"
    title = "DingTalk"
    capabilities = Capabilities(
        field_types=FIELD_TYPES, views=False, native_sort=False, record_ids_on_create=True
    )
    limits = Limits(page_size=MAX_PAGE, create_batch=100, update_batch=100, delete_batch=100, get_batch=100)
    base_env = "DINGTALK_BASE_ID"
    required_env = ("DINGTALK_APP_KEY", "DINGTALK_APP_SECRET")

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.settings = settings
        SECRETS.add(settings.dingtalk_app_key, settings.dingtalk_app_secret)
        self.api = DingTalkApi(settings, transport, retry=retry)

    # ------------------------------------------------------------------------ the descriptor
    @classmethod
    def from_settings(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Self:
        return cls(settings, transport)

    @classmethod
    def masked_credentials(cls, settings: Settings) -> dict[str, str]:
        """The app key and secret masked, the rest as configured."""
        out: dict[str, str] = {}
        if settings.dingtalk_app_key:
            out["DINGTALK_APP_KEY"] = mask(settings.dingtalk_app_key)
        if settings.dingtalk_app_secret:
            out["DINGTALK_APP_SECRET"] = mask(settings.dingtalk_app_secret)
        if settings.dingtalk_operator_id:
            out["DINGTALK_OPERATOR_ID"] = settings.dingtalk_operator_id
        if settings.dingtalk_user_id:
            out["DINGTALK_USER_ID"] = settings.dingtalk_user_id
        if settings.dingtalk_base_id:
            out["DINGTALK_BASE_ID"] = settings.dingtalk_base_id
        return out

    @classmethod
    def parse_url(cls, url: str) -> tuple[str, str | None, str | None] | None:
        return parse_url(url)

    # ------------------------------------------------------------------------ configuration
    def default_base(self) -> str | None:
        return base_id(self.settings.dingtalk_base_id)

    async def check(self) -> str:
        await self.api.auth.tokens.get()
        operator = await self.api.auth.operator()
        line = f"access token fetched; operator unionId {operator}"
        base = self.default_base()
        if base:
            tables = await self.list_tables(base)
            line += f"; base {base} has {len(tables)} tables"
        return line

    async def aclose(self) -> None:
        await self.api.aclose()

    # ------------------------------------------------------------------------ tables
    async def list_tables(self, base: str) -> list[TableInfo]:
        return [
            TableInfo(id=str(s["id"]), name=str(s.get("name") or ""))
            for s in await self.api.list_sheets(base)
            if s.get("id")
        ]

    def _table_call(self, base: str, table: str, **kw: Any) -> Call:
        return Call(
            subject=f"table {table!r}",
            base=base,
            not_found_hint=f"it may have been deleted; {TABLES_HINT}",
            **kw,
        )

    async def _fields(self, base: str, table_id: str) -> list[dict[str, Any]]:
        return await self.api.list_fields(base, table_id, self._table_call(base, table_id))

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        async def sheet() -> Any:
            return await self.api.get_sheet(base, table_id, self._table_call(base, table_id))

        async def fields() -> Any:
            return await self._fields(base, table_id)

        info, raw_fields = await gather([sheet, fields], 2)
        return TableSchema(
            id=str(info.get("id") or table_id),
            name=str(info.get("name") or table_id),
            fields=fields_of({"value": raw_fields}),
        )

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        body: dict[str, Any] = {"name": name}
        if fields:
            body["fields"] = [native_field(spec) for spec in fields]
        call = Call(
            write=True,
            subject=f"the new table {name!r}",
            base=base,
            invalid_hint="check name and fields (unique names; types and options as list_providers and describe_table "
            "show them)",
        )

        async def reconcile() -> Any:  # the answer was lost: was the table made?
            for table in await self.list_tables(base):
                if table.name == name:
                    return {"id": table.id, "name": table.name}
            return NOT_APPLIED

        made = await self.api.request(
            "POST", SHEETS, call, ids={"baseId": base}, json=body, idempotent=False, reconcile=reconcile
        )
        return TableInfo(id=str(made.get("id")), name=str(made.get("name") or name))

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        call = self._table_call(
            base, table_id, write=True, invalid_hint="check name (table names are unique)"
        )
        made = await self.api.request(
            "PUT", SHEET, call, ids={"baseId": base, "sheetIdOrName": table_id}, json={"name": name}
        )
        return TableInfo(id=str(made.get("id") or table_id), name=str(made.get("name") or name))

    async def delete_table(self, base: str, table_id: str) -> None:
        async def reconcile() -> Any:
            gone = all(t.id != table_id for t in await self.list_tables(base))
            return {"success": True} if gone else NOT_APPLIED

        await self.api.request(
            "DELETE",
            SHEET,
            self._table_call(base, table_id, write=True),
            ids={"baseId": base, "sheetIdOrName": table_id},
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------ fields
    def _field_call(self, base: str, table: TableSchema, subject: str, **kw: Any) -> Call:
        return Call(
            write=True,
            subject=f"{subject} of table {table.name!r}",
            base=base,
            invalid_hint="check name and options (field names are unique in a table)",
            not_found_hint=f"describe_table shows the fields of the table; {TABLES_HINT}",
            **kw,
        )

    async def create_field(self, base: str, table: TableSchema, spec: FieldSpec) -> FieldInfo:
        ids = {"baseId": base, "sheetIdOrName": table.id}

        async def reconcile() -> Any:
            for raw in await self._fields(base, table.id):
                if raw.get("name") == spec.name:
                    return raw
            return NOT_APPLIED

        raw = await self.api.request(
            "POST",
            FIELDS,
            self._field_call(base, table, f"the new field {spec.name!r}"),
            ids=ids,
            json=native_field(spec),
            idempotent=False,
            reconcile=reconcile,
        )
        return field_info(raw, primary=False)

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        # The field's type cannot change: the update request has no type (§1.5 [SDK]); the tool has
        # no type argument either. Options are sent by name, as documented for create.
        body: dict[str, Any] = {"name": name if name is not None else field.name}
        if options is not None:
            body["property"] = {"choices": [{"name": o} for o in options]}
        ids = {"baseId": base, "sheetIdOrName": table.id, "fieldIdOrName": field.id}
        await self.api.request(
            "PUT", FIELD, self._field_call(base, table, f"field {field.name!r}"), ids=ids, json=body
        )
        for i, raw in enumerate(await self._fields(base, table.id)):  # the answer is only {"id"}
            if str(raw.get("id")) == field.id:
                return field_info(raw, primary=i == 0)
        raise NotFoundError(
            f"Field {field.name!r} is gone from table {table.name!r}; describe_table shows its fields."
        )

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        async def reconcile() -> Any:
            gone = all(str(raw.get("id")) != field.id for raw in await self._fields(base, table.id))
            return {"success": True} if gone else NOT_APPLIED

        await self.api.request(
            "DELETE",
            FIELD,
            self._field_call(base, table, f"field {field.name!r}"),
            ids={"baseId": base, "sheetIdOrName": table.id, "fieldIdOrName": field.id},
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------ reading records
    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        return compile_where(where)

    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page:
        body: dict[str, Any] = {"maxResults": max(1, min(request.page_size, MAX_PAGE))}
        if request.token:
            body["nextToken"] = request.token
        if request.native_filter:
            body["filter"] = request.native_filter
        if request.fields and len(request.fields) <= MAX_PROJECTION:
            by_name = table.field_by_name()
            body["fieldIdOrNames"] = [by_name[n].id for n in request.fields if n in by_name]
        call = self._table_call(
            base, table.name, invalid_hint="check where and fields against describe_table"
        )
        answer = await self.api.request(
            "POST", RECORDS_LIST, call, ids={"baseId": base, "sheetIdOrName": table.id}, json=body
        )
        read = record_reader(table)
        records = [read(raw) for raw in answer.get("records") or [] if isinstance(raw, dict)]
        token = answer.get("nextToken")
        # The end: hasMore false, or no next token (absent, null or ""). A token equal to the one
        # sent would read the same page forever.
        more = answer.get("hasMore") is not False
        if not (more and isinstance(token, str) and token and token != request.token):
            token = None
        return Page(records=records, next_token=token)

    @staticmethod
    def _record_call(base: str, table: TableSchema, record_id: str) -> Call:
        return Call(
            subject=f"record {record_id!r} in table {table.name!r}",
            base=base,
            not_found_hint="check the ids with query_records",
        )

    async def _read_many(self, base: str, table: TableSchema, ids: list[str]) -> list[dict[str, Any] | None]:
        """Each record of ``ids`` as DingTalk returns it (None: not there), one read per id: DingTalk
        has no batch read. When none is there, the table itself is checked (then every read says
        'not found' too)."""
        raws = await gather(
            [
                partial(self.api.get_record, base, table.id, rid, self._record_call(base, table, rid))
                for rid in ids
            ],
            GET_CONCURRENCY,
        )
        if ids and not any(raws):
            await self.api.get_sheet(base, table.id, self._table_call(base, table.name))
        return raws

    async def _exists(self, base: str, table: TableSchema, ids: list[str]) -> list[str]:
        """The ids among ``ids`` that are records of the table."""
        raws = await self._read_many(base, table, ids)
        return [rid for rid, raw in zip(ids, raws, strict=True) if raw is not None]

    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[Record]:
        read = record_reader(table)
        return [read(raw) for raw in await self._read_many(base, table, ids) if raw is not None]

    # ------------------------------------------------------------------------ writing records
    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:
        check_rows(table, rows)

    def _records_call(self, base: str, table: TableSchema, verb: str, **kw: Any) -> Call:
        return Call(
            write=True,
            subject=f"the records to {verb} in table {table.name!r}",
            base=base,
            invalid_hint=WRITE_VALUES_HINT,
            not_found_hint="a record id does not exist in the table (check the ids with query_records), or the table "
            f"was deleted ({TABLES_HINT})",
            **kw,
        )

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        """Insert one batch with its own clientToken (UUID v4). When the answer is lost, or DingTalk has
        a server error, or says it had this clientToken already, changedRecordIds tells what the batch
        made: ids found -> the batch is done, and they are taken to be in input order, as the insert
        answer's are (the documents do not say; a count that differs from the batch is an error, never
        guessed); none -> the batch is sent again with the same clientToken, so it is never stored twice."""
        write = row_writer(table)
        payload = {"records": [{"fields": write(row)} for row in rows]}
        client_token = str(uuid.uuid4())  # the same for every send of this batch: never inserted twice
        call = self._records_call(base, table, "create", insert=True)
        base_parse = api_parser(call)
        last_code: list[Any] = [None]

        def parse(response: httpx.Response) -> Any:
            try:
                return base_parse(response)
            except ProviderError as exc:
                last_code[0] = exc.code
                raise

        async def reconcile() -> Any:
            # The answer was lost, or DingTalk had a server error, or says it had this batch already:
            # the records the batch's clientToken made are the batch (none: it did not happen).
            try:
                ids = await self.api.changed_ids(base, client_token)
            except ProviderError as exc:
                raise ProviderError(
                    f"DingTalk did not confirm whether a batch of {len(rows)} records was stored, and checking "
                    f"failed ({exc.message}). Check with query_records before calling create_records again.",
                    kind="unknown_outcome",
                    provider=PROVIDER,
                    code=exc.code,
                    request_id=exc.request_id,
                ) from None
            if ids:
                log.info("insert answer lost or refused; clientToken shows %d records stored", len(ids))
                return {"value": [{"id": rid} for rid in ids]}
            if last_code[0] == DUPLICATE_TOKEN:
                raise ProviderError(
                    "DingTalk says this batch of records was sent before but shows no records for it; check with "
                    "query_records before calling create_records again.",
                    provider=PROVIDER,
                    code=DUPLICATE_TOKEN,
                )
            last_code[0] = None
            checked[0] = True
            return NOT_APPLIED  # not stored: sent again with the same clientToken

        checked = [False]  # the last check found the batch not stored
        try:
            answer = await self.api.request(
                "POST",
                RECORDS,
                call,
                ids={"baseId": base, "sheetIdOrName": table.id},
                params={"clientToken": client_token},
                json=payload,
                idempotent=False,
                reconcile=reconcile,
                parse=parse,
            )
        except ProviderError as exc:
            raise _known_not_applied(exc, checked[0]) from None
        ids = [
            str(item.get("id"))
            for item in answer.get("value") or []
            if isinstance(item, dict) and item.get("id")
        ]
        if len(ids) != len(rows):
            shown = ", ".join(ids[:20]) or "none"
            raise ProviderError(
                f"DingTalk stored {len(ids)} of a batch of {len(rows)} records (ids {shown}) without saying which "
                "input records they are; check with query_records, then create the missing ones.",
                provider=PROVIDER,
            )
        return CreateResult(ids=list(ids))

    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        write = row_writer(table)
        payload = {"records": [{"id": rid, "fields": write(values)} for rid, values in rows]}
        # The same values sent again change nothing more: safe to repeat after a lost answer.
        await self.api.request(
            "PUT",
            RECORDS,
            self._records_call(base, table, "update"),
            ids={"baseId": base, "sheetIdOrName": table.id},
            json=payload,
            idempotent=True,
        )

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        checked = [False]  # the last check found nothing deleted

        async def reconcile() -> Any:
            # The answer was lost (or a server error): which of the records are still there?
            remaining = await self._exists(base, table, ids)
            if not remaining:
                return {"success": True}
            if len(remaining) == len(ids):
                checked[0] = True
                return NOT_APPLIED  # nothing happened: sent again
            await self.delete_batch(base, table, remaining)
            return {"success": True}

        try:
            await self.api.request(
                "POST",
                RECORDS_DELETE,
                self._records_call(base, table, "delete"),
                ids={"baseId": base, "sheetIdOrName": table.id},
                json={"recordIds": ids},
                idempotent=False,
                reconcile=reconcile,
            )
        except ProviderError as exc:
            if exc.code != NOT_FOUND:
                raise _known_not_applied(exc, checked[0]) from None
            raise await self._missing_records(base, table, ids, exc) from None

    async def _missing_records(
        self, base: str, table: TableSchema, ids: list[str], exc: ProviderError
    ) -> ProviderError:
        """The error for a delete DingTalk refused because some ids are not records of the table."""
        present = await self._exists(base, table, ids)
        missing = [rid for rid in ids if rid not in present]
        if not missing:
            return exc
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        rest = (
            f"the other {len(present)} records of this batch are still there"
            if present
            else "no record of this batch is in the table now"
        )
        return ProviderError(
            f"No records with ids {shown} in table {table.name!r} (already deleted, or never there); {rest}. Leave "
            "those ids out of record_ids and call delete_records again.",
            provider=PROVIDER,
            code=exc.code,
            request_id=exc.request_id,
            status=exc.status,
        )


def _known_not_applied(exc: ProviderError, checked: bool) -> ProviderError:
    """A write given up on after its last check found it not applied has a known outcome: not done."""
    if exc.kind == "unknown_outcome" and checked:
        exc.kind = "fatal"
    return exc
