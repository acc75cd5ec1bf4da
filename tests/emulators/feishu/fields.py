"""Feishu emulator: the fields endpoints (types, properties, conversions, back links).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import (
    AUTO_NUMBER,
    CHECKBOX,
    CREATABLE_TYPES,
    CREATED_TIME,
    DATE_FORMATTERS,
    DATETIME,
    DEFAULT_UI_TYPE,
    DUPLEX_LINK,
    FORMULA,
    INDEX_TYPES,
    LINK_TYPES,
    LOCATION,
    MODIFIED_TIME,
    MULTI_SELECT,
    NUMBER,
    NUMBER_FORMATTERS,
    PHONE,
    PROPERTY_ERROR,
    READ_ONLY_TYPES,
    SINGLE_SELECT,
    TEXT,
    UI_TYPES,
    URL,
    USER,
    App,
    Field,
    Table,
    View,
)

if TYPE_CHECKING:
    from .emulator import Ctx


class FieldsMixin:
    """Feishu emulator: the fields endpoints (types, properties, conversions, back links) (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ fields

    def _field_json(
        self, table: Table, f: Field, *, as_array: bool = False, view: View | None = None
    ) -> dict:
        out: dict[str, Any] = {
            "field_id": f.field_id,
            "field_name": f.name,
            "type": f.type,
            "property": copy.deepcopy(f.property),
            "ui_type": f.ui_type,
            "is_primary": f is table.primary,
        }
        if f.description is not None:
            out["description"] = [{"text": f.description, "type": "text"}] if as_array else f.description
        if view is not None:
            out["is_hidden"] = f.field_id in (view.hidden_fields or [])
        return out

    async def _fields_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        view = None
        view_id = ctx.query.get("view_id")
        if view_id:
            view = table.views.get(view_id)
            if view is None:
                raise FeishuError(1254042)
        as_array = self._flag(ctx, "text_field_as_array")
        items = [self._field_json(table, f, as_array=as_array, view=view) for f in table.fields.values()]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    def _build_field(self, app: App, table: Table, raw: Any, old: Field | None) -> Field:
        """Validate a create/update body and build the field (not yet attached to the table)."""
        if not isinstance(raw, dict):
            raise FeishuError(1254001)
        name = raw.get("field_name")
        if not isinstance(name, str) or not name.strip():
            raise FeishuError(1254028)
        name = name.strip()
        if len(name) > 100:
            raise FeishuError(1254029)
        ftype = raw.get("type")
        if not isinstance(ftype, int) or isinstance(ftype, bool):
            raise FeishuError(1254001)
        if ftype not in CREATABLE_TYPES:
            raise FeishuError(1254012)
        ui_type = raw.get("ui_type")
        if ui_type is None:
            ui_type = DEFAULT_UI_TYPE[ftype]
        if ui_type not in UI_TYPES.get(ftype, {DEFAULT_UI_TYPE[ftype]}):
            raise FeishuError(1254015)
        prop = self._build_property(app, table, ftype, ui_type, raw.get("property"), old)
        description = raw.get("description")
        text = None
        disable_sync = False
        if description is not None:
            if isinstance(description, str):
                text = description
            elif isinstance(description, dict):
                text = description.get("text")
                disable_sync = bool(description.get("disable_sync", False))
                if text is not None and not isinstance(text, str):
                    raise FeishuError(1254001)
            else:
                raise FeishuError(1254001)
        field_id = old.field_id if old else self._new_id("fld", 7)
        return Field(field_id, name, ftype, ui_type, prop, text, disable_sync)

    def _build_property(
        self, app: App, table: Table, ftype: int, ui_type: str, prop: Any, old: Field | None
    ) -> dict[str, Any] | None:
        err = PROPERTY_ERROR.get(ftype, 1254001)
        if prop is not None and not isinstance(prop, dict):
            raise FeishuError(err)
        prop = copy.deepcopy(prop) if prop else {}
        if ftype == NUMBER:
            formatter = prop.get("formatter", "0.0" if ui_type == "Number" else "0")
            if ui_type == "Number" and formatter not in NUMBER_FORMATTERS:
                raise FeishuError(err)
            out: dict[str, Any] = {"formatter": formatter}
            if ui_type == "Currency":
                out["currency_code"] = prop.get("currency_code", "CNY")
                out["formatter"] = prop.get("formatter", "0.00")
            if ui_type in ("Progress", "Rating"):
                out["min"] = prop.get("min", 0)
                out["max"] = prop.get("max", 1 if ui_type == "Progress" else 5)
                if (
                    not all(isinstance(out[k], (int, float)) for k in ("min", "max"))
                    or out["min"] > out["max"]
                ):
                    raise FeishuError(err)
            if ui_type == "Progress":
                out["range_customize"] = bool(prop.get("range_customize", False))
            if ui_type == "Rating":
                out["rating"] = {"symbol": (prop.get("rating") or {}).get("symbol", "star")}
            return out
        if ftype in (SINGLE_SELECT, MULTI_SELECT):
            options = prop.get("options", [])
            if not isinstance(options, list):
                raise FeishuError(err)
            old_ids = {o["id"] for o in ((old.property or {}).get("options", []) if old else [])}
            if old is not None and old.type not in (SINGLE_SELECT, MULTI_SELECT):
                old_ids = set()
            built = []
            color = -1
            for opt in options:
                if not isinstance(opt, dict):
                    raise FeishuError(err)
                name = opt.get("name")
                if not isinstance(name, str) or not name.strip():
                    raise FeishuError(1254026)
                opt_id = opt.get("id")
                if opt_id is not None and opt_id not in old_ids:
                    # A.5: an id must be one of the field's existing options (never on create).
                    raise FeishuError(err)
                given_color = opt.get("color")
                if given_color is not None and (
                    not isinstance(given_color, int) or not 0 <= given_color <= 54
                ):
                    raise FeishuError(err)
                color = given_color if given_color is not None else (color + 1) % 55
                built.append({"name": name, "id": opt_id or self._new_id("opt", 7), "color": color})
            return {"options": built}
        if ftype == DATETIME:
            date_formatter = prop.get("date_formatter", "yyyy/MM/dd")
            if date_formatter not in DATE_FORMATTERS:
                raise FeishuError(err)
            return {"date_formatter": date_formatter, "auto_fill": bool(prop.get("auto_fill", False))}
        if ftype in (CREATED_TIME, MODIFIED_TIME):
            date_formatter = prop.get("date_formatter", "yyyy/MM/dd")
            if date_formatter not in DATE_FORMATTERS:
                raise FeishuError(err)
            return {"date_formatter": date_formatter}
        if ftype == USER:
            return {"multiple": bool(prop.get("multiple", True))}
        if ftype in LINK_TYPES:
            target = prop.get("table_id")
            if old is not None and old.type == ftype and target == (old.property or {}).get("table_id"):
                kept = copy.deepcopy(old.property or {})
                kept["multiple"] = bool(prop.get("multiple", True))
                return kept
            if not isinstance(target, str) or (target not in app.tables and target != table.table_id):
                raise FeishuError(err)
            target_name = app.tables[target].name if target in app.tables else table.name
            out = {
                "multiple": bool(prop.get("multiple", True)),
                "table_id": target,
                "table_name": target_name,
            }
            if ftype == DUPLEX_LINK:
                back = prop.get("back_field_name")
                if back is not None and (not isinstance(back, str) or not back.strip()):
                    raise FeishuError(err)
                out["back_field_name"] = back.strip() if back else None  # filled in when attached
            return out
        if ftype == FORMULA:
            expression = prop.get("formula_expression", "")
            if not isinstance(expression, str):
                raise FeishuError(err)
            return {"formatter": prop.get("formatter", ""), "formula_expression": expression}
        if ftype == LOCATION:
            input_type = (prop.get("location") or {}).get("input_type", "not_limit")
            if input_type not in ("only_mobile", "not_limit"):
                raise FeishuError(err)
            return {"location": {"input_type": input_type}}
        if ftype == AUTO_NUMBER:
            serial = prop.get("auto_serial") or {"type": "auto_increment_number"}
            if not isinstance(serial, dict) or serial.get("type") not in ("custom", "auto_increment_number"):
                raise FeishuError(1254001)
            out_serial: dict[str, Any] = {"type": serial["type"]}
            if serial["type"] == "custom":
                rules = serial.get("options")
                if not isinstance(rules, list) or not rules:
                    raise FeishuError(1254001)
                for rule in rules:
                    if not isinstance(rule, dict) or rule.get("type") not in (
                        "system_number",
                        "fixed_text",
                        "created_time",
                    ):
                        raise FeishuError(1254001)
                    if not isinstance(rule.get("value"), str):
                        raise FeishuError(1254001)
                out_serial["options"] = [{"type": r["type"], "value": r["value"]} for r in rules]
            return {"auto_serial": out_serial}
        if ftype == TEXT and ui_type == "Barcode":
            modes = prop.get("allowed_edit_modes") or {}
            return {
                "allowed_edit_modes": {"manual": modes.get("manual", True), "scan": modes.get("scan", True)}
            }
        return None  # A.5: "其他类型字段的property均为null"

    def _create_back_field(self, app: App, table: Table, f: Field) -> None:
        prop = f.property or {}
        target = app.tables.get(prop["table_id"], table)
        back_name = prop.get("back_field_name") or f"{target.name}-{f.name}"
        existing = target.by_name()
        candidate, n = back_name, 1
        while candidate in existing:
            n += 1
            candidate = f"{back_name}{n}"
        back = Field(
            self._new_id("fld", 7),
            candidate,
            DUPLEX_LINK,
            "DuplexLink",
            {
                "multiple": True,
                "table_id": table.table_id,
                "table_name": table.name,
                "back_field_id": f.field_id,
                "back_field_name": f.name,
            },
        )
        target.fields[back.field_id] = back
        prop["back_field_id"] = back.field_id
        prop["back_field_name"] = back.name
        target.touch()

    def _remove_field(self, table: Table, f: Field) -> None:
        table.fields.pop(f.field_id, None)
        for record in table.records.values():
            record.values.pop(f.field_id, None)
        for view in table.views.values():
            if view.hidden_fields and f.field_id in view.hidden_fields:
                view.hidden_fields.remove(f.field_id)
        table.touch()

    async def _fields_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            f = self._build_field(app, table, body, None)
            if f.name in table.by_name():
                raise FeishuError(1254014)
            if len(table.fields) >= self.max_fields:
                raise FeishuError(1254105)
            table.fields[f.field_id] = f
            if f.type == DUPLEX_LINK:
                self._create_back_field(app, table, f)
            table.touch()
            data = {"field": self._field_json(table, f)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _fields_update(self, ctx: Ctx, app_token: str, table_id: str, field_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        old = table.fields.get(field_id)
        if old is None:
            raise FeishuError(1254044)
        async with self._writing(table):
            new = self._build_field(app, table, body, old)
            if any(f.name == new.name and f.field_id != field_id for f in table.fields.values()):
                raise FeishuError(1254014)
            if old is table.primary and new.type not in INDEX_TYPES:
                raise FeishuError(1254070)
            if new.type in LINK_TYPES and new.property and new.property.get("back_field_name") is None:
                new.property.pop("back_field_name", None)
            same = (new.name, new.type, new.ui_type, new.property, new.description) == (
                old.name,
                old.type,
                old.ui_type,
                old.property,
                old.description,
            )
            if same:
                raise FeishuError(1254606)
            old_target = (old.property or {}).get("table_id")
            if new.type != old.type or (
                new.type in LINK_TYPES and (new.property or {}).get("table_id") != old_target
            ):
                self._convert_column(app, table, old, new)
            table.fields[field_id] = new  # keeps the column position
            if new.type == DUPLEX_LINK and "back_field_id" not in (new.property or {}):
                self._create_back_field(app, table, new)
            table.touch()
            data = {"field": self._field_json(table, new)}
        self._idem_store(key, fingerprint, data)
        return data

    def _convert_column(self, app: App, table: Table, old: Field, new: Field) -> None:
        """Best-effort conversion of existing cells when a field changes type."""
        for record in table.records.values():
            stored = record.values.pop(old.field_id, None)
            if stored is None or new.type in READ_ONLY_TYPES:
                continue
            text = self._display(app, table, old, stored, record)
            value: Any = None
            try:
                if new.type in (TEXT, PHONE, LOCATION):
                    value = text if new.type == TEXT else self._convert(app, table, new, text, "open_id")
                elif new.type == NUMBER:
                    value = float(text) if "." in text else int(text)
                elif new.type == SINGLE_SELECT:
                    value = self._resolve_options(new, [text.split(",")[0]])[0]
                elif new.type == MULTI_SELECT:
                    value = self._resolve_options(new, [p for p in text.split(",") if p])
                elif new.type == CHECKBOX:
                    value = text.lower() in ("true", "1", "yes")
                elif new.type == URL:
                    value = {"text": text, "link": text}
            except (FeishuError, ValueError):
                value = None
            if value not in (None, "", []):
                record.values[new.field_id] = value

    async def _fields_delete(self, ctx: Ctx, app_token: str, table_id: str, field_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        f = table.fields.get(field_id)
        if f is None:
            raise FeishuError(1254044)
        if f is table.primary:
            raise FeishuError(1254070)
        async with self._writing(table):
            self._remove_field(table, f)
            if f.type == DUPLEX_LINK:
                prop = f.property or {}
                target = app.tables.get(prop.get("table_id", ""))
                back = target.fields.get(prop.get("back_field_id", "")) if target else None
                if target and back and back is not target.primary:
                    self._remove_field(target, back)
        return {"field_id": field_id, "deleted": True}
