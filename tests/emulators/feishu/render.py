"""Feishu emulator: record values as read: rendered per endpoint (search, list, get)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from .state import (
    ATTACHMENT,
    AUTO_NUMBER,
    CHECKBOX,
    CREATED_TIME,
    CREATED_USER,
    DATETIME,
    GROUP_CHAT,
    LINK_TYPES,
    LOCATION,
    MODIFIED_TIME,
    MODIFIED_USER,
    MULTI_SELECT,
    NUMBER,
    PHONE,
    PLAIN_TYPES,
    SINGLE_SELECT,
    TEXT,
    URL,
    USER,
    App,
    Field,
    Record,
    Table,
    User,
)

if TYPE_CHECKING:
    pass


class RenderMixin:
    """Feishu emulator: record values as read: rendered per endpoint (search, list, get) (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ record values: reads

    def _option_name(self, f: Field, option_id: str) -> str | None:
        for opt in (f.property or {}).get("options", []):
            if opt["id"] == option_id:
                return opt["name"]
        return None

    def _user_json(self, open_id: str, id_type: str) -> dict[str, Any]:
        user = self.users.get(open_id) or User(open_id, "")
        out = {"id": user.id_for(id_type), "name": user.name, "en_name": user.en_name, "email": user.email}
        if user.avatar_url:
            out["avatar_url"] = user.avatar_url
        return out

    def _auto_number(self, table: Table, f: Field, record: Record) -> str:
        serial = (f.property or {}).get("auto_serial") or {"type": "auto_increment_number"}
        if serial.get("type") != "custom":
            return str(record.seq)
        parts = []
        created = dt.datetime.fromtimestamp(record.created_time / 1000, dt.UTC) + dt.timedelta(
            seconds=self.tz_offset_s
        )
        for rule in serial.get("options", []):
            if rule["type"] == "system_number":
                digits = int(rule["value"]) if rule["value"].isdigit() else 1
                parts.append(str(record.seq).zfill(digits))
            elif rule["type"] == "fixed_text":
                parts.append(rule["value"])
            else:
                fmt = rule["value"].replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
                parts.append(created.strftime(fmt))
        return "".join(parts)

    def _value(self, table: Table, f: Field, record: Record) -> Any:
        """The stored value of a cell, including computed fields (None = empty)."""
        t = f.type
        if t < CREATED_TIME:  # a stored value (the common case first: this runs for every cell read)
            value = record.values.get(f.field_id)
            if value is None or (t != SINGLE_SELECT and t != MULTI_SELECT):
                return value
            if t == SINGLE_SELECT:
                return value if self._option_name(f, value) is not None else None
            return [o for o in value if self._option_name(f, o) is not None] or None
        if f.type == CREATED_TIME:
            return record.created_time
        if f.type == MODIFIED_TIME:
            return record.modified_time
        if f.type == CREATED_USER:
            return [record.created_by] if record.created_by else None
        if f.type == MODIFIED_USER:
            return [record.modified_by] if record.modified_by else None
        if f.type == AUTO_NUMBER:
            return self._auto_number(table, f, record)
        value = record.values.get(f.field_id)
        if f.type == SINGLE_SELECT and value is not None and self._option_name(f, value) is None:
            return None
        if f.type == MULTI_SELECT and value is not None:
            value = [o for o in value if self._option_name(f, o) is not None] or None
        return value

    @staticmethod
    def _number_text(n: float) -> str:
        if isinstance(n, float) and n.is_integer():
            return str(int(n))
        return str(n)

    def _date_text(self, ms: int) -> str:
        moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC) + dt.timedelta(seconds=self.tz_offset_s)
        return moment.strftime("%Y/%m/%d")

    def _display(self, app: App, table: Table, f: Field, stored: Any, record: Record | None = None) -> str:
        """Plain text of a cell (link text, formula filters, sorting)."""
        if stored is None:
            return ""
        t = f.type
        if t in (TEXT, PHONE, LOCATION, AUTO_NUMBER):
            return str(stored)
        if t == NUMBER:
            return self._number_text(stored)
        if t == SINGLE_SELECT:
            return self._option_name(f, stored) or ""
        if t == MULTI_SELECT:
            return ",".join(n for n in (self._option_name(f, o) for o in stored) if n)
        if t in (DATETIME, CREATED_TIME, MODIFIED_TIME):
            return self._date_text(stored)
        if t == CHECKBOX:
            return "true" if stored else "false"
        if t in (USER, CREATED_USER, MODIFIED_USER):
            return ",".join(self.users[u].name if u in self.users else "" for u in stored)
        if t == URL:
            return stored["text"]
        if t == ATTACHMENT:
            return ",".join(app.attachments.get(tok, {}).get("name", "") for tok in stored)
        if t in LINK_TYPES:
            return ",".join(self._link_texts(app, f, stored))
        if t == GROUP_CHAT:
            return ",".join(self.chats.get(c, {}).get("name", "") for c in stored)
        return str(stored)

    def _link_texts(self, app: App, f: Field, ids: list[str]) -> list[str]:
        target = app.tables.get((f.property or {}).get("table_id", ""))
        if target is None:
            return []
        primary = target.primary
        texts = []
        for rid in ids:
            rec = target.records.get(rid)
            if rec is not None:
                texts.append(self._display(app, target, primary, self._value(target, primary, rec), rec))
        return texts

    def _render(
        self, app: App, table: Table, f: Field, stored: Any, fmt: str, id_type: str, as_array: bool = False
    ) -> Any:
        """A cell in the read format of ``fmt``: "search" (search, batch_get), "list", "get"."""
        t = f.type
        if t == TEXT:
            return [{"text": stored, "type": "text"}] if fmt == "search" or as_array else stored
        if t == NUMBER:
            return self._number_text(stored) if fmt == "list" else stored
        if t == SINGLE_SELECT:
            return self._option_name(f, stored)
        if t == MULTI_SELECT:
            return [self._option_name(f, o) for o in stored]
        if t in (USER, CREATED_USER, MODIFIED_USER):
            return [self._user_json(u, id_type) for u in stored]
        if t == ATTACHMENT:
            out = []
            for tok in stored:
                meta = app.attachments.get(tok, {})
                out.append(
                    {
                        "file_token": tok,
                        "name": meta.get("name", ""),
                        "size": meta.get("size", 0),
                        "tmp_url": "https://open.feishu.cn/open-apis/drive/v1/medias/batch_get_tmp_download_url"
                        f"?file_tokens={tok}",
                        "type": meta.get("type", ""),
                        "url": f"https://open.feishu.cn/open-apis/drive/v1/medias/{tok}/download",
                    }
                )
            return out
        if t in LINK_TYPES:
            if fmt == "search":
                return {"link_record_ids": list(stored)}
            return [
                {
                    "record_ids": list(stored),
                    "table_id": (f.property or {}).get("table_id", ""),
                    "text": ",".join(self._link_texts(app, f, stored)),
                    "type": "text",
                }
            ]
        if t == URL:
            return {"link": stored["link"], "text": stored["text"]}
        if t == LOCATION:
            return {
                "location": stored,
                "pname": "",
                "cityname": "",
                "adname": "",
                "address": "",
                "name": "",
                "full_address": "",
            }
        if t == GROUP_CHAT:
            return [dict(self.chats.get(c, {"id": c, "name": "", "avatar_url": ""})) for c in stored]
        # date/created/modified ms, checkbox, phone, auto number
        return copy.deepcopy(stored) if isinstance(stored, list | dict) else stored

    def _render_record(
        self,
        app: App,
        table: Table,
        record: Record,
        fmt: str,
        id_type: str,
        *,
        only: list[Field] | None = None,
        hidden: set[str] | None = None,
        automatic: bool = False,
        as_array: bool = False,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        segments = fmt == "search" or as_array
        values = record.values
        for f in only if only is not None else table.fields.values():
            if hidden and f.field_id in hidden:
                continue
            t = f.type
            if t in PLAIN_TYPES:  # the common cells, as _value and _render would give them
                stored = values.get(f.field_id)
                if stored is None:
                    continue
                if t == TEXT:
                    fields[f.name] = [{"text": stored, "type": "text"}] if segments else stored
                    continue
                if t != NUMBER or fmt != "list":
                    fields[f.name] = stored
                    continue
            stored = self._value(table, f, record)
            if stored is None:
                continue
            fields[f.name] = self._render(app, table, f, stored, fmt, id_type, as_array)
        out: dict[str, Any] = {"fields": fields, "record_id": record.record_id}
        if automatic:
            if record.created_by:
                out["created_by"] = self._user_json(record.created_by, id_type)
            out["created_time"] = record.created_time
            if record.modified_by:
                out["last_modified_by"] = self._user_json(record.modified_by, id_type)
            out["last_modified_time"] = record.modified_time
        return out
