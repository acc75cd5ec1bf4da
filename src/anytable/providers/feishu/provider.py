"""The ``feishu`` provider: Feishu and Lark Bitable v1 behind the one Provider interface.

Bases are app_tokens (or their /base/ links); tables, fields, views and records map one to one.
The HTTP side (token, rate limits, retries, idempotency, per-table write serialisation) is in
``api``; value formats in ``values``; the filter in ``filters``; field types in ``fields``; share
links and hosts in ``urls``; error codes in ``errors``; the base settings of the feishu_* tools in
``admin`` (roles in ``roles``, view filters in ``viewfilter``).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar, Self

import anyio
import httpx

from anytable.config import Settings
from anytable.errors import ConfigError, InputError, NotSupportedError, ProviderError
from anytable.masking import NOT_SET, mask
from anytable.providers.base import (
    REMOTE_ID,
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
from .admin import NEEDS_TABLE, FeishuAdmin
from .api import BATCH, GET_BATCH, SEARCH_PAGE, FeishuApi
from .filters import FeishuFilter, compile_where
from .identity import auth_mode, user_identity
from .urls import api_base_url, parse_url
from .values import RecordReader, RecordWriter, check_rows

VIEW_TYPES = ("grid", "kanban", "gallery", "gantt", "form")  # A.3, A.23
USER_ID_TYPES = ("open_id", "union_id", "user_id")
REFUSED_FILTER_CODES = (1254018, 1254107)  # InvalidFilter, FilterLengthExceedLimit
MAX_REMEMBERED = 64


def user_id_type(settings: Settings) -> str:
    """FEISHU_USER_ID_TYPE, checked."""
    value = (settings.feishu_user_id_type or "open_id").strip()
    if value not in USER_ID_TYPES:
        raise ConfigError(
            f"FEISHU_USER_ID_TYPE={value!r} is not a Feishu user id type; use {', '.join(USER_ID_TYPES)}."
        )
    return value


class FeishuProvider(Provider):
    id = "feishu"
    id_shapes: ClassVar[dict[str, re.Pattern[str]]] = {
        "base": REMOTE_ID,
        "record": re.compile(r"rec[A-Za-z0-9_-]{1,60}"),
    }
    title = "Feishu/Lark"
    base_env = "FEISHU_APP_TOKEN"
    required_env = ("FEISHU_APP_ID", "FEISHU_APP_SECRET")
    # native_sort is False: no reference says where Feishu puts empty values when sorting, nor how
    # it orders text and options, while the contract puts empty values last in both directions.
    # Sorting in the server is right whatever Feishu does (a sorted query reads every match once).
    capabilities = Capabilities(
        field_types=ff.FIELD_TYPES,
        views=True,
        native_sort=False,
        native=["count"],
        attachments=["upload", "download"],
    )
    max_attachment_bytes = drive.MAX_FILE
    limits = Limits(
        page_size=SEARCH_PAGE,
        create_batch=BATCH,
        update_batch=BATCH,
        delete_batch=BATCH,
        get_batch=GET_BATCH,
        page_total=True,  # writes: the client holds its own per-table lock
    )

    def __init__(self, api: FeishuApi, *, app_token: str | None = None) -> None:
        self.api = api
        self.app_token = app_token
        # Filters a deployment refused (InvalidFilter): their queries are filtered here instead.
        self._refused: OrderedDict[str, None] = OrderedDict()
        # table id -> (rows, request body) of the next create batch, prepared ahead (prepare_create)
        self._ready: dict[str, tuple[list[dict[str, Any]], bytes]] = {}

    # ------------------------------------------------------------------ the descriptor
    @classmethod
    def from_settings(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Self:
        assert settings.feishu_app_id and settings.feishu_app_secret
        user = None
        if auth_mode(settings) != "tenant":
            user = user_identity(settings, transport)
            try:
                user.session = user.load()  # who list_providers shows before the first call
            except ConfigError:
                user.session = None  # an unreadable store: the first call says what is wrong
        api = FeishuApi(
            app_id=settings.feishu_app_id,
            app_secret=settings.feishu_app_secret,
            base_url=api_base_url(settings.feishu_domain),
            user_id_type=user_id_type(settings),
            transport=transport,
            identity=user,
        )
        return cls(api, app_token=settings.feishu_app_token)

    @classmethod
    def masked_credentials(cls, settings: Settings) -> dict[str, str]:
        try:
            domain = api_base_url(settings.feishu_domain)
        except ConfigError:
            domain = f"{settings.feishu_domain} (not a Feishu domain)"
        out = {
            "FEISHU_APP_ID": settings.feishu_app_id or NOT_SET,
            "FEISHU_APP_SECRET": mask(settings.feishu_app_secret),
            "FEISHU_DOMAIN": domain,
            "FEISHU_USER_ID_TYPE": settings.feishu_user_id_type,
            "FEISHU_AUTH": settings.feishu_auth,
        }
        if settings.feishu_app_token:
            out["FEISHU_APP_TOKEN"] = settings.feishu_app_token
        return out

    @classmethod
    def parse_url(cls, url: str) -> tuple[str, str | None, str | None] | None:
        return parse_url(url)

    # ------------------------------------------------------------------ the feishu tool group
    @classmethod
    def toolsets(cls) -> tuple[str, ...]:
        return (*super().toolsets(), "feishu")

    def admin_needs_table(self, action: str) -> bool:
        return action in NEEDS_TABLE

    async def administer(
        self, base: str, action: str, table: TableSchema | None, args: dict[str, Any], tz: tzinfo
    ) -> dict[str, Any]:
        return await FeishuAdmin(self.api, base, tz).run(action, table, args)

    # ------------------------------------------------------------------ configuration
    def default_base(self) -> str | None:
        return self.app_token

    def acting_as(self) -> dict[str, str]:
        """Who calls are made as: the app (tenant) or the signed-in user (masked), per FEISHU_AUTH."""
        user = self.api.identity
        return {
            "FEISHU_AUTH": user.describe() if user is not None else "tenant (the app's tenant_access_token)"
        }

    async def check(self) -> str:
        await self.api.tokens.get()
        user = self.api.identity
        if user is not None and user.in_use == "user":
            line = (
                f"acting as the user ({user.describe()}) through app {self.api.app_id} at {self.api.base_url}"
            )
        else:
            line = f"tenant_access_token for app {self.api.app_id} from {self.api.base_url}"
        if self.app_token:
            tables = await self.list_tables(self.app_token)
            line += f"; base {self.app_token} has {len(tables)} tables"
        return line

    async def aclose(self) -> None:
        await self.api.aclose()

    def _remember(self, app: str, table_id: str, name: str) -> None:
        self.api.table_names[(app, table_id)] = name

    # ------------------------------------------------------------------ tables
    async def list_tables(self, base: str) -> list[TableInfo]:
        out = []
        for item in await self.api.list_tables(base):
            info = TableInfo(id=str(item.get("table_id", "")), name=str(item.get("name", "")))
            self._remember(base, info.id, info.name)
            out.append(info)
        return out

    async def get_schema(self, base: str, table_id: str) -> TableSchema:
        lists: dict[str, list[dict[str, Any]]] = {}

        async def fetch(kind: str) -> None:
            call = self.api.list_fields if kind == "fields" else self.api.list_views
            lists[kind] = await call(base, table_id)

        async with anyio.create_task_group() as tg:  # two endpoints, two rate limits: at once
            tg.start_soon(fetch, "fields")
            tg.start_soon(fetch, "views")
        raw_fields, raw_views = lists["fields"], lists["views"]
        name = self.api.table_names.get((base, table_id))
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
        data = await self.api.create_table(base, table)
        table_id = str(data.get("table_id", ""))
        self._remember(base, table_id, name)
        return TableInfo(id=table_id, name=name)

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        data = await self.api.rename_table(base, table_id, name)
        new_name = str(data.get("name") or name)
        self._remember(base, table_id, new_name)
        return TableInfo(id=table_id, name=new_name)

    async def delete_table(self, base: str, table_id: str) -> None:
        await self.api.delete_table(base, table_id)
        self.api.table_names.pop((base, table_id), None)

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
        data = await self.api.create_field(base, table.id, ff.create_body(spec))
        return ff.field_info(data.get("field") or {})

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        body = ff.update_body(field, name, options)
        if body is None:
            return field  # nothing to change (Feishu would answer 1254606 DataNotChange)
        try:
            data = await self.api.update_field(base, table.id, field.id, body)
        except ProviderError as exc:
            if exc.code != 1254606:  # DataNotChange: it already is as asked
                raise
            current = await self.api.list_fields(base, table.id)
            data = {"field": next((f for f in current if f.get("field_id") == field.id), {})}
        raw = data.get("field") or {}
        if raw.get("is_primary") is None:
            raw = {**raw, "is_primary": field.primary}
        return ff.field_info(raw)

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        await self.api.delete_field(base, table.id, field.id)

    # ------------------------------------------------------------------ views
    async def create_view(self, base: str, table: TableSchema, name: str, view_type: str) -> dict[str, Any]:
        if view_type not in VIEW_TYPES:
            raise InputError(
                f"type {view_type!r} is not a Feishu view type; use one of {', '.join(VIEW_TYPES)}."
            )
        if any(v.name == name for v in table.views or []):
            raise InputError(f"Table {table.name!r} already has a view named {name!r}; pick another name.")
        data = await self.api.create_view(base, table.id, name, view_type)
        view = _view(data.get("view") or {})
        return {"id": view.id, "name": view.name, "type": view.type or view_type}

    async def delete_view(self, base: str, table: TableSchema, view_id: str) -> None:
        await self.api.delete_view(base, table.id, view_id)

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
        data = await self.api.search_records(
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
            data = await self.api.batch_get(base, table.id, ids)
        except ProviderError as exc:
            if exc.status != 404 or exc.code is not None:
                raise
            return [read(raw) for raw in await self._get_one_by_one(base, table, ids)]  # no batch_get here
        return [read(item) for item in data.get("records") or [] if isinstance(item, dict)]

    async def _get_one_by_one(self, base: str, table: TableSchema, ids: list[str]) -> list[dict[str, Any]]:
        found = []
        for rid in ids:
            try:
                data = await self.api.get_record(base, table.id, rid)
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

    def prepare_create(self, table: TableSchema, rows: list[dict[str, Any]]) -> None:
        """The batch's request body, converted and encoded ahead (worker thread): one per table."""
        self._ready[table.id] = (rows, self._create_body(table, rows))

    @staticmethod
    def _create_body(table: TableSchema, rows: list[dict[str, Any]]) -> bytes:
        write = RecordWriter(table)
        return FeishuApi.records_body([{"fields": write(row)} for row in rows])

    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        ready = self._ready.pop(table.id, None)
        body = ready[1] if ready is not None and ready[0] is rows else self._create_body(table, rows)
        data = await self.api.batch_create(base, table.id, body)
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
        await self.api.batch_update(
            base, table.id, [{"record_id": rid, "fields": write(values)} for rid, values in rows]
        )

    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None:
        await self.api.batch_delete(base, table.id, ids)

    # ------------------------------------------------------------------------ attachments
    async def upload_file(
        self, base: str, table: TableSchema, record_id: str, path: Path, sent: Sent
    ) -> dict[str, Any]:
        return {"file_token": await drive.upload(self.api, base, path, sent)}

    def read_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> AsyncIterator[bytes]:
        token = item.get("file_token")
        if not isinstance(token, str) or not token:
            raise InputError(f"Attachment {item.get('name')!r} has no file_token; it cannot be downloaded.")
        size = item.get("size")
        return drive.download(self.api, base, token, size if isinstance(size, int) and size > 0 else None)


def _view(raw: dict[str, Any]) -> ViewInfo:
    return ViewInfo(
        id=str(raw.get("view_id", "")),
        name=str(raw.get("view_name", "")),
        type=raw.get("view_type") if isinstance(raw.get("view_type"), str) else None,
    )
