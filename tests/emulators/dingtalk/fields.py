"""DingTalk emulator: the fields endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from .errors import _invalid, _missing
from .state import DATE_FORMATTERS, FIELD_TYPES, LINK_TYPES, NUMBER_FORMATTERS, Base, Field, Sheet

if TYPE_CHECKING:
    pass


class FieldsMixin:
    """DingTalk emulator: the fields endpoints (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ fields

    async def _list_fields(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        return self._ok({"value": [f.render() for f in s.fields.values()]})

    async def _create_field(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        body = self._body(request)
        fname, ftype = self._check_field_head(body)
        if s.field_named(fname) is not None:
            raise _invalid(f"a field named '{fname}' already exists")
        prop = self._new_property(base, ftype, body.get("property"), None)
        f = self._add_field(base, s, fname, ftype, prop)
        return self._ok(f.render())

    async def _update_field(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str, fieldIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        f = self._field(s, fieldIdOrName)
        body = self._body(request)
        name = body.get("name")
        if name is None or name == "":
            raise _missing("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("name must be a non-empty string")
        other = s.field_named(name)
        if other is not None and other is not f:
            raise _invalid(f"a field named '{name}' already exists")
        prop = f.property
        if body.get("property") is not None:  # "type" is not in the request model: ignored [3P]
            prop = self._new_property(base, f.type, body["property"], f)
        f.name = name
        f.property = prop
        return self._ok({"id": f.id})

    async def _delete_field(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str, fieldIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        f = self._field(s, fieldIdOrName)
        if f is s.primary():
            raise _invalid(f"the primary field '{f.name}' cannot be deleted")
        self._drop_field(s, f)
        if f.type == "bidirectionalLink":
            prop = f.property or {}
            linked = base.sheets.get(prop.get("linkedSheetId", ""))
            pair = linked.fields.get(prop.get("linkedFieldId", "")) if linked else None
            if linked is not None and pair is not None and pair is not linked.primary():
                self._drop_field(linked, pair)
        return self._ok({"success": True})

    @staticmethod
    def _drop_field(sheet: Sheet, f: Field) -> None:
        sheet.fields.pop(f.id, None)
        for rec in sheet.records.values():
            rec.values.pop(f.id, None)

    @staticmethod
    def _check_field_head(raw: dict[str, Any]) -> tuple[str, str]:
        fname, ftype = raw.get("name"), raw.get("type")
        if fname is None or fname == "":
            raise _missing("name")
        if not isinstance(fname, str) or not fname.strip():
            raise _invalid("field name must be a non-empty string")
        if ftype is None or ftype == "":
            raise _missing("type")
        if ftype not in FIELD_TYPES:
            raise _invalid(f"unsupported field type '{ftype}'")
        return fname, ftype

    def _new_property(self, base: Base, ftype: str, raw: Any, current: Field | None) -> dict[str, Any] | None:
        """The normalized (rendered) property of a new field, or of ``current`` updated with ``raw``."""
        if raw is not None and not isinstance(raw, dict):
            raise _invalid("property must be an object")
        raw = raw or {}
        old = dict(current.property or {}) if current is not None else {}
        if ftype == "number":
            fmt = raw.get("formatter", old.get("formatter", "INT"))
            if fmt not in NUMBER_FORMATTERS:
                raise _invalid(f"invalid number formatter '{fmt}'")
            return {"formatter": fmt}
        if ftype == "date":
            fmt = raw.get("formatter", old.get("formatter", "YYYY-MM-DD"))
            if fmt not in DATE_FORMATTERS:
                raise _invalid(f"invalid date formatter '{fmt}'")
            return {"formatter": fmt}
        if ftype in ("singleSelect", "multipleSelect"):
            if "choices" not in raw:
                return {"choices": old.get("choices", [])}
            choices = raw["choices"]
            if not isinstance(choices, list):
                raise _invalid("property.choices must be an array")
            existing = {c["id"]: c for c in old.get("choices", [])}
            by_name = {c["name"]: c for c in old.get("choices", [])}
            out: list[dict[str, str]] = []
            seen: set[str] = set()
            for c in choices:
                if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"].strip():
                    raise _invalid("each choice must be an object with a non-empty name")
                if c["name"] in seen:
                    raise _invalid(f"duplicate choice '{c['name']}'")
                seen.add(c["name"])
                keep = existing.get(c.get("id", "")) or by_name.get(c["name"])
                cid = keep["id"] if keep else self._new_id(base, 10)
                out.append({"id": cid, "name": c["name"]})
            return {"choices": out}
        if ftype in ("user", "department"):
            multiple = raw.get("multiple", old.get("multiple", True))
            if not isinstance(multiple, bool):
                raise _invalid("property.multiple must be a boolean")
            return {"multiple": multiple}
        if ftype in LINK_TYPES:
            multiple = raw.get("multiple", old.get("multiple", True))
            if not isinstance(multiple, bool):
                raise _invalid("property.multiple must be a boolean")
            if current is not None:  # the linked sheet cannot be changed [INF]
                return {**old, "multiple": multiple}
            linked = raw.get("linkedSheetId")
            if not isinstance(linked, str) or linked not in base.sheets:
                raise _invalid(f"property.linkedSheetId '{linked}' is not a sheet of this base")
            return {"multiple": multiple, "linkedSheetId": linked}
        return None  # text, url, attachment, checkbox: no property

    def _add_field(
        self, base: Base, sheet: Sheet, name: str, ftype: str, prop: dict[str, Any] | None
    ) -> Field:
        f = Field(self._new_id(base, 7), name, ftype, prop)
        sheet.fields[f.id] = f
        if ftype == "bidirectionalLink" and prop is not None:
            linked = base.sheets[prop["linkedSheetId"]]
            pair_name = sheet.name
            n = 2
            while linked.field_named(pair_name) is not None or (linked is sheet and pair_name == name):
                pair_name = f"{sheet.name} ({n})"
                n += 1
            pair = Field(
                self._new_id(base, 7),
                pair_name,
                "bidirectionalLink",
                {"multiple": True, "linkedSheetId": sheet.id, "linkedFieldId": f.id},
            )
            linked.fields[pair.id] = pair
            prop["linkedFieldId"] = pair.id
        return f
