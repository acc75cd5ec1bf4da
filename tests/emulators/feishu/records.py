"""Feishu emulator: the records endpoints (search, list, get, batch writes, idempotency).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .formula import FormulaFilter
from .state import DUPLEX_LINK, App, Field, Table

if TYPE_CHECKING:
    from .emulator import Ctx


class RecordsMixin:
    """Feishu emulator: the records endpoints (search, list, get, batch writes, idempotency) (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ records endpoints

    async def _records_search(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        size = self._page_size(ctx, 500)
        offset = self._page_offset(ctx)
        body = self._body(ctx, required=False)
        index = table.by_name()
        view = None
        if body.get("view_id") is not None:
            if not isinstance(body["view_id"], str):
                raise FeishuError(1254001)
            view = self._view(table, body["view_id"])
        only = None
        names = body.get("field_names")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise FeishuError(1254001)
            if any(n not in index for n in names):
                raise FeishuError(1254045)
            only = [index[n] for n in dict.fromkeys(names)]
        sort: list[tuple[Field, bool]] = []
        raw_sort = body.get("sort")
        if raw_sort is not None:
            if not isinstance(raw_sort, list):
                raise FeishuError(1254016)
            for item in raw_sort:
                if not isinstance(item, dict) or not isinstance(item.get("field_name"), str):
                    raise FeishuError(1254016)
                if item["field_name"] not in index:
                    raise FeishuError(1254045)
                desc = item.get("desc", False)
                if not isinstance(desc, bool):
                    raise FeishuError(1254016)
                sort.append((index[item["field_name"]], desc))
        automatic = body.get("automatic_fields", False)
        if not isinstance(automatic, bool):
            raise FeishuError(1254001)
        predicate = self._compile_filter(app, table, body.get("filter"), id_type)
        if predicate is None and view is not None:
            predicate = self._compile_view_filter(app, table, view)
        cache_key = json.dumps(
            ["search", body.get("filter"), body.get("sort"), body.get("view_id"), id_type, self._stamp(app)],
            sort_keys=True,
        )
        ids = self._query(app, table, cache_key, predicate, sort)
        hidden = set(view.hidden_fields or []) if view is not None and only is None else None
        page = ids[offset : offset + size]
        items = [
            self._render_record(
                app,
                table,
                table.records[rid],
                "search",
                id_type,
                only=only,
                hidden=hidden,
                automatic=automatic,
            )
            for rid in page
        ]
        has_more = offset + size < len(ids)
        data: dict[str, Any] = {"has_more": has_more, "items": items, "total": len(ids)}
        if has_more:
            data["page_token"] = self._page_token(offset + size)
        return data

    async def _records_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        q = ctx.query
        id_type = self._user_id_type(q.get("user_id_type"))
        size = self._page_size(ctx, 500)
        offset = self._page_offset(ctx)
        index = table.by_name()
        only = None
        if q.get("field_names"):
            try:
                names = json.loads(q["field_names"])
            except ValueError:
                raise FeishuError(1254024) from None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise FeishuError(1254024)
            if any(n not in index for n in names):
                raise FeishuError(1254045)
            only = [index[n] for n in dict.fromkeys(names)]
        formula = q.get("filter") or ""
        if len(formula) > 2000:
            raise FeishuError(1254107)
        predicate = FormulaFilter(self, app, table, formula).compile() if formula else None
        sort: list[tuple[Field, bool]] = []
        raw_sort = q.get("sort") or ""
        if len(raw_sort) > 1000:
            raise FeishuError(1254108)
        if raw_sort:
            try:
                items_sort = json.loads(raw_sort)
            except ValueError:
                raise FeishuError(1254016) from None
            if not isinstance(items_sort, list) or not all(isinstance(s, str) for s in items_sort):
                raise FeishuError(1254016)
            for spec in items_sort:
                name, desc = spec.strip(), False
                head, _, tail = name.rpartition(" ")
                if head and tail.upper() in ("ASC", "DESC"):
                    name, desc = head.strip(), tail.upper() == "DESC"
                if name not in index:
                    raise FeishuError(1254016)
                sort.append((index[name], desc))
        view = None
        view_id = q.get("view_id")
        if view_id and not formula and not raw_sort:  # A.30: "如filter或sort有值, view_id会被忽略"
            view = self._view(table, view_id)
            predicate = self._compile_view_filter(app, table, view)
        cache_key = json.dumps(["list", formula, raw_sort, view.view_id if view else None, self._stamp(app)])
        ids = self._query(app, table, cache_key, predicate, sort)
        hidden = set(view.hidden_fields or []) if view is not None and only is None else None
        automatic = self._flag(ctx, "automatic_fields")
        as_array = self._flag(ctx, "text_field_as_array")
        page = ids[offset : offset + size]
        items = [
            self._render_record(
                app,
                table,
                table.records[rid],
                "list",
                id_type,
                only=only,
                hidden=hidden,
                automatic=automatic,
                as_array=as_array,
            )
            for rid in page
        ]
        has_more = offset + size < len(ids)
        data: dict[str, Any] = {"has_more": has_more, "items": items, "total": len(ids)}
        if has_more:
            data["page_token"] = self._page_token(offset + size)
        return data

    async def _records_get(self, ctx: Ctx, app_token: str, table_id: str, record_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        record = table.records.get(record_id)
        if record is None:
            raise FeishuError(1254043)
        out = self._render_record(
            app,
            table,
            record,
            "get",
            id_type,
            automatic=self._flag(ctx, "automatic_fields"),
            as_array=self._flag(ctx, "text_field_as_array"),
        )
        if self._flag(ctx, "with_shared_url"):
            out["record_url"] = f"https://example.feishu.cn/record/{record_id}"
        return {"record": out}

    async def _records_batch_get(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        ids = body.get("record_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        if len(ids) > self.batch_get_limit:
            raise FeishuError(1254104)
        id_type = self._user_id_type(body.get("user_id_type") or ctx.query.get("user_id_type"))
        automatic = bool(body.get("automatic_fields", False))
        shared = bool(body.get("with_shared_url", False))
        records, absent = [], []
        for rid in dict.fromkeys(ids):
            record = table.records.get(rid)
            if record is None:
                absent.append(rid)
                continue
            item = self._render_record(app, table, record, "search", id_type, automatic=automatic)
            if shared:
                item["shared_url"] = f"https://example.feishu.cn/record/{rid}"
            records.append(item)
        return {"records": records, "absent_record_ids": absent, "forbidden_record_ids": []}

    async def _records_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            validated = self._validate_fields(app, table, body.get("fields"), id_type)
            if len(table.records) + 1 > self.max_records_per_table:
                raise FeishuError(1254103)
            record = self._insert(app, table, validated)
            table.touch()
            data = {"record": self._echo(record, validated)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_batch_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        items = body.get("records")
        if not isinstance(items, list):
            raise FeishuError(1254001)
        if len(items) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            validated = []
            index = table.by_name()
            for item in items:
                if not isinstance(item, dict):
                    raise FeishuError(1254001)
                validated.append(self._validate_fields(app, table, item.get("fields"), id_type, index))
            if len(table.records) + len(items) > self.max_records_per_table:
                raise FeishuError(1254103)
            now = self._now_ms()
            known: dict[str, dict[str, str]] = {}  # select options by name, for this batch
            created = [self._insert(app, table, v, now, known) for v in validated]
            table.touch()
            # The echo is each record's fields as sent (what _echo builds, without a copy of each)
            data = {
                "records": [
                    {"fields": item["fields"], "id": r.record_id, "record_id": r.record_id}
                    for r, item in zip(created, items, strict=True)
                ]
            }
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_update(
        self, ctx: Ctx, app_token: str, table_id: str, record_id: str
    ) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            record = table.records.get(record_id)
            if record is None:
                raise FeishuError(1254043)
            validated = self._validate_fields(app, table, body.get("fields"), id_type)
            self._apply(app, table, record, validated)
            table.touch()
            data = {"record": self._echo(record, validated)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_batch_update(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        items = body.get("records")
        if not isinstance(items, list):
            raise FeishuError(1254001)
        if len(items) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            plan = []
            index = table.by_name()
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("record_id"), str):
                    raise FeishuError(1254001)
                record = table.records.get(item["record_id"])
                if record is None:
                    raise FeishuError(1254043)
                plan.append((record, self._validate_fields(app, table, item.get("fields"), id_type, index)))
            for record, validated in plan:
                self._apply(app, table, record, validated)
            table.touch()
            data = {"records": [self._echo(r, v) for r, v in plan]}
        self._idem_store(key, fingerprint, data)
        return data

    def _delete_records(self, app: App, table: Table, ids: list[str]) -> None:
        doomed = set(ids)
        for rid in ids:
            record = table.records.pop(rid)
            for f in table.fields.values():
                if f.type == DUPLEX_LINK and record.values.get(f.field_id):
                    self._sync_back_links(app, table, f, rid, record.values[f.field_id], [])
        self._unlink_deleted(app, table, doomed)
        table.touch()

    async def _records_delete(
        self, ctx: Ctx, app_token: str, table_id: str, record_id: str
    ) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        async with self._writing(table):
            if record_id not in table.records:
                raise FeishuError(1254043)
            self._delete_records(app, table, [record_id])
        return {"deleted": True, "record_id": record_id}

    async def _records_batch_delete(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        ids = body.get("records")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        if len(ids) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            unique = list(dict.fromkeys(ids))
            if any(rid not in table.records for rid in unique):
                raise FeishuError(1254043)
            self._delete_records(app, table, unique)
        return {"records": [{"deleted": True, "record_id": rid} for rid in ids]}
