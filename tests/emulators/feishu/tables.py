"""Feishu emulator: the tables endpoints.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import BAD_NAME_CHARS, DUPLEX_LINK, INDEX_TYPES, LINK_TYPES, TEXT, App, Field, Table, View

if TYPE_CHECKING:
    from .emulator import Ctx


class TablesMixin:
    """Feishu emulator: the tables endpoints (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ tables

    async def _tables_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        items = [
            {"table_id": t.table_id, "revision": t.revision, "name": t.name} for t in app.tables.values()
        ]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    def _check_table_name(self, app: App, name: Any, *, exclude: str | None = None) -> str:
        if not isinstance(name, str):
            raise FeishuError(1254001)
        name = name.strip()
        if not name or len(name) > 100 or BAD_NAME_CHARS.search(name):
            raise FeishuError(1254001)
        if any(t.name == name and t.table_id != exclude for t in app.tables.values()):
            raise FeishuError(1254013)
        return name

    def _create_table(self, app: App, spec: Any) -> Table:
        if not isinstance(spec, dict):
            raise FeishuError(1254001)
        name = self._check_table_name(app, spec.get("name"))
        if len(app.tables) >= self.max_tables:
            raise FeishuError(1254100)
        fields_in = spec.get("fields")
        if fields_in is None:
            fields_in = [{"field_name": "多行文本", "type": TEXT}]
        if not isinstance(fields_in, list) or not fields_in:
            raise FeishuError(1254001)
        if len(fields_in) > self.max_fields:
            raise FeishuError(1254105)
        table = Table(self._new_id("tbl", 13), name)
        built: list[Field] = []
        names: set[str] = set()
        for raw in fields_in:
            f = self._build_field(app, table, raw, None)
            if f.name in names:
                raise FeishuError(1254014)
            names.add(f.name)
            built.append(f)
        if built[0].type not in INDEX_TYPES:
            raise FeishuError(1254001)
        view_name = spec.get("default_view_name")
        if view_name is not None and (not isinstance(view_name, str) or not view_name.strip()):
            raise FeishuError(1254001)
        view = View(self._new_id("vew", 7), (view_name or "表格").strip())
        app.tables[table.table_id] = table
        for f in built:
            table.fields[f.field_id] = f
            if f.type == DUPLEX_LINK:
                self._create_back_field(app, table, f)
        table.views[view.view_id] = view
        app.revision += 1
        return table

    async def _tables_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        table = self._create_table(app, body.get("table"))
        return {
            "table_id": table.table_id,
            "default_view_id": next(iter(table.views)),
            "field_id_list": list(table.fields),
        }

    async def _tables_batch_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        specs = body.get("tables")
        if not isinstance(specs, list) or not specs:
            raise FeishuError(1254001)
        names = [
            s.get("name").strip() if isinstance(s, dict) and isinstance(s.get("name"), str) else s
            for s in specs
        ]
        if len(set(map(str, names))) != len(names):
            raise FeishuError(1254013)
        for spec in specs:  # validate everything before creating anything
            if not isinstance(spec, dict):
                raise FeishuError(1254001)
            self._check_table_name(app, spec.get("name"))
        if len(app.tables) + len(specs) > self.max_tables:
            raise FeishuError(1254100)
        ids = [self._create_table(app, {"name": s["name"]}).table_id for s in specs]
        return {"table_ids": ids}

    async def _tables_patch(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        name = body.get("name")
        async with self._writing(table):
            # A.12: an empty name or the old name succeeds without a change.
            if isinstance(name, str) and name.strip() and name.strip() != table.name:
                table.name = self._check_table_name(app, name, exclude=table.table_id)
                table.touch()
            elif name is not None and not isinstance(name, str):
                raise FeishuError(1254001)
        return {"name": table.name}

    def _drop_table(self, app: App, table: Table) -> None:
        del app.tables[table.table_id]
        for other in app.tables.values():
            for f in list(other.fields.values()):
                points_here = f.type in LINK_TYPES and (f.property or {}).get("table_id") == table.table_id
                if points_here and f is not other.primary:
                    self._remove_field(other, f)
        app.revision += 1

    async def _tables_delete(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        if len(app.tables) <= 1:
            raise FeishuError(1254034)
        async with self._writing(table):
            self._drop_table(app, table)
        return {}

    async def _tables_batch_delete(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        ids = body.get("table_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        unique = list(dict.fromkeys(ids))
        for table_id in unique:
            if table_id not in app.tables:
                raise FeishuError(1254041)
            if app.tables[table_id].writing:
                raise FeishuError(1254291)
        if len(unique) >= len(app.tables):
            raise FeishuError(1254034)
        for table_id in unique:
            self._drop_table(app, app.tables[table_id])
        return {}
