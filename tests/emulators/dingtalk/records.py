"""DingTalk emulator: the records endpoints (insert with clientToken, list, get, update, delete, changedRecordIds)."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from typing import TYPE_CHECKING, Any

import httpx

from .errors import MSG_DUP_TOKEN, ApiError, _invalid, _missing, _not_found
from .state import MAX_FIELD_NAMES, MAX_PAGE, Base, Field, Record, Sheet

if TYPE_CHECKING:
    pass


class RecordsMixin:
    """DingTalk emulator: the records endpoints (insert with clientToken, list, get, update, delete, changedRecordIds) (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ record writes

    def _prepare_fields(self, base: Base, sheet: Sheet, fields: Any, *, for_insert: bool) -> dict[str, Any]:
        """field id -> stored value (None = clear), validated; raises on the first problem."""
        if not isinstance(fields, dict):
            raise _invalid("fields must be an object keyed by field name")
        changes: dict[str, Any] = {}
        for name, value in fields.items():
            f = sheet.field_named(name)
            if f is None:
                raise _not_found(f"field '{name}' does not exist in sheet '{sheet.name}'")
            stored = self._store_value(base, f, value)
            if stored is None and for_insert:
                continue
            changes[f.id] = stored
        return changes

    def _insert(self, base: Base, sheet: Sheet, changes: dict[str, Any], operator: str) -> Record:
        now = self._now_ms()
        self._seq += 1
        rec = Record(self._new_id(base, 10), self._seq, {}, now, operator, now, operator)
        sheet.records[rec.id] = rec
        sheet.order.append(rec)
        self._apply(base, sheet, rec, changes)
        return rec

    def _apply(self, base: Base, sheet: Sheet, rec: Record, changes: dict[str, Any]) -> None:
        for fid, stored in changes.items():
            f = sheet.fields[fid]
            old = rec.values.get(fid)
            if stored is None:
                rec.values.pop(fid, None)
            else:
                rec.values[fid] = stored
            if f.type == "bidirectionalLink":
                self._sync_pair(base, sheet, f, rec.id, old or [], stored or [])

    @staticmethod
    def _sync_pair(base: Base, sheet: Sheet, f: Field, rid: str, old: list[str], new: list[str]) -> None:
        prop = f.property or {}
        linked = base.sheets.get(prop.get("linkedSheetId", ""))
        pair_id = prop.get("linkedFieldId", "")
        if linked is None or pair_id not in linked.fields:
            return
        for other_id in set(old) - set(new):
            other = linked.records.get(other_id)
            if other is not None and rid in other.values.get(pair_id, []):
                rest = [x for x in other.values[pair_id] if x != rid]
                if rest:
                    other.values[pair_id] = rest
                else:
                    del other.values[pair_id]
        for other_id in new:
            other = linked.records.get(other_id)
            if other is not None:
                current = other.values.setdefault(pair_id, [])
                if rid not in current:
                    current.append(rid)

    def _check_batch(self, items: Any, what: str) -> list[Any]:
        if not isinstance(items, list):
            raise _invalid(f"{what} must be an array")
        if not items:
            raise _invalid(f"{what} must not be empty")
        if len(items) > self.max_write_records:
            raise _invalid(f"{what} must contain at most {self.max_write_records} items, got {len(items)}")
        return items

    async def _insert_records(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str
    ) -> httpx.Response:
        base, operator = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        client_token = request.url.params.get("clientToken", "")
        if client_token and client_token in base.client_tokens:
            raise ApiError(409, "invalidRequest.duplicateClientToken", MSG_DUP_TOKEN)
        body = self._body(request)
        if "records" not in body or body["records"] is None:
            raise _missing("records")
        items = self._check_batch(body["records"], "records")
        prepared: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict) or "fields" not in item:
                raise _invalid("each record must be an object with fields")
            prepared.append(self._prepare_fields(base, s, item["fields"], for_insert=True))
        ids = [self._insert(base, s, changes, operator).id for changes in prepared]
        if client_token:
            base.client_tokens[client_token] = list(ids)
        return self._ok({"value": [{"id": i} for i in ids]})

    async def _update_records(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str
    ) -> httpx.Response:
        base, operator = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        body = self._body(request)
        if "records" not in body or body["records"] is None:
            raise _missing("records")
        items = self._check_batch(body["records"], "records")
        prepared: list[tuple[Record, dict[str, Any]]] = []
        for item in items:
            if not isinstance(item, dict):
                raise _invalid("each record must be an object with id and fields")
            rid = item.get("id")
            if not isinstance(rid, str) or not rid:
                raise _invalid("each record needs an id")
            if "fields" not in item:
                raise _invalid(f"record '{rid}' needs fields")
            rec = s.records.get(rid)
            if rec is None:
                raise _not_found(f"record '{rid}' does not exist")
            prepared.append((rec, self._prepare_fields(base, s, item["fields"], for_insert=False)))
        now = self._now_ms()
        for rec, changes in prepared:
            self._apply(base, s, rec, changes)
            rec.modified_time = now
            rec.modified_by = operator
        return self._ok({"value": [{"id": rec.id} for rec, _ in prepared]})

    async def _delete_records(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        body = self._body(request)
        if "recordIds" not in body or body["recordIds"] is None:
            raise _missing("recordIds")
        ids = self._check_batch(body["recordIds"], "recordIds")
        for rid in ids:
            if not isinstance(rid, str):
                raise _invalid("recordIds must be strings")
            if rid not in s.records:
                raise _not_found(f"record '{rid}' does not exist")
        for rid in dict.fromkeys(ids):
            self._remove(base, s, s.records[rid])
        self._compact(s)
        return self._ok({"success": True})

    async def _truncate_records(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        for rec in list(s.records.values()):
            self._remove(base, s, rec)
        self._compact(s)
        return self._ok({"success": True})

    def _remove(self, base: Base, sheet: Sheet, rec: Record) -> None:
        for fid, f in sheet.fields.items():
            if f.type == "bidirectionalLink" and fid in rec.values:
                self._sync_pair(base, sheet, f, rec.id, rec.values[fid], [])
        del sheet.records[rec.id]
        rec.deleted = True
        sheet.dead += 1

    @staticmethod
    def _compact(sheet: Sheet) -> None:
        if sheet.dead > 256 and sheet.dead * 2 > len(sheet.order):
            sheet.order = [r for r in sheet.order if not r.deleted]
            sheet.dead = 0

    # ------------------------------------------------------------------ record reads

    async def _get_record(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str, recordId: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        rec = s.records.get(recordId)
        if rec is None:
            raise _not_found(f"record '{recordId}' does not exist")
        return self._ok(self._render_record(base, s, rec, None))

    async def _list_records(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        body = self._body(request)
        max_results = body.get("maxResults")
        if max_results is None:
            max_results = MAX_PAGE
        if (
            isinstance(max_results, bool)
            or not isinstance(max_results, int)
            or not 1 <= max_results <= MAX_PAGE
        ):
            raise _invalid(f"maxResults must be an integer from 1 to {MAX_PAGE}")
        only: set[str] | None = None
        names = body.get("fieldIdOrNames")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _invalid("fieldIdOrNames must be an array of strings")
            if len(names) > MAX_FIELD_NAMES:
                raise _invalid(f"fieldIdOrNames must contain at most {MAX_FIELD_NAMES} items")
            only = {self._field(s, n).id for n in names}
        predicate = self._compile_filter(base, s, body.get("filter"))
        return self._ok(self._page(base, s, max_results, body.get("nextToken"), predicate, only))

    async def _list_records_simple(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        raw = request.url.params.get("maxResults")
        max_results = MAX_PAGE
        if raw is not None:
            if not re.fullmatch(r"\d+", raw) or not 1 <= int(raw) <= MAX_PAGE:
                raise _invalid(f"maxResults must be an integer from 1 to {MAX_PAGE}")
            max_results = int(raw)
        return self._ok(self._page(base, s, max_results, request.url.params.get("nextToken"), None, None))

    def _page(
        self,
        base: Base,
        sheet: Sheet,
        max_results: int,
        next_token: Any,
        predicate: Any,
        only: set[str] | None,
    ) -> dict[str, Any]:
        after = self._decode_token(sheet, next_token)
        start = bisect.bisect_right(sheet.order, after, key=lambda r: r.seq) if after else 0
        out: list[dict[str, Any]] = []
        last_seq = 0
        has_more = False
        for i in range(start, len(sheet.order)):
            rec = sheet.order[i]
            if rec.deleted or (predicate is not None and not predicate(rec)):
                continue
            if len(out) == max_results:
                has_more = True
                break
            out.append(self._render_record(base, sheet, rec, only))
            last_seq = rec.seq
        token = self._encode_token(sheet, last_seq) if has_more else ""
        return {"hasMore": has_more, "nextToken": token, "records": out}

    @staticmethod
    def _encode_token(sheet: Sheet, seq: int) -> str:
        raw = json.dumps({"s": sheet.id, "k": seq}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_token(sheet: Sheet, token: Any) -> int:
        if token is None or token == "":
            return 0
        if not isinstance(token, str):
            raise _invalid("nextToken must be a string")
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            seq = data["k"]
            ok = data["s"] == sheet.id and isinstance(seq, int)
        except (ValueError, KeyError, TypeError, binascii.Error):
            ok = False
        if not ok:
            raise _invalid(f"nextToken '{token}' is invalid")
        return seq

    async def _changed_record_ids(self, request: httpx.Request, baseId: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        token = self._body(request).get("clientToken")
        if token is None or token == "":
            raise _missing("clientToken")
        if not isinstance(token, str):
            raise _invalid("clientToken must be a string")
        return self._ok({"changedRecordIds": list(base.client_tokens.get(token, []))})
