"""Feishu emulator: record values as written: checked and converted to what is stored."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import (
    ATTACHMENT,
    CHECKBOX,
    CONV_ERROR,
    DATETIME,
    DUPLEX_LINK,
    GROUP_CHAT,
    LINK_TYPES,
    LOCATION,
    MULTI_SELECT,
    NUMBER,
    PHONE,
    PHONE_RE,
    READ_ONLY_TYPES,
    SINGLE_SELECT,
    TEXT,
    URL,
    USER,
    App,
    Field,
    Record,
    Table,
)

if TYPE_CHECKING:
    pass


class ValuesMixin:
    """Feishu emulator: record values as written: checked and converted to what is stored (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ record values: writes

    def _validate_fields(
        self, app: App, table: Table, fields_in: Any, id_type: str, index: dict[str, Field] | None = None
    ) -> list[tuple[Field, Any, Any]]:
        """[(field, normalized value or None to clear, echo)]; raises the documented error.
        ``index``: the table's fields by name (batch handlers build it once)."""
        if not isinstance(fields_in, dict):
            raise FeishuError(1254001)
        if index is None:
            index = table.by_name()
        out = []
        for name, value in fields_in.items():
            f = index.get(name)
            if f is None:
                raise FeishuError(1254045)
            if f.type in READ_ONLY_TYPES:
                raise FeishuError(1254015, "Field types do not match.")
            normalized = None if value is None else self._convert(app, table, f, value, id_type)
            out.append((f, normalized, value))  # the echo: parsed from this request, never changed
        return out

    def _convert(self, app: App, table: Table, f: Field, v: Any, id_type: str) -> Any:
        """A written value -> the stored form (select: names, resolved later); None = empty."""
        t = f.type
        kind = type(v)  # fast paths for the common, valid values (bulk writes run this per value)
        if t == TEXT and kind is str:
            return v or None
        if t == NUMBER and (kind is int or (kind is float and math.isfinite(v))):
            return v
        if t == DATETIME and kind is int:
            return v
        if t == CHECKBOX and kind is bool:
            return v
        if t == SINGLE_SELECT and kind is str:
            return [v] if v else None
        code = CONV_ERROR.get(t, 1254010)

        def err() -> FeishuError:  # built only when needed: this runs for every value written
            return FeishuError(code)

        prop = f.property or {}
        if t == TEXT:
            if not isinstance(v, str):
                raise err()
            return v or None
        if t == NUMBER:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise err()
            return v
        if t == SINGLE_SELECT:
            if not isinstance(v, str):
                raise err()
            return [v] if v else None
        if t == MULTI_SELECT:
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                raise err()
            return list(v) or None
        if t == DATETIME:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v):
                raise err()
            return int(v)
        if t == CHECKBOX:
            if not isinstance(v, bool):
                raise err()
            return v
        if t == USER:
            if not isinstance(v, list):
                raise err()
            ids: list[str] = []
            for item in v:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise err()
                user = next((u for u in self.users.values() if u.id_for(id_type) == item["id"]), None)
                if user is None:
                    raise err()
                if user.open_id not in ids:
                    ids.append(user.open_id)
            if len(ids) > 1 and not prop.get("multiple", True):
                raise err()
            return ids or None
        if t == PHONE:
            if not isinstance(v, str) or not PHONE_RE.match(v):
                raise err()
            return v or None
        if t == URL:
            if not isinstance(v, dict):
                raise err()
            link, text = v.get("link"), v.get("text")
            if not isinstance(link, str) or not link or (text is not None and not isinstance(text, str)):
                raise err()
            return {"text": text if text else link, "link": link}
        if t == ATTACHMENT:
            if not isinstance(v, list):
                raise err()
            tokens = []
            for item in v:
                if not isinstance(item, dict) or not isinstance(item.get("file_token"), str):
                    raise err()
                if item["file_token"] not in app.attachments:
                    raise FeishuError(1254027)
                tokens.append(item["file_token"])
            return tokens or None
        if t in LINK_TYPES:
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise err()
            target = app.tables.get(prop.get("table_id", ""))
            if target is None:
                raise err()
            ids = list(dict.fromkeys(v))
            if any(i not in target.records for i in ids):
                raise err()
            if len(ids) > 1 and not prop.get("multiple", True):
                raise err()
            return ids or None
        if t == LOCATION:
            if not isinstance(v, str):
                raise err()
            parts = v.split(",")
            try:
                lng, lat = (float(p) for p in parts)
            except ValueError:
                raise err() from None
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                raise err()
            return v
        if t == GROUP_CHAT:
            if not isinstance(v, list) or not all(
                isinstance(x, dict) and isinstance(x.get("id"), str) for x in v
            ):
                raise err()
            return list(dict.fromkeys(x["id"] for x in v)) or None
        raise err()

    def _resolve_options(
        self, f: Field, names: list[str], known: dict[str, dict[str, str]] | None = None
    ) -> list[str]:
        """Option names -> option ids; unknown names create options (documented). ``known``: a
        cache of {field_id: {name: id}} for the records of one batch (kept up to date here)."""
        prop = f.property if f.property is not None else {"options": []}
        f.property = prop
        options = prop.setdefault("options", [])
        existing = known.get(f.field_id) if known is not None else None
        if existing is None:
            existing = {}
            for opt in options:
                existing.setdefault(opt["name"], opt["id"])
            if known is not None:
                known[f.field_id] = existing
        ids = []
        new: list[dict[str, Any]] = []
        for name in names:
            if name in existing:
                ids.append(existing[name])
                continue
            color = (options[-1]["color"] + 1) % 55 if options else 0
            opt = {"name": name, "id": self._new_id("opt", 7), "color": color}
            options.append(opt)
            ids.append(opt["id"])
            new.append(opt)
        for opt in new:  # known to the next value, not to this one (equal new names: equal new options)
            existing.setdefault(opt["name"], opt["id"])
        return ids

    def _apply(
        self,
        app: App,
        table: Table,
        record: Record,
        validated: list[tuple[Field, Any, Any]],
        now: int | None = None,
    ) -> None:
        values = record.values
        for f, normalized, _ in validated:
            ftype = f.type
            old = values.get(f.field_id)
            if normalized is None:
                values.pop(f.field_id, None)
                new = None
            elif ftype == SINGLE_SELECT:
                new = values[f.field_id] = self._resolve_options(f, normalized)[0]
            elif ftype == MULTI_SELECT:
                new = values[f.field_id] = self._resolve_options(f, normalized)
            elif isinstance(normalized, list | dict):
                new = values[f.field_id] = copy.deepcopy(normalized)
            else:
                new = values[f.field_id] = normalized
            if ftype == DUPLEX_LINK:
                self._sync_back_links(app, table, f, record.record_id, old or [], new or [])
        record.modified_time = self._now_ms() if now is None else now
        record.modified_by = self.operator

    def _sync_back_links(
        self, app: App, table: Table, f: Field, record_id: str, old: list[str], new: list[str]
    ) -> None:
        prop = f.property or {}
        target = app.tables.get(prop.get("table_id", ""))
        back_id = prop.get("back_field_id")
        if target is None or back_id not in target.fields:
            return
        for rid in set(old) - set(new):
            other = target.records.get(rid)
            if other is not None:
                links = [x for x in other.values.get(back_id, []) if x != record_id]
                if links:
                    other.values[back_id] = links
                else:
                    other.values.pop(back_id, None)
        for rid in new:
            other = target.records.get(rid)
            if other is not None and record_id not in other.values.get(back_id, []):
                other.values.setdefault(back_id, []).append(record_id)
        target.touch()

    def _insert(
        self,
        app: App,
        table: Table,
        validated: list[tuple[Field, Any, Any]],
        now: int | None = None,
        known: dict[str, dict[str, str]] | None = None,
    ) -> Record:
        """A new record with the validated values (what ``_apply`` does, for a record with none).
        ``known``: the batch's option cache (``_resolve_options``)."""
        now = self._now_ms() if now is None else now
        table.seq += 1
        values: dict[str, Any] = {}
        record = Record(self._new_id("rec", 7), table.seq, values, now, now, self.operator, self.operator)
        table.records[record.record_id] = record
        for f, normalized, _ in validated:
            if normalized is None:
                continue
            t = f.type
            if t == SINGLE_SELECT:
                values[f.field_id] = self._resolve_options(f, normalized, known)[0]
            elif t == MULTI_SELECT:
                values[f.field_id] = self._resolve_options(f, normalized, known)
            elif isinstance(normalized, list | dict):
                values[f.field_id] = copy.deepcopy(normalized)
            else:
                values[f.field_id] = normalized
            if t == DUPLEX_LINK:
                self._sync_back_links(app, table, f, record.record_id, [], values[f.field_id])
        return record

    def _unlink_deleted(self, app: App, table: Table, deleted: set[str]) -> None:
        """Remove deleted records from every link field that points at ``table``."""
        for other in app.tables.values():
            link_fields = [
                f.field_id
                for f in other.fields.values()
                if f.type in LINK_TYPES and (f.property or {}).get("table_id") == table.table_id
            ]
            if not link_fields:
                continue
            changed = False
            for record in other.records.values():
                for fid in link_fields:
                    links = record.values.get(fid)
                    if links and any(x in deleted for x in links):
                        kept = [x for x in links if x not in deleted]
                        if kept:
                            record.values[fid] = kept
                        else:
                            del record.values[fid]
                        changed = True
            if changed:
                other.touch()

    @staticmethod
    def _echo(record: Record, validated: list[tuple[Field, Any, Any]]) -> dict[str, Any]:
        return {
            "fields": {f.name: echo for f, _, echo in validated},
            "id": record.record_id,
            "record_id": record.record_id,
        }
