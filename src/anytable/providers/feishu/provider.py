"""The ``feishu`` provider: Feishu and Lark Bitable v1 behind the one Provider interface.

Bases are app_tokens (or their /base/ links); tables, fields, views and records map one to one.
The HTTP side (token, rate limits, retries, idempotency, per-table write serialisation) is in
``client``; value formats in ``values``; the filter in ``filters``; field types in ``fields``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from anytable.errors import InputError, NotSupportedError, ProviderError
from anytable.providers.base import (
    Capabilities,
    CompiledFilter,
    CreateResult,
    Limits,
    Page,
    PageRequest,
    Provider,
    Record,
    Sent,
)
from anytable.providers.evaluate import matches
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema, ViewInfo
from anytable.schemas.filters import Node, fields_of

from . import drive
from . import fields as ff
from .client import BATCH, GET_BATCH, SEARCH_PAGE, FeishuClient
from .filters import FeishuFilter, compile_where
from .links import parse_url
from .values import RecordReader, RecordWriter, check_rows

VIEW_TYPES = ("grid", "kanban", "gallery", "gantt", "form")  # A.3, A.23
USER_ID_TYPES = ("open_id", "union_id", "user_id")
REFUSED_FILTER_CODES = (1254018, 1254107)  # InvalidFilter, FilterLengthExceedLimit
MAX_REMEMBERED = 64


class FeishuProvider(Provider):
    id = "feishu"
    title = "Feishu/Lark"
    base_env = "FEISHU_APP_TOKEN"
    # native_sort is False: no reference says where Feishu puts empty values when sorting, nor how
    # it orders text and options, while the contract puts empty values last in both directions.
    # Sorting in the server is right whatever Feishu does (a sorted query reads every match once).
    capabilities = Capabilities(
        field_types=ff.FIELD_TYPES, views=True, native_sort=False, attachments=["upload", "download"]
    )
    max_attachment_bytes = drive.MAX_FILE
    limits = Limits(
        page_size=SEARCH_PAGE,
        create_batch=BATCH,
        update_batch=BATCH,
        delete_batch=BATCH,
        get_batch=GET_BATCH,
        serialize_writes=True,
    )

    def __init__(self, client: FeishuClient, *, app_token: str | None = None) -> None:
        self.client = client
        self.app_token = app_token
        # Filters a deployment refused (InvalidFilter): their queries are filtered here instead.
        self._refused: OrderedDict[str, None] = OrderedDict()

    # ------------------------------------------------------------------ configuration
    def credentials(self) -> dict[str, str]:
        out = {
            "FEISHU_APP_ID": self.client.app_id,
            "FEISHU_APP_SECRET": self.client.masked_secret,
            "FEISHU_DOMAIN": self.client.base_url,
            "FEISHU_USER_ID_TYPE": self.client.user_id_type,
        }
        if self.app_token:
            out["FEISHU_APP_TOKEN"] = self.app_token
        return out

    def default_base(self) -> str | None:
        return self.app_token

    def parse_url(self, url: str) -> tuple[str, str | None, str | None] | None:
        return parse_url(url)

    async def check(self) -> str:
        await self.client.tokens.get()
        line = f"tenant_access_token for app {self.client.app_id} from {self.client.base_url}"
        if self.app_token:
            tables = await self.list_tables(self.app_token)
            line += f"; base {self.app_token} has {len(tables)} tables"
        return line

    async def aclose(self) -> None:
        await self.client.aclose()

    def _remember(self, app: str, table_id: str, name: str) -> None:
        self.client.table_names[(app, table_id)] = name

    # ------------------------------------------------------------------ tables
    async def list_tables(self, base: str) -> list[TableInfo]:
        out = []
        for item in await self.client.list_tables(base):
            info = TableInfo(id=str(item.get("table_id", "")), name=str(item.get("name", "")))
            self._remember(base, info.id, info.name)
            out.append(info)
        return out

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        lists: dict[str, list[dict[str, Any]]] = {}

        async def fetch(kind: str) -> None:
            call = self.client.list_fields if kind == "fields" else self.client.list_views
            lists[kind] = await call(base, table_id)

        async with anyio.create_task_group() as tg:  # two endpoints, two rate limits: at once
            tg.start_soon(fetch, "fields")
            tg.start_soon(fetch, "views")
        raw_fields, raw_views = lists["fields"], lists["views"]
        name = self.client.table_names.get((base, table_id))
        if name is None:
            name = next((t.name for t in await self.list_tables(base) if t.id == table_id), table_id)
        return TableSchema(
            id=table_id,
            name=name,
            fields=[ff.field_info(f) for f in raw_fields],
            views=[_view(v) for v in raw_views],
        )

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        specs = list(fields) or [FieldSpec(name="Name", type=FieldType.text)]
        ff.check_primary(specs[0])
        table = {"name": name, "fields": [ff.create_body(s) for s in specs]}
        data = await self.client.create_table(base, table)
        table_id = str(data.get("table_id", ""))
        self._remember(base, table_id, name)
        return TableInfo(id=table_id, name=name)

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        data = await self.client.rename_table(base, table_id, name)
        new_name = str(data.get("name") or name)
        self._remember(base, table_id, new_name)
        return TableInfo(id=table_id, name=new_name)

    async def delete_table(self, base: str, table_id: str) -> None:
        await self.client.delete_table(base, table_id)
        self.client.table_names.pop((base, table_id), None)

    # ------------------------------------------------------------------ fields
    def check_field_type(self, spec: FieldSpec) -> None:
        if spec.type not in ff.CREATE:
            why = (
                "the contract cannot give a formula's expression"
                if spec.type is FieldType.formula
                else "Feishu has no such field type to create"
            )
            raise NotSupportedError(
                f"Field {spec.name!r}: type {spec.type.value!r} cannot be created on Feishu ({why}); use one of "
                f"{', '.join(ff.FIELD_TYPES)}."
            )

    async def create_field(self, base: str, table: TableSchema, spec: FieldSpec) -> FieldInfo:
        data = await self.client.create_field(base, table.id, ff.create_body(spec))
        return ff.field_info(data.get("field") or {})

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        body = ff.update_body(field, name, options)
        if body is None:
            return field  # nothing to change (Feishu would answer 1254606 DataNotChange)
        try:
            data = await self.client.update_field(base, table.id, field.id, body)
        except ProviderError as exc:
            if exc.code != 1254606:  # DataNotChange: it already is as asked
                raise
            current = await self.client.list_fields(base, table.id)
            data = {"field": next((f for f in current if f.get("field_id") == field.id), {})}
        raw = data.get("field") or {}
        if raw.get("is_primary") is None:
            raw = {**raw, "is_primary": field.primary}
        return ff.field_info(raw)

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        await self.client.delete_field(base, table.id, field.id)

    # ------------------------------------------------------------------ views
    async def create_view(self, base: str, table: TableSchema, name: str, view_type: str) -> dict[str, Any]:
        if view_type not in VIEW_TYPES:
            raise InputError(
                f"type {view_type!r} is not a Feishu view type; use one of {', '.join(VIEW_TYPES)}."
            )
        if any(v.name == name for v in table.views or []):
            raise InputError(f"Table {table.name!r} already has a view named {name!r}; pick another name.")
        data = await self.client.create_view(base, table.id, name, view_type)
        view = _view(data.get("view") or {})
        return {"id": view.id, "name": view.name, "type": view.type or view_type}

    async def delete_view(self, base: str, table: TableSchema, view_id: str) -> None:
        await self.client.delete_view(base, table.id, view_id)

    # ------------------------------------------------------------------ records: reading
    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        return compile_where(where)

    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page:
        native: FeishuFilter | None = request.native_filter
        # Filtered here: with a view (Feishu would apply our filter instead of the view's), or when
        # this deployment refused the filter before.
        local = native is not None and (request.view is not None or native.key in self._refused)
        try:
            return await self._search(base, table, request, native, local)
        except ProviderError as exc:
            if native is None or local or exc.code not in REFUSED_FILTER_CODES:
                raise
            self._refused[native.key] = None
            while len(self._refused) > MAX_REMEMBERED:
                self._refused.popitem(last=False)
            return await self._search(base, table, request, native, True)

    async def _search(
        self, base: str, table: TableSchema, request: PageRequest, native: FeishuFilter | None, local: bool
    ) -> Page:
        body: dict[str, Any] = {"automatic_fields": False}
        if request.view:
            body["view_id"] = request.view
        names = request.fields
        if local and native is not None and names is not None:
            wanted = set(names) | fields_of(native.node)
            names = [f.name for f in table.fields if f.name in wanted]
        if request.view and names is None:
            names = [f.name for f in table.fields]  # a view's hidden fields are still the table's
        if names:
            body["field_names"] = names
        if native is not None and not local and native.filter is not None:
            body["filter"] = native.filter
        data = await self.client.search_records(
            base,
            table.id,
            body,
            page_size=max(1, min(request.page_size, SEARCH_PAGE)),
            page_token=request.token,
        )
        read = RecordReader(table)
        records = [read(item) for item in data.get("items") or [] if isinstance(item, dict)]
        if local and native is not None:
            records = [r for r in records if matches(native.node, r)]
        token = data.get("page_token") if data.get("has_more") else None
        total = data.get("total") if isinstance(data.get("total"), int) and not local else None
        return Page(records=records, next_token=token or None, total=total)

    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[Record]:
        read = RecordReader(table)
        try:
            data = await self.client.batch_get(base, table.id, ids)
        except ProviderError as exc:
            if exc.status != 404 or exc.code is not None:
                raise
            return [read(raw) for raw in await self._get_one_by_one(base, table, ids)]  # no batch_get here
        return [read(item) for item in data.get("records") or [] if isinstance(item, dict)]

    async def _get_one_by_one(self, base: str, table: TableSchema, ids: list[str]) -> list[dict[str, Any]]:
        found = []
        for rid in ids:
            try:
                data = await self.client.get_record(base, table.id, rid)
            except ProviderError as exc:
                if exc.code in (1254043, 1254006):  # RecordIdNotFound, WrongRecordId: missing
                    continue
                raise
            if isinstance(data.get("record"), dict):
                found.append(data["record"])
        return found

    # ------------------------------------------------------------------ records: writing
    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:
        check_rows(table, rows)

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        write = RecordWriter(table)
        data = await self.client.batch_create(base, table.id, [{"fields": write(row)} for row in rows])
        created = [r for r in data.get("records") or [] if isinstance(r, dict)]
        if len(created) != len(rows):
            raise ProviderError(
                f"Feishu answered batch_create with {len(created)} records for {len(rows)} sent; check the table "
                "with query_records before writing again.",
                provider="feishu",
            )
        return CreateResult(ids=[str(r.get("record_id") or r.get("id")) for r in created])

    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        write = RecordWriter(table)
        await self.client.batch_update(
            base, table.id, [{"record_id": rid, "fields": write(values)} for rid, values in rows]
        )

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        await self.client.batch_delete(base, table.id, ids)

    # ------------------------------------------------------------------------ attachments
    async def upload_file(
        self, base: str, table: TableSchema, record_id: str, path: Path, sent: Sent
    ) -> dict[str, Any]:
        return {"file_token": await drive.upload(self.client, base, path, sent)}

    def read_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> AsyncIterator[bytes]:
        token = item.get("file_token")
        if not isinstance(token, str) or not token:
            raise InputError(f"Attachment {item.get('name')!r} has no file_token; it cannot be downloaded.")
        size = item.get("size")
        return drive.download(self.client, base, token, size if isinstance(size, int) and size > 0 else None)


def _view(raw: dict[str, Any]) -> ViewInfo:
    return ViewInfo(
        id=str(raw.get("view_id", "")),
        name=str(raw.get("view_name", "")),
        type=raw.get("view_type") if isinstance(raw.get("view_type"), str) else None,
    )
