"""DingTalk emulator: cell values, written (checked) and read."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import MSG_INTERNAL, ApiError, _invalid
from .state import DATE_SLASH_RE, LINK_TYPES, NUMERIC_RE, Base, Field, Record, Sheet

if TYPE_CHECKING:
    pass


class ValuesMixin:
    """DingTalk emulator: cell values, written (checked) and read (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ values

    def _value_error(self, f: Field, value: Any) -> ApiError:
        if self.value_error_status == 500:
            return ApiError(500, "internalError", MSG_INTERNAL)
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return _invalid(f"the value '{shown}' is invalid for field '{f.name}'")

    def _parse_date(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            s = value.strip()
            m = DATE_SLASH_RE.fullmatch(s)
            if m:
                s = f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}{m[4]}"
            if not re.match(r"\d{4}-\d{2}-\d{2}", s):
                return None
            try:
                dt = datetime.fromisoformat(s)
            except ValueError:
                return None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=self.tz)
            return int(dt.timestamp() * 1000)
        return None

    @staticmethod
    def _parse_number(value: Any) -> int | float | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                return None
            return int(value) if value.is_integer() and abs(value) < 2**53 else value
        if isinstance(value, str) and NUMERIC_RE.fullmatch(value.strip()):
            n = float(value.strip())
            if not math.isfinite(n):
                return None
            if n.is_integer() and abs(n) < 2**53:
                return int(n)
            return n
        return None

    def _store_value(self, base: Base, f: Field, value: Any) -> Any:
        """The stored native form of a write value; None means "clear the field"."""
        t = f.type
        if value is None:
            return None
        if t == "text":
            if not isinstance(value, str):
                raise self._value_error(f, value)
            return value or None
        if t == "number":
            if value == "":
                return None
            n = self._parse_number(value)
            if n is None:
                raise self._value_error(f, value)
            return n
        if t == "checkbox":
            if not isinstance(value, bool):
                raise self._value_error(f, value)
            return True if value else None
        if t == "singleSelect":
            if not isinstance(value, str):
                raise self._value_error(f, value)
            if value == "":
                return None
            choice = f.choice_by_name(value)
            if choice is None:
                raise self._value_error(f, value)
            return choice["id"]
        if t == "multipleSelect":
            if not isinstance(value, list):
                raise self._value_error(f, value)
            ids: list[str] = []
            for name in value:
                choice = f.choice_by_name(name) if isinstance(name, str) else None
                if choice is None:
                    raise self._value_error(f, value)
                if choice["id"] not in ids:
                    ids.append(choice["id"])
            return ids or None
        if t == "date":
            if value == "":
                return None
            ms = self._parse_date(value)
            if ms is None:
                raise self._value_error(f, value)
            return ms
        if t == "user":
            if not isinstance(value, list):
                raise self._value_error(f, value)
            union_ids: list[str] = []
            for item in value:
                if not isinstance(item, dict):
                    # ["id"] -> 500 internalError [3P]
                    raise ApiError(500, "internalError", MSG_INTERNAL)
                uid = item.get("unionId")
                if not isinstance(uid, str) or uid not in self.users_by_union:
                    raise self._value_error(f, value)
                if uid not in union_ids:
                    union_ids.append(uid)
            if len(union_ids) > 1 and not (f.property or {}).get("multiple", True):
                raise self._value_error(f, value)
            return union_ids or None
        if t == "department":
            if not isinstance(value, list):
                raise self._value_error(f, value)
            depts: list[Any] = []
            for item in value:
                dept = item.get("deptId") if isinstance(item, dict) else None
                if isinstance(dept, bool) or not isinstance(dept, str | int) or dept == "":
                    raise self._value_error(f, value)
                if dept not in depts:
                    depts.append(dept)
            if len(depts) > 1 and not (f.property or {}).get("multiple", True):
                raise self._value_error(f, value)
            return depts or None
        if t == "url":
            if not isinstance(value, dict):
                raise self._value_error(f, value)
            link, text = value.get("link"), value.get("text")
            if not isinstance(link, str) or not link or (text is not None and not isinstance(text, str)):
                raise self._value_error(f, value)
            return {"text": text or link, "link": link}
        if t in LINK_TYPES:
            ids_in = value.get("linkedRecordIds") if isinstance(value, dict) else None
            if not isinstance(ids_in, list) or not all(isinstance(i, str) for i in ids_in):
                raise self._value_error(f, value)
            linked = base.sheets.get((f.property or {}).get("linkedSheetId", ""))
            out: list[str] = []
            for rid in ids_in:
                if linked is None or rid not in linked.records:
                    raise self._value_error(f, value)
                if rid not in out:
                    out.append(rid)
            if len(out) > 1 and not (f.property or {}).get("multiple", True):
                raise self._value_error(f, value)
            return out or None
        if t == "attachment":
            if not isinstance(value, list):
                raise self._value_error(f, value)
            files: list[dict[str, Any]] = []
            for item in value:
                if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not item["url"]:
                    raise self._value_error(f, value)
                url = item["url"]
                size = item.get("size", 0)
                if isinstance(size, bool) or not isinstance(size, int):
                    raise self._value_error(f, value)
                files.append(
                    {
                        "filename": str(item.get("filename") or url.rsplit("/", 1)[-1].split("?")[0]),
                        "size": size,
                        "type": str(item.get("type") or "file"),
                        "url": url,
                    }
                )
            return files or None
        raise self._value_error(f, value)  # pragma: no cover

    def _render_value(self, base: Base, f: Field, stored: Any) -> Any:
        """The read form of a stored value; None when it reads as empty (absent from ``fields``)."""
        t = f.type
        if t == "number":
            return str(stored) if isinstance(stored, int) else repr(stored)
        if t == "singleSelect":
            name = f.choice_ids().get(stored)
            return {"id": stored, "name": name} if name is not None else None
        if t == "multipleSelect":
            names = f.choice_ids()
            out = [{"id": cid, "name": names[cid]} for cid in stored if cid in names]
            return out or None
        if t == "user":
            return [{"unionId": u} for u in stored]
        if t == "department":
            return [{"deptId": d} for d in stored]
        if t in LINK_TYPES:
            ids = self._live_links(base, f, stored)
            return {"linkedRecordIds": ids} if ids else None
        if t in ("url",):
            return dict(stored)
        if t == "attachment":
            return [dict(a) for a in stored]
        return stored  # text, date (ms), checkbox (true)

    @staticmethod
    def _live_links(base: Base, f: Field, stored: list[str]) -> list[str]:
        linked = base.sheets.get((f.property or {}).get("linkedSheetId", ""))
        if linked is None:
            return []
        return [rid for rid in stored if rid in linked.records]

    def _render_record(self, base: Base, sheet: Sheet, rec: Record, only: set[str] | None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for fid, f in sheet.fields.items():
            if only is not None and fid not in only:
                continue
            stored = rec.values.get(fid)
            if stored is None:
                continue
            value = self._render_value(base, f, stored)
            if value is not None:
                fields[f.name] = value
        return {
            "id": rec.id,
            "fields": fields,
            "createdTime": rec.created_time,
            "createdBy": {"unionId": rec.created_by},
            "lastModifiedTime": rec.modified_time,
            "lastModifiedBy": {"unionId": rec.modified_by},
        }
