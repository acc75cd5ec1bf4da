"""Feishu emulator: the views endpoints and view filters.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import FILTER_OPERATORS, MULTI_SELECT, SINGLE_SELECT, VIEW_TYPES, Field, Table, View

if TYPE_CHECKING:
    from .emulator import Ctx


class ViewsMixin:
    """Feishu emulator: the views endpoints and view filters (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ views

    @staticmethod
    def _view_json(view: View, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"view_id": view.view_id, "view_name": view.name, "view_type": view.type}
        if full:
            out["property"] = {
                "filter_info": copy.deepcopy(view.filter_info),
                "hidden_fields": copy.deepcopy(view.hidden_fields),
            }
        return out

    def _view(self, table: Table, view_id: str) -> View:
        view = table.views.get(view_id)
        if view is None:
            raise FeishuError(1254042)
        return view

    @staticmethod
    def _check_view_name(table: Table, name: Any, exclude: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise FeishuError(1254021)
        name = name.strip()
        if len(name) > 100 or "[" in name or "]" in name:
            raise FeishuError(1254022)
        if any(v.name == name and v.view_id != exclude for v in table.views.values()):
            raise FeishuError(1254020)
        return name

    async def _views_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        self._user_id_type(ctx.query.get("user_id_type"))
        page, meta = self._paginate(ctx, [self._view_json(v) for v in table.views.values()], 100)
        return {**meta, "items": page}

    async def _views_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        async with self._writing(table):
            name = self._check_view_name(table, body.get("view_name"))
            view_type = body.get("view_type", "grid")
            if view_type not in VIEW_TYPES:
                raise FeishuError(1254019)
            if len(table.views) >= self.max_views:
                raise FeishuError(1254101)
            view = View(self._new_id("vew", 7), name, view_type)
            if view_type == "form":
                view.form = {
                    "name": name,
                    "description": "",
                    "shared": False,
                    "shared_url": "",
                    "shared_limit": "off",
                    "submit_limit_once": False,
                }
            table.views[view.view_id] = view
            table.touch()
        return {"view": self._view_json(view)}

    async def _views_get(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        return {"view": self._view_json(self._view(table, view_id), full=True)}

    async def _views_patch(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        view = self._view(table, view_id)
        body = self._body(ctx)
        async with self._writing(table):
            name = view.name
            if "view_name" in body and body["view_name"] is not None:
                name = self._check_view_name(table, body["view_name"], exclude=view.view_id)
            prop = body.get("property")
            if prop is not None and not isinstance(prop, dict):
                raise FeishuError(1254001)
            prop = prop or {}
            filter_info = view.filter_info
            if "filter_info" in prop:
                filter_info = self._view_filter(table, prop["filter_info"])
            hidden = view.hidden_fields
            if "hidden_fields" in prop:
                hidden = prop["hidden_fields"]
                if hidden is not None:
                    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
                        raise FeishuError(1254001)
                    if any(h not in table.fields for h in hidden):
                        raise FeishuError(1254044)
                    hidden = list(dict.fromkeys(h for h in hidden if table.fields[h] is not table.primary))
            view.name, view.filter_info, view.hidden_fields = name, filter_info, hidden
            table.touch()
        return {"view": self._view_json(view, full=True)}

    def _view_filter(self, table: Table, info: Any) -> dict[str, Any] | None:
        if info is None:
            return None
        if not isinstance(info, dict) or info.get("conjunction", "and") not in ("and", "or"):
            raise FeishuError(1254018)
        conditions = info.get("conditions")
        if not isinstance(conditions, list) or len(conditions) > 50:
            raise FeishuError(1254018)
        out = []
        for cond in conditions:
            if not isinstance(cond, dict):
                raise FeishuError(1254018)
            f = table.fields.get(cond.get("field_id", ""))
            if f is None:
                raise FeishuError(1254044)
            operator = cond.get("operator")
            if operator not in FILTER_OPERATORS:
                raise FeishuError(1254018)
            value = cond.get("value")
            if value is not None and not isinstance(value, str):
                raise FeishuError(1254018)
            values = self._view_option_names(f, operator, self._view_values(value))
            self._compile_condition(f, operator, values, "open_id")  # validates
            out.append(
                {
                    "condition_id": self._new_id("con", 7),
                    "field_id": f.field_id,
                    "field_type": f.type,
                    "operator": operator,
                    "value": value,
                }
            )
        return {"condition_omitted": None, "conditions": out, "conjunction": info.get("conjunction", "and")}

    def _view_option_names(self, f: Field, operator: str, values: list[str]) -> list[str]:
        """A view filter names select options by id (A.20's example): their names, for matching."""
        if f.type not in (SINGLE_SELECT, MULTI_SELECT) or operator in ("isEmpty", "isNotEmpty"):
            return values
        names = [self._option_name(f, v) for v in values]
        if any(n is None for n in names):
            raise FeishuError(1254018)
        return [n for n in names if n is not None]

    @staticmethod
    def _view_values(value: str | None) -> list[str]:
        if value is None or value == "":
            return []
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
        return [str(parsed)]

    async def _views_delete(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        self._view(table, view_id)
        if len(table.views) <= 1:
            raise FeishuError(1254023)
        async with self._writing(table):
            table.views.pop(view_id, None)
            table.touch()
        return {}
