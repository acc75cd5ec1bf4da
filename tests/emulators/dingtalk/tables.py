"""DingTalk emulator: the sheets endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from .errors import _invalid, _missing
from .state import DEFAULT_PRIMARY_NAME, Base, Sheet

if TYPE_CHECKING:
    pass


class SheetsMixin:
    """DingTalk emulator: the sheets endpoints (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ sheets

    async def _list_sheets(self, request: httpx.Request, baseId: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        return self._ok({"value": [{"id": s.id, "name": s.name} for s in base.sheets.values()]})

    async def _get_sheet(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        return self._ok({"id": s.id, "name": s.name})

    async def _create_sheet(self, request: httpx.Request, baseId: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._do_create_sheet(base, self._body(request))
        return self._ok({"id": s.id, "name": s.name})

    def _do_create_sheet(self, base: Base, body: dict[str, Any]) -> Sheet:
        name = body.get("name")
        if name is None or name == "":
            raise _missing("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("name must be a non-empty string")
        if base.sheet_by(name) is not None:
            raise _invalid(f"a sheet named '{name}' already exists")
        raw_fields = body.get("fields")
        if raw_fields is None:
            raw_fields = []
        if not isinstance(raw_fields, list):
            raise _invalid("fields must be an array")
        specs: list[tuple[str, str, dict[str, Any] | None]] = []
        names: set[str] = set()
        for raw in raw_fields:
            if not isinstance(raw, dict):
                raise _invalid("each item of fields must be an object")
            fname, ftype = self._check_field_head(raw)
            if fname in names:
                raise _invalid(f"duplicate field name '{fname}'")
            names.add(fname)
            specs.append((fname, ftype, self._new_property(base, ftype, raw.get("property"), None)))
        if not specs:
            specs.append((DEFAULT_PRIMARY_NAME, "text", None))
        sheet = Sheet(self._new_id(base, 7), name)
        base.sheets[sheet.id] = sheet
        for fname, ftype, prop in specs:
            self._add_field(base, sheet, fname, ftype, prop)
        return sheet

    async def _rename_sheet(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        name = self._body(request).get("name")
        if name is None or name == "":
            raise _missing("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("name must be a non-empty string")
        other = base.sheet_by(name)
        if other is not None and other is not s:
            raise _invalid(f"a sheet named '{name}' already exists")
        s.name = name
        return self._ok({"id": s.id, "name": s.name})

    async def _delete_sheet(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        del base.sheets[s.id]
        # Paired bidirectional fields pointing at the deleted sheet go with it [INF].
        for other in base.sheets.values():
            for f in list(other.fields.values()):
                if f.type == "bidirectionalLink" and (f.property or {}).get("linkedSheetId") == s.id:
                    self._drop_field(other, f)
        return self._ok({"success": True})
