"""GPTBots emulator: the HTTP endpoints (tables, records pages, import, update, delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from ..base import json_response
from .errors import (
    BAD_FIELD_COUNT,
    BAD_FIELD_DESCRIPTION,
    BAD_FIELD_NAME,
    BAD_FIELD_TYPE,
    BAD_TABLE_DESCRIPTION,
    BAD_TABLE_NAME,
    NO_PERMISSION,
    PARAM_ERROR,
    TABLE_NAME_EXISTS,
    TOO_MANY_FIELDS,
    _BadRequest,
)
from .state import (
    FIELD_TYPES,
    MAX_DELETE_ITEMS,
    MAX_DESCRIPTION,
    MAX_IMPORT_CSV_BYTES,
    MAX_IMPORT_ROWS,
    MAX_PAGE_SIZE,
    MAX_UPDATE_BODY_BYTES,
    MAX_UPDATE_ITEMS,
    NAME_RE,
    OK,
    Field,
    ImportTask,
    Record,
    Table,
)
from .values import _is_int, _num

if TYPE_CHECKING:
    pass


class EndpointsMixin:
    """GPTBots emulator: the HTTP endpoints (tables, records pages, import, update, delete) (a part of :class:`GPTBotsEmulator`)."""

    # ------------------------------------------------------------------ endpoints

    async def _verify(self, request: httpx.Request, agent_id: str) -> httpx.Response:  # pragma: no cover
        return json_response(200, dict(OK))  # answered in dispatch (never faulted or limited)

    async def _create_table(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = self._body(request)
        name = body.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise _BadRequest(
                BAD_TABLE_NAME,
                "Invalid table name: at most 32 characters of a-z, 0-9 and _, starting with a letter",
            )
        description = body.get("description")
        if not isinstance(description, str) or not description.strip() or len(description) > MAX_DESCRIPTION:
            raise _BadRequest(
                BAD_TABLE_DESCRIPTION, "Invalid table description: required, at most 128 characters"
            )
        raw_fields = body.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise _BadRequest(BAD_FIELD_COUNT, "Invalid field count: fields must be a non-empty list")
        if len(raw_fields) > self.max_fields:
            raise _BadRequest(TOO_MANY_FIELDS, f"Too many fields: at most {self.max_fields}")
        fields: list[Field] = []
        seen: set[str] = set()
        for raw in raw_fields:
            if not isinstance(raw, dict):
                raise _BadRequest(PARAM_ERROR, "Parameter error: each field must be an object")
            fname = raw.get("name")
            if not isinstance(fname, str) or not NAME_RE.fullmatch(fname) or fname in seen:
                raise _BadRequest(
                    BAD_FIELD_NAME,
                    f"Invalid field name {fname!r}: at most 32 characters of a-z, 0-9 and _, "
                    "starting with a letter, unique in the table",
                )
            seen.add(fname)
            fdesc = raw.get("description")
            if not isinstance(fdesc, str) or not fdesc.strip() or len(fdesc) > MAX_DESCRIPTION:
                raise _BadRequest(
                    BAD_FIELD_DESCRIPTION,
                    f"Invalid field description of {fname!r}: required, at most 128 characters",
                )
            ftype = raw.get("type")
            if ftype not in FIELD_TYPES:
                raise _BadRequest(
                    BAD_FIELD_TYPE,
                    f"Invalid field type {ftype!r}: one of TEXT, INT, FLOAT, DATETIME, BOOLEAN",
                )
            for flag in ("required", "unique"):
                if flag in raw and not isinstance(raw[flag], bool):
                    raise _BadRequest(PARAM_ERROR, f"Parameter error: fields[].{flag} must be a boolean")
            fields.append(
                Field(fname, ftype, fdesc, bool(raw.get("required", False)), bool(raw.get("unique", False)))
            )
        if any(t.agent_id == agent_id and t.name == name for t in self.tables.values()):
            raise _BadRequest(TABLE_NAME_EXISTS, f"Table name {name!r} already exists")
        table = Table(self._object_id(), agent_id, name, description, fields)
        self.tables[table.id] = table
        return json_response(200, {**OK, "data": table.id})

    async def _tables_page(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = self._body(request)
        wanted = body.get("agent_id")
        if not isinstance(wanted, str) or not wanted:
            raise _BadRequest(PARAM_ERROR, "Parameter error: agent_id is required")
        if wanted != agent_id:
            raise _BadRequest(NO_PERMISSION, "No permission to access this agent")
        tables = [
            {
                "table_id": t.id,
                "name": t.name,
                "description": t.description,
                "field_number": len(t.fields),
                "record_count": len(t.records),
            }
            for t in self.tables.values()
            if t.agent_id == agent_id
        ]
        if self.tables_page_envelope:
            return json_response(200, {**OK, "data": {"tables": tables}})
        return json_response(200, {"tables": tables})

    async def _import_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = self._body(request)
        table = self._table_for(agent_id, body.get("table_id"))
        records = body.get("records")
        if not isinstance(records, list) or not records:
            raise _BadRequest(PARAM_ERROR, "Parameter error: records must be a non-empty list")
        if len(records) > MAX_IMPORT_ROWS:
            raise _BadRequest(PARAM_ERROR, f"Parameter error: at most {MAX_IMPORT_ROWS} records per request")
        rows: list[dict[str, Any]] = []
        for rec in records:
            if not isinstance(rec, dict):
                raise _BadRequest(PARAM_ERROR, "Parameter error: each record must be an object")
            if len(rec) == 1 and isinstance(rec.get("values"), dict):
                rec = rec["values"]
            rows.append(dict(rec))
        if self._csv_size(table, rows) > MAX_IMPORT_CSV_BYTES:
            raise _BadRequest(PARAM_ERROR, "Parameter error: the data converted to CSV exceeds 10 MB")
        duration = max(self.import_min_seconds, len(rows) / 1000 * self.import_seconds_per_1000_rows)
        task = ImportTask(self._object_id(), table.id, agent_id, rows, self.clock.now(), duration)
        self.tasks[task.id] = task
        table.queue.append(task)
        self._busy[table.id] = table
        return json_response(200, {**OK, "data": [task.id]})

    async def _import_results(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        ids = request.url.params.get_list("ids")
        if not ids:
            raise _BadRequest(PARAM_ERROR, "Parameter error: ids is required")
        found = [t for i in ids if (t := self.tasks.get(i)) is not None and t.agent_id == agent_id]
        if self.import_results_legacy:
            data = [
                {k: v for k, v in self._render_task(t).items() if k in ("id", "progress", "status")}
                for t in found
            ]
            return json_response(200, {**OK, "data": data})
        data = [self._render_task(t) for t in found]
        if self.import_results_bare:
            return json_response(200, data)
        overall = _num(sum(d["progress"] for d in data) / len(data)) if data else 0
        return json_response(200, {**OK, "progress": overall, "data": data})

    async def _records_page(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = self._body(request)
        table = self._table_for(agent_id, body.get("table_id"))
        page, size = body.get("page"), body.get("page_size")
        if not _is_int(page) or page < 1:
            raise _BadRequest(PARAM_ERROR, "Parameter error: page must be an integer >= 1")
        if not _is_int(size) or not 1 <= size <= MAX_PAGE_SIZE:
            raise _BadRequest(PARAM_ERROR, "Parameter error: page_size must be an integer from 1 to 100")
        keyword = body.get("keyword")
        if keyword is not None and not isinstance(keyword, str):
            raise _BadRequest(PARAM_ERROR, "Parameter error: keyword must be a string")
        flt = body.get("filter")
        candidates: list[Record]
        if flt is None or flt == {}:
            candidates = list(table.records.values()) if keyword else []
        else:
            rid = self._resolve_filter(table, flt)
            if isinstance(rid, str):  # an error message
                raise _BadRequest(PARAM_ERROR, f"Parameter error: {rid}")
            candidates = [table.records[rid[0]]] if rid is not None else []
        if keyword:
            needle = keyword.lower()
            texts = [f.name for f in table.fields if f.type == "TEXT"]
            candidates = [
                r
                for r in candidates
                if any(isinstance(v := r.value.get(n), str) and needle in v.lower() for n in texts)
            ]
        start = (page - 1) * size
        if flt in (None, {}) and not keyword:
            total = len(table.records)
            page_records = []
            for i, rec in enumerate(table.records.values()):
                if i >= start + size:
                    break
                if i >= start:
                    page_records.append(rec)
        else:
            total = len(candidates)
            page_records = candidates[start : start + size]
        data = {
            "table_info": self._table_info(table),
            "records": [self._render_record(table, r) for r in page_records],
            "total_count": total,
        }
        if self.records_page_envelope:
            return json_response(200, {**OK, "data": data})
        return json_response(200, data)

    async def _update_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        if len(request.content) > MAX_UPDATE_BODY_BYTES:
            raise _BadRequest(PARAM_ERROR, "Parameter error: the request body exceeds 5 MB")
        body = self._body(request)
        table = self._table_for(agent_id, body.get("table_id"))
        is_create = body.get("is_create", False)
        if not isinstance(is_create, bool):
            raise _BadRequest(PARAM_ERROR, "Parameter error: is_create must be a boolean")
        items = body.get("update_data")
        if not isinstance(items, list) or not items:
            raise _BadRequest(PARAM_ERROR, "Parameter error: update_data must be a non-empty list")
        if len(items) > MAX_UPDATE_ITEMS:
            raise _BadRequest(PARAM_ERROR, f"Parameter error: at most {MAX_UPDATE_ITEMS} items per request")
        if not all(isinstance(i, dict) for i in items):
            raise _BadRequest(PARAM_ERROR, "Parameter error: each update_data item must be an object")
        success, fails = 0, []
        for item in items:
            reason = self._apply_update(table, item, is_create)
            if reason is None:
                success += 1
            else:
                target = (
                    {"record_id": item["record_id"]}
                    if "record_id" in item
                    else {"filter": item.get("filter")}
                )
                fails.append(
                    {"upsert_data": {**target, "value": item.get("updated_fields")}, "fail_reason": reason}
                )
        result = {
            "totalCount": len(items),
            "success_count": success,
            "fail_count": len(fails),
            "fail_detail": fails,
        }
        if self.update_envelope:
            return json_response(200, {**OK, "data": result})
        return json_response(200, result)

    async def _delete_records(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        body = self._body(request)
        table = self._table_for(agent_id, body.get("table_id"))
        items = body.get("delete_data")
        if not isinstance(items, list) or not items:
            raise _BadRequest(PARAM_ERROR, "Parameter error: delete_data must be a non-empty list")
        if len(items) > MAX_DELETE_ITEMS:
            raise _BadRequest(PARAM_ERROR, f"Parameter error: at most {MAX_DELETE_ITEMS} items per request")
        targets: list[str] = []
        for item in items:
            if not isinstance(item, dict):
                raise _BadRequest(PARAM_ERROR, "Parameter error: each delete_data item must be an object")
            if "record_id" in item:
                rid = item["record_id"]
                if not isinstance(rid, str) or not rid:
                    raise _BadRequest(PARAM_ERROR, "Parameter error: record_id must be a string")
                targets.append(rid)
            elif "filter" in item:
                found = self._resolve_filter(table, item["filter"])
                if isinstance(found, str):
                    raise _BadRequest(PARAM_ERROR, f"Parameter error: {found}")
                if found is not None:
                    targets.append(found[0] if isinstance(found, tuple) else found)
            else:
                raise _BadRequest(PARAM_ERROR, "Parameter error: each item needs record_id or filter")
        for rid in targets:
            rec = table.records.pop(rid, None)
            if rec is not None:
                self._unindex(table, rec)
        return json_response(200, dict(OK))
