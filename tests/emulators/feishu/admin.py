"""Feishu emulator: app metadata, dashboards and forms.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import BAD_NAME_CHARS, DUPLEX_LINK, READ_ONLY_TYPES, SHARED_LIMITS, Table, View

if TYPE_CHECKING:
    from .emulator import Ctx


class AdminMixin:
    """Feishu emulator: app metadata, dashboards and forms (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ app metadata (A.10, A.11)

    async def _app_get(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        return {
            "app": {
                "app_token": app.app_token,
                "name": app.name,
                "revision": app.revision,
                "is_advanced": app.is_advanced,
            }
        }

    async def _app_update(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        name, advanced = body.get("name"), body.get("is_advanced")
        if name is not None and not isinstance(name, str):
            raise FeishuError(1254001)
        if advanced is not None and not isinstance(advanced, bool):
            raise FeishuError(1254001)
        if isinstance(name, str):
            name = name.strip()
            if not name or len(name) > 100 or BAD_NAME_CHARS.search(name):
                raise FeishuError(1254031)
        # A.11: "非原子操作,先修改多维表格名字,后开关高级权限。可能存在部分成功的情况".
        if name is not None and name != app.name:
            app.name = name
            app.revision += 1
        if advanced is not None and advanced != app.is_advanced:
            if advanced and not app.advanced_allowed:
                raise FeishuError(1254301)
            app.is_advanced = advanced
            app.advanced_ready_at = self.clock.now() + self.advanced_delay if advanced else 0.0
            app.revision += 1
        return {"app": {"app_token": app.app_token, "name": app.name, "is_advanced": app.is_advanced}}

    # ------------------------------------------------------------------ dashboards (A.18, A.19)

    async def _dashboards_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        items = [dict(d) for d in app.dashboards.values()]
        page, meta = self._paginate(ctx, items, 500)
        meta.pop("total", None)  # A.19 answers dashboards, page_token, has_more
        return {"dashboards": page, **meta}

    async def _dashboards_copy(self, ctx: Ctx, app_token: str, block_id: str) -> dict[str, Any]:
        app = self._app(app_token)
        source = app.dashboards.get(block_id)
        if source is None:
            raise FeishuError(1254050)
        name = self._body(ctx).get("name")
        if not isinstance(name, str):
            raise FeishuError(1254001)
        name = name.strip()
        if not name or len(name) > 100 or "[" in name or "]" in name:
            raise FeishuError(1254038)
        if any(d["name"] == name for d in app.dashboards.values()):
            raise FeishuError(1254039)
        new_id = self._new_id("blk", 13)
        app.dashboards[new_id] = {"block_id": new_id, "name": name}
        return {"block_id": new_id, "name": name}

    # ------------------------------------------------------------------ forms (A.25-A.28)

    def _form_view(self, app_token: str, table_id: str, form_id: str) -> tuple[Table, View]:
        _, table = self._app_table(app_token, table_id)
        view = table.views.get(form_id)
        if view is None:
            raise FeishuError(1254042)
        if view.type != "form" or view.form is None:
            raise FeishuError(1254005)  # a view, but not a form
        return table, view

    def _questions(self, table: Table, view: View) -> list[tuple[str, dict[str, Any]]]:
        """The form's questions in order: one per writable field of the table."""
        current = {
            fid: f
            for fid, f in table.fields.items()
            if f.type not in READ_ONLY_TYPES and f.type != DUPLEX_LINK
        }
        for fid in [q for q in view.questions if q not in current]:
            del view.questions[fid]
        for fid, f in current.items():
            if fid not in view.questions:
                view.questions[fid] = {"title": f.name, "description": "", "required": False, "visible": True}
        return list(view.questions.items())

    async def _forms_get(self, ctx: Ctx, app_token: str, table_id: str, form_id: str) -> dict[str, Any]:
        _, view = self._form_view(app_token, table_id, form_id)
        return {"form": dict(view.form or {})}

    async def _forms_patch(self, ctx: Ctx, app_token: str, table_id: str, form_id: str) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        body = self._body(ctx)
        types = {
            "name": str,
            "description": str,
            "shared": bool,
            "shared_limit": str,
            "submit_limit_once": bool,
        }
        changes = {k: body[k] for k in types if body.get(k) is not None}
        for key, value in changes.items():
            if not isinstance(value, types[key]):
                raise FeishuError(1254001)
        if "name" in changes and not changes["name"].strip():
            raise FeishuError(1254001)
        if "shared_limit" in changes and changes["shared_limit"] not in SHARED_LIMITS:
            raise FeishuError(1254001)
        async with self._writing(table):
            form = view.form or {}
            form.update(changes)
            if form.get("shared") and not form.get("shared_url"):
                form["shared_url"] = "https://bytedance.feishu.cn/share/base/" + self._new_id("shrcn", 22)
            table.touch()
        return {"form": dict(form)}

    async def _form_fields_list(
        self, ctx: Ctx, app_token: str, table_id: str, form_id: str
    ) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        items = [{"field_id": fid, **q} for fid, q in self._questions(table, view)]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    async def _form_fields_patch(
        self, ctx: Ctx, app_token: str, table_id: str, form_id: str, field_id: str
    ) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        questions = dict(self._questions(table, view))
        if field_id not in questions:
            raise FeishuError(1254049)
        body = self._body(ctx)
        types = {"pre_field_id": str, "title": str, "description": str, "required": bool, "visible": bool}
        changes = {k: body[k] for k in types if body.get(k) is not None}
        for key, value in changes.items():
            if not isinstance(value, types[key]):
                raise FeishuError(1254001)
        if "title" in changes and not changes["title"].strip():
            raise FeishuError(1254001)
        # A.27 visible: "当值为 false 时,不允许更新其他字段" - a hidden question takes no other change.
        visible = changes.get("visible", questions[field_id]["visible"])
        if not visible and set(changes) - {"visible"}:
            raise FeishuError(1254001)
        pre = changes.pop("pre_field_id", None)
        if pre and (pre not in questions or pre == field_id):
            raise FeishuError(1254049)
        async with self._writing(table):
            question = questions[field_id]
            question.update(changes)
            if pre is not None:
                order = [fid for fid in questions if fid != field_id]
                order.insert(order.index(pre) + 1 if pre else 0, field_id)
                view.questions = {fid: questions[fid] for fid in order}
            table.touch()
        ids = list(view.questions)
        position = ids.index(field_id)
        return {"field": {"pre_field_id": ids[position - 1] if position else "", **question}}
