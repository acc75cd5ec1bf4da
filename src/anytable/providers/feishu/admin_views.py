"""The view and form settings of a Feishu/Lark table (feishu_read/feishu_update ``view``, ``form``,
``update_view``, ``update_form``, ``update_question``): one view's filter and hidden fields (A.20,
A.21), a form's settings and questions (A.25-A.28).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import anyio

from anytable.errors import InputError, NotFoundError
from anytable.schemas.fields import TableSchema, ViewInfo
from anytable.schemas.filters import parse_where
from anytable.schemas.inputs import check_name
from anytable.schemas.values import short

from .admin_api import FeishuAdminApi
from .viewfilter import from_filter_info, to_filter_info

SHARED_LIMITS = ("off", "tenant_editable", "anyone_editable")


def check_type(data: dict[str, Any], key: str, kind: type, what: str) -> None:
    if key in data and (not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool))):
        raise InputError(f"data.{key} must be {what}; got {short(data[key])}.")


class ViewSettings:
    """One base's view and form settings, through its administration endpoints."""

    def __init__(self, admin: FeishuAdminApi, app: str, tz: tzinfo) -> None:
        self.admin = admin
        self.app = app
        self.tz = tz

    def view_out(self, raw: dict[str, Any], table: TableSchema) -> dict[str, Any]:
        prop = raw.get("property") or {}
        hidden = [
            f.name for fid in prop.get("hidden_fields") or [] if (f := table.find_field(fid)) is not None
        ]
        return {
            "id": raw.get("view_id", ""),
            "name": raw.get("view_name", ""),
            "type": raw.get("view_type", ""),
            "filter": from_filter_info(prop.get("filter_info"), table, self.tz),
            "hidden_fields": hidden,
        }

    async def update_view(self, table: TableSchema, view_id: str, data: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if "name" in data:
            name = check_name(data["name"], "data.name")
            if "[" in name or "]" in name:
                raise InputError("data.name: a view name has no [ or ].")
            if any(v.name == name and v.id != view_id for v in table.views or []):
                raise InputError(
                    f"Table {table.name!r} already has a view named {name!r}; pick another name."
                )
            body["view_name"] = name
        changes: dict[str, Any] = {}
        if "filter" in data:
            changes["filter_info"] = to_filter_info(parse_where(data["filter"], table, self.tz), self.tz)
        if "hidden_fields" in data:
            changes["hidden_fields"] = _hidden(table, data["hidden_fields"])
        if changes:
            # A.20 lists both keys of property: send the current value of the one not changed.
            current = (await self.admin.get_view(self.app, table.id, view_id)).get("property") or {}
            prop: dict[str, Any] = {"hidden_fields": current.get("hidden_fields")}
            info = current.get("filter_info")
            if isinstance(info, dict) and info.get("conditions"):
                prop["filter_info"] = {
                    "conjunction": info.get("conjunction") or "and",
                    "conditions": [
                        {k: c[k] for k in ("field_id", "operator", "value") if c.get(k) is not None}
                        for c in info["conditions"]
                    ],
                }
            body["property"] = {**prop, **changes}
        view = await self.admin.update_view(self.app, table.id, view_id, body)
        if not view.get("view_id"):
            view = await self.admin.get_view(self.app, table.id, view_id)
        return {"view": self.view_out(view, table)}

    async def read_form(self, table: TableSchema, form_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {}

        async def form() -> None:
            out["form"] = _form_out(await self.admin.get_form(self.app, table.id, form_id), form_id)

        async def questions() -> None:
            items = await self.admin.list_form_fields(self.app, table.id, form_id)
            out["questions"] = [_question_out(q, table) for q in items]

        async with anyio.create_task_group() as tg:  # two endpoints, two rate limits: at once
            tg.start_soon(form)
            tg.start_soon(questions)
        return {"form": out["form"], "questions": out["questions"]}

    async def update_form(self, table: TableSchema, form_id: str, data: dict[str, Any]) -> dict[str, Any]:
        for key in ("name", "description", "shared_limit"):
            check_type(data, key, str, "a string")
        for key in ("shared", "submit_limit_once"):
            check_type(data, key, bool, "true or false")
        if "name" in data:
            data = {**data, "name": check_name(data["name"], "data.name")}
        if "shared_limit" in data and data["shared_limit"] not in SHARED_LIMITS:
            raise InputError(
                f"data.shared_limit is {short(data['shared_limit'])}; use off (invited people), tenant_editable "
                "(anyone in the organisation with the link) or anyone_editable (anyone with the link)."
            )
        form = await self.admin.update_form(self.app, table.id, form_id, data)
        if not form:
            form = await self.admin.get_form(self.app, table.id, form_id)
        return {"form": _form_out(form, form_id)}

    async def update_question(self, table: TableSchema, form_id: str, data: dict[str, Any]) -> dict[str, Any]:
        questions = await self.admin.list_form_fields(self.app, table.id, form_id)
        if "question" not in data:
            raise InputError("update_question needs data.question: the question's id, field name or title.")
        target = _question(questions, table, data["question"], "data.question")
        body: dict[str, Any] = {}
        for key in ("title", "description"):
            check_type(data, key, str, "a string")
        for key in ("required", "visible"):
            check_type(data, key, bool, "true or false")
        if "title" in data:
            body["title"] = check_name(data["title"], "data.title")
        for key in ("description", "required", "visible"):
            if key in data:
                body[key] = data[key]
        if "after" in data:
            if data["after"] in ("", None):
                body["pre_field_id"] = ""
            else:
                after = _question(questions, table, data["after"], "data.after")
                if after["field_id"] == target["field_id"]:
                    raise InputError(
                        "data.after names the question itself; name the question it should follow."
                    )
                body["pre_field_id"] = after["field_id"]
        if not body:
            raise InputError(
                "update_question needs a change: title, description, required, visible or after."
            )
        visible = body.get("visible", target.get("visible", True))
        if visible is False and set(body) - {"visible"}:
            raise InputError(
                "A hidden question takes no other change: hide it alone, or pass visible: true with the change."
            )
        field_id = str(target["field_id"])
        answer = await self.admin.update_form_field(self.app, table.id, form_id, field_id, body)
        merged = {**target, **{k: v for k, v in answer.items() if k != "pre_field_id"}, "field_id": field_id}
        return {"question": _question_out(merged, table)}


def _form_out(form: dict[str, Any], form_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": form_id}
    for key in ("name", "description", "shared", "shared_url", "shared_limit", "submit_limit_once"):
        if key in form and form[key] not in (None, ""):
            out[key] = form[key]
    return out


def _question_out(raw: dict[str, Any], table: TableSchema) -> dict[str, Any]:
    field = table.find_field(str(raw.get("field_id", "")))
    return {
        "id": raw.get("field_id", ""),
        "field": field.name if field else "",
        "title": raw.get("title", ""),
        "description": raw.get("description", ""),
        "required": bool(raw.get("required")),
        "visible": raw.get("visible") is not False,
    }


def _question(questions: list[dict[str, Any]], table: TableSchema, key: Any, where: str) -> dict[str, Any]:
    if isinstance(key, str):
        field = table.find_field(key)
        for q in questions:
            if q.get("field_id") == key or (field is not None and q.get("field_id") == field.id):
                return q
        titled = [q for q in questions if q.get("title") == key]
        if len(titled) == 1:
            return titled[0]
    shown = ", ".join(repr(q.get("title")) for q in questions[:40]) or "none"
    raise NotFoundError(f"{where}: the form has no question {short(key)}; its questions are {shown}.")


def _views_of(table: TableSchema) -> list[ViewInfo]:
    return list(table.views or [])


def view_id_of(table: TableSchema, key: str | None) -> str:
    if not key:
        raise InputError("view is required: the view's id or name (describe_table lists them).")
    return table.view_id(key)


def form_id_of(table: TableSchema, key: str | None) -> str:
    forms = [v for v in _views_of(table) if v.type == "form"]
    if key:
        view_id = view_id_of(table, key)
        if not any(f.id == view_id for f in forms):
            raise InputError(
                f"View {key!r} of table {table.name!r} is not a form; forms are views of type form."
            )
        return view_id
    if len(forms) == 1:
        return forms[0].id
    if not forms:
        raise InputError(f"Table {table.name!r} has no form: create one with create_view type=form.")
    names = ", ".join(repr(f.name) for f in forms)
    raise InputError(
        f"Table {table.name!r} has several forms ({names}): pass view with the form's name or id."
    )


def _hidden(table: TableSchema, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError("data.hidden_fields is a list of field names ([] shows every field).")
    ids: list[str] = []
    for key in raw:
        field = table.find_field(key) if isinstance(key, str) else None
        if field is None:
            names = ", ".join(repr(f.name) for f in table.fields[:40])
            raise InputError(
                f"data.hidden_fields: no field {short(key)} in table {table.name!r}; fields are {names}."
            )
        if field.primary:
            raise InputError(
                f"data.hidden_fields: {field.name!r} is the primary field, which a view always shows."
            )
        if field.id not in ids:
            ids.append(field.id)
    return ids
