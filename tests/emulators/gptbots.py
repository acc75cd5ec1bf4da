"""In-process emulator of the GPTBots agent database API (``https://api-<ep>.gptbots.ai``).

Sources: /work/shared/reference/gptbots-database-add-records.txt (the provider's "Add Table Data"
page) and provider-api-notes.md section 3 ([DOC] facts unless marked [3P]/[INF] there or below).

Emulated endpoints
------------------
* ``GET  /v1/api-key/verify`` [3P]: ``{"code": 0, "message": "OK"}`` for a valid key.
* ``POST /v1/database/create-table`` -> ``{"code": 0, "message": "OK", "data": "<24-hex table id>"}``.
* ``POST /v1/database/tables/page`` ``{"agent_id"}`` -> bare ``{"tables": [{table_id, name, description,
  field_number, record_count}]}`` (newer page). ``tables_page_envelope=True`` wraps it as
  ``{"code": 0, "message": "OK", "data": {"tables": [...]}}``.
* ``POST /v1/database/import/records`` ``{"table_id", "records"}`` -> ``{"code": 0, "message": "OK",
  "data": ["<task id>"]}``. Asynchronous: see "Imports" below.
* ``GET  /v1/database/query/import-results?ids=..&ids=..`` -> newer form ``{"code", "message",
  "progress", "data": [{id, progress, status, total_count, success_count, fail_count, fail_detail}]}``;
  ``import_results_legacy=True``: older form ``{"code", "message", "data": [{id, progress, status}]}``;
  ``import_results_bare=True``: the newest EN page's form, the bare list ``[{id, progress, ...}]``.
* ``POST /v1/database/records/page`` -> ``{"code": 0, "message": "OK", "data": {"table_info": {...},
  "records": [{id, value, created_at, updated_at}], "total_count"}}``; ``records_page_envelope=False``
  answers the bare ``data`` object (the newer EN page).
* ``POST /v2/database/update/record`` -> bare ``{"totalCount", "success_count", "fail_count",
  "fail_detail": [{"upsert_data": {record_id|filter, "value"}, "fail_reason"}]}``;
  ``update_envelope=True`` wraps it in ``{"code": 0, "message": "OK", "data": ...}``.
* ``POST /v2/database/delete/record`` -> ``{"code": 0, "message": "OK"}``.

Documented limits enforced
--------------------------
* Auth ``Authorization: Bearer <key>``; one key = one agent (``api_keys={key: agent_id}``).
* GET for queries, POST for submissions; a wrong verb is an error (overview page).
* create-table: table name <= 32 chars ``[a-z][a-z0-9_]*`` (403100); description required, <= 128
  (403101); fields required, non-empty list (403102); field name same rule as the table name, unique
  within the table (403103); field description required, <= 128 (403104); type in TEXT | INT | FLOAT |
  DATETIME | BOOLEAN (403105); more than ``max_fields`` fields (403111); name already used by a table
  of this agent (403108). ``required``/``unique`` must be booleans when present (40000).
* import: <= 1000 records per call and the payload's CSV rendering <= 10 MB (else 40000). Unique-field
  values must be present, non-empty, <= 256 chars, not repeated in the batch and not already stored.
* records/page: ``page`` >= 1, ``page_size`` 1..100 (both required ints, else 40000); ``filter`` must
  name exactly one field and that field must be ``unique`` (newer EN page; else 40000).
* update v2: 1..100 items, request body <= 5 MB (else 40000).
* delete v2: 1..1000 items (else 40000); a filter must use one unique field (else 40000).
* Unknown table -> 403106; a table of another agent -> 403131 (records/page, update, delete per the
  docs; also applied to import and tables/page, see below).

Imports (asynchronous)
----------------------
An import creates a task; nothing is stored at once (defaults: ``import_seconds_per_1000_rows=0.2``,
``import_min_seconds=0``). Tasks of a table run one after the other; a task
takes ``max(import_min_seconds, rows / 1000 * import_seconds_per_1000_rows)`` seconds, measured on
``self.clock`` (which is real time plus whatever tests ``advance``: both work). Work is done lazily:
every API request (and the ``rows``/``records``/``task`` helpers) first processes the 10-row chunks
that are due by now. ``run_imports()`` does the same explicitly, ``finish_imports()`` completes all.

Doubtful points and choices
---------------------------
* HTTP statuses are undocumented. The codes look like ``HTTP status * 100`` (40000, 50000) or
  ``status + suffix`` (4031xx), so by default errors use that status: 40000 -> 400, 4031xx -> 403,
  50000 -> 500 [INF]. ``error_status="always_200"`` answers every envelope error with HTTP 200 (the
  other common style), so a client can be checked against both; a throttle stays HTTP 429.
* Request order: unknown path (404) / wrong verb (405), then the key, then the optional rate limit,
  then fault injection, then the operation.
* A missing, malformed or unknown key: HTTP 401 ``{"code": 40127, "message": "Developer authentication
  failed"}`` [INF: code recalled from GPTBots' conversation API pages; not in our sources].
* Wrong verb: HTTP 405 ``{"code": 40000, ...}``; unknown path: HTTP 404 ``{"code": 40400, ...}`` [INF].
* Rate limits are undocumented: ``rate_limit`` (requests/second per key) is off by default; when
  exceeded: HTTP 429 ``{"code": 42900, "message": "Too many requests"}`` [INF].
* Faults: transient -> HTTP 500 ``{"code": 50000, "message": "Internal system error"}`` (the documented
  code and text); throttle -> the 429 above; lost_response -> the write is applied (an import's task
  is created and will run) and the answer is lost.
* Import bodies: both record shapes are accepted per record: ``{"values": {...}}`` (EN/zh pages,
  es_ES copy) and flat ``{...}`` (the newer EN page in our reference file). A record is a wrapper iff
  its only key is ``values`` and that holds an object (field values are never objects).
* Chunk failures: the fail reasons quoted by the docs include MySQL's duplicate-key error 1062, i.e. a
  10-row chunk is written with one multi-row INSERT, which fails as a whole; with "otherwise an error
  will occur and the data will be discarded" and "fail_reason is the first failure in each chunk",
  the default (``import_discard="chunk"``) discards the WHOLE chunk holding a bad row. Each failed
  chunk gives one ``fail_detail`` item ``{"row": <1-based number of its first bad row>,
  "row_number_start": <first row of the chunk>, "row_number_end": <last row of the chunk>,
  "fail_reason"}`` (1-based, inclusive, numbered in the order of ``records``): every row in that range
  is not stored, every other row is. ``import_discard="rows"`` instead keeps the chunk's good rows
  (fail_detail still reports only the first failure per chunk, so a client must read back).
  ``fail_rows_named=False`` leaves ``row`` null in those items (the newest example's 1062 item names
  only its range), so a client cannot tell which row of the chunk was the bad one.
* Task status strings [INF]: ``PENDING`` (queued, nothing processed), ``PROCESSING``, ``SUCCESS`` (no
  row failed), ``FAIL`` (at least one row failed: ``success_count`` says how many were stored). The
  only documented example is ``{"progress": 0, "status": "FAIL"}``. ``progress`` is the processed
  fraction 0..1 and reaches 1 when the task is done (the notes: "poll until progress == 1");
  ``failed_task_progress="success_ratio"`` makes a finished FAIL task report success/total instead
  (0 when nothing was stored, as in the doc example), to check that a client treats status as final.
  The top-level ``progress`` is the mean of the listed tasks'. Unknown ids (or tasks of another
  agent) are left out of ``data``; no ``ids`` at all -> 40000.
* Values (the read examples: DATETIME ``"2029-10-01 12:00:00"``, BOOLEAN ``true``, INT ``1``, FLOAT
  ``2024.21``). Writes are checked strictly against these read forms: TEXT a string, INT a JSON
  integer in the signed 64-bit range, FLOAT a JSON number (read back as a float), BOOLEAN a JSON
  boolean, DATETIME exactly ``YYYY-MM-DD HH:MM:SS`` (no zone; stored as given). ``null`` and ``""``
  are both "empty" (the payload goes through CSV, which cannot tell them apart). Reads list every
  field of the table in ``value``; an empty one is ``null``. A field name the table lacks fails the row.
* IDs: table and task ids are 24-hex (Mongo style, as in the docs). Record ids follow the docs'
  examples: numeric strings (MySQL-style auto increment, rendered as 19-digit strings here).
  ``created_at``/``updated_at`` are epoch milliseconds. Records are listed in creation order.
* ``keyword``: case-insensitive substring match over TEXT values; combined with ``filter`` by AND.
* update v2 [DOC shape]: ``record_id`` wins over ``filter``; ``is_create`` (default false) creates a
  record when a ``filter`` target does not exist (a missing ``record_id`` always fails: the client
  cannot choose ids). Updated values are type checked; required fields cannot be emptied; unique
  fields stay non-empty, <= 256 chars and distinct. Item-level problems go to ``fail_detail``;
  a malformed body (not a list, an item not an object, over the caps) is a 40000.
* delete v2: ids that do not exist are ignored (the documented answer has no per-item detail).
* ``max_fields`` (403111) is 50 by default [INF: the number is undocumented].
* import, tables/page: their pages list only 40000/50000; an unknown table is still 403106 and
  another agent's table or agent_id 403131, like the other table endpoints [INF].
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

from .base import EmulatorBase, LostResponse, json_response, read_json

FIELD_TYPES = ("TEXT", "INT", "FLOAT", "DATETIME", "BOOLEAN")
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

MAX_DESCRIPTION = 128
MAX_IMPORT_ROWS = 1000
MAX_IMPORT_CSV_BYTES = 10 * 1024 * 1024
MAX_UNIQUE_CHARS = 256
MAX_PAGE_SIZE = 100
MAX_UPDATE_ITEMS = 100
MAX_UPDATE_BODY_BYTES = 5 * 1024 * 1024
MAX_DELETE_ITEMS = 1000
CHUNK_ROWS = 10

OK = {"code": 0, "message": "OK"}

# Error codes (provider-api-notes.md section 3; 40127/40400/42900 are [INF]).
PARAM_ERROR = 40000
AUTH_FAILED = 40127
NOT_FOUND_PATH = 40400
THROTTLED = 42900
INTERNAL = 50000
BAD_TABLE_NAME = 403100
BAD_TABLE_DESCRIPTION = 403101
BAD_FIELD_COUNT = 403102
BAD_FIELD_NAME = 403103
BAD_FIELD_DESCRIPTION = 403104
BAD_FIELD_TYPE = 403105
TABLE_NOT_FOUND = 403106
TABLE_NAME_EXISTS = 403108
TOO_MANY_FIELDS = 403111
NO_PERMISSION = 403131


@dataclass
class Field:
    name: str
    type: str
    description: str
    required: bool = False
    unique: bool = False

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "required": self.required,
            "unique": self.unique,
        }


@dataclass
class Record:
    id: str
    value: dict[str, Any]  # only non-empty values are stored
    created_at: int
    updated_at: int


@dataclass
class Table:
    id: str
    agent_id: str
    name: str
    description: str
    fields: list[Field]
    records: dict[str, Record] = field(default_factory=dict)  # insertion (= creation) order
    # unique field name -> stored value -> record id
    index: dict[str, dict[Any, str]] = field(default_factory=dict)
    queue: deque[ImportTask] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.index = {f.name: {} for f in self.fields if f.unique}


@dataclass
class ImportTask:
    id: str
    table_id: str
    agent_id: str
    rows: list[dict[str, Any]]
    created: float
    duration: float
    start: float | None = None  # when it reached the head of its table's queue
    processed: int = 0
    success_count: int = 0
    fail_count: int = 0
    fail_detail: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    @property
    def total(self) -> int:
        return len(self.rows)


class _BadRequest(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float)) and not isinstance(v, bool)


def _is_empty(v: Any) -> bool:
    return v is None or v == ""


class GPTBotsEmulator(EmulatorBase):
    """Fake GPTBots database API; see the module docstring for what is emulated and why."""

    def __init__(
        self,
        *,
        api_keys: dict[str, str] | None = None,
        latency: float = 0.0,
        rate_limit: float | None = None,
        import_seconds_per_1000_rows: float = 0.2,
        import_min_seconds: float = 0.0,
        import_discard: Literal["chunk", "rows"] = "chunk",
        failed_task_progress: Literal["processed", "success_ratio"] = "processed",
        max_fields: int = 50,
        error_status: Literal["mapped", "always_200"] = "mapped",
        tables_page_envelope: bool = False,
        records_page_envelope: bool = True,
        update_envelope: bool = False,
        import_results_legacy: bool = False,
        import_results_bare: bool = False,
        fail_rows_named: bool = True,
        seed: int = 7,
        **base: Any,
    ) -> None:
        super().__init__(latency=latency, **base)
        self.api_keys: dict[str, str] = dict(api_keys or {})
        self.rate_limit = rate_limit
        self.import_seconds_per_1000_rows = import_seconds_per_1000_rows
        self.import_min_seconds = import_min_seconds
        self.import_discard = import_discard
        self.failed_task_progress = failed_task_progress
        self.max_fields = max_fields
        self.error_status = error_status
        self.tables_page_envelope = tables_page_envelope
        self.records_page_envelope = records_page_envelope
        self.update_envelope = update_envelope
        self.import_results_legacy = import_results_legacy
        self.import_results_bare = import_results_bare
        self.fail_rows_named = fail_rows_named

        self.tables: dict[str, Table] = {}
        self.tasks: dict[str, ImportTask] = {}
        self._busy: dict[str, Table] = {}  # tables with queued import tasks
        self._rng = random.Random(seed)
        self._oid_counter = 0
        self._record_counter = 0

        r = self.router
        r.add("GET", "/v1/api-key/verify", self._verify)
        r.add("POST", "/v1/database/create-table", self._create_table)
        r.add("POST", "/v1/database/tables/page", self._tables_page)
        r.add("POST", "/v1/database/import/records", self._import_records)
        r.add("GET", "/v1/database/query/import-results", self._import_results)
        r.add("POST", "/v1/database/records/page", self._records_page)
        r.add("POST", "/v2/database/update/record", self._update_records)
        r.add("POST", "/v2/database/delete/record", self._delete_records)

    # ------------------------------------------------------------------ ids and time

    def _object_id(self) -> str:
        # Mongo ObjectId look: 4-byte "timestamp" + 8 random bytes; deterministic per seed.
        self._oid_counter += 1
        return f"{0x673AF861 + self._oid_counter:08x}{self._rng.getrandbits(64):016x}"

    def _record_id(self) -> str:
        self._record_counter += 1
        return str(1_860_000_000_000_000_000 + self._record_counter)

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    # ------------------------------------------------------------------ seeding / inspection helpers

    def add_api_key(self, key: str, agent_id: str) -> None:
        self.api_keys[key] = agent_id

    def add_table(
        self,
        agent_id: str,
        name: str,
        fields: list[dict[str, Any]],
        description: str | None = None,
        records: list[dict[str, Any]] | None = None,
    ) -> str:
        """Create a table directly (no validation of names); returns its 24-hex id.

        ``fields``: ``[{"name", "type", "description"?, "required"?, "unique"?}]``.
        ``records``: flat value dicts, stored at once (they must be valid; ValueError otherwise).
        """
        table = Table(
            id=self._object_id(),
            agent_id=agent_id,
            name=name,
            description=description if description is not None else name,
            fields=[
                Field(
                    name=f["name"],
                    type=f["type"],
                    description=f.get("description", f["name"]),
                    required=bool(f.get("required", False)),
                    unique=bool(f.get("unique", False)),
                )
                for f in fields
            ],
        )
        self.tables[table.id] = table
        if records:
            self.add_records(table.id, records)
        return table.id

    def add_records(self, table_id: str, rows: list[dict[str, Any]]) -> list[str]:
        """Store flat value dicts directly (validated like an import row); returns the record ids."""
        table = self.tables[table_id]
        ids = []
        for row in rows:
            value, reason = self._prepare_row(table, row, None)
            if value is None:
                raise ValueError(reason)
            ids.append(self._insert(table, value).id)
        return ids

    def rows(self, table_id: str) -> list[dict[str, Any]]:
        """The stored values of a table, in creation order, with every field (empty = None)."""
        self.run_imports()
        table = self.tables[table_id]
        return [self._full_value(table, rec) for rec in table.records.values()]

    def records(self, table_id: str) -> list[dict[str, Any]]:
        """The stored records as records/page renders them: ``{id, value, created_at, updated_at}``."""
        self.run_imports()
        table = self.tables[table_id]
        return [self._render_record(table, rec) for rec in table.records.values()]

    def task(self, task_id: str) -> dict[str, Any]:
        """An import task as the newer import-results form renders it."""
        self.run_imports()
        return self._render_task(self.tasks[task_id])

    def run_imports(self) -> None:
        """Process the import chunks that are due by ``self.clock.now()``."""
        self._advance(self.clock.now())

    def finish_imports(self) -> None:
        """Complete every pending import now, whatever its processing time."""
        self._advance(float("inf"))

    # ------------------------------------------------------------------ dispatch

    async def dispatch(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        matched = self.router.match(method, path)
        if matched is None:
            if self.router.allows_path(path):
                return self._error(PARAM_ERROR, f"Request method '{method}' not supported", status=405)
            return self._error(NOT_FOUND_PATH, "Not Found", status=404)
        route, params = matched

        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        agent_id = self.api_keys.get(key) if key else None
        if agent_id is None:
            return self._error(AUTH_FAILED, "Developer authentication failed", status=401)
        if route.handler == self._verify:
            return json_response(200, dict(OK))

        if self.rate_limit is not None and not self.limiter.allow(key, self.rate_limit):
            return self._throttled()

        is_write = route.handler in (
            self._create_table,
            self._import_records,
            self._update_records,
            self._delete_records,
        )
        fault = self.faults.draw(method, path, is_write)
        if fault == "transient":
            return self._error(INTERNAL, "Internal system error", status=500)
        if fault == "throttle":
            return self._throttled()

        self.run_imports()
        try:
            response = await route.handler(request, agent_id, **params)
        except _BadRequest as exc:
            return self._error(exc.code, exc.message)
        if fault == "lost_response":
            raise LostResponse()
        return response

    def _error(self, code: int, message: str, status: int | None = None) -> httpx.Response:
        if status is None:
            status = 403 if code >= 100000 else code // 100
        if self.error_status == "always_200":
            status = 200
        return json_response(status, {"code": code, "message": message})

    def _throttled(self) -> httpx.Response:
        return json_response(429, {"code": THROTTLED, "message": "Too many requests"})

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any]:
        body = read_json(request)
        if not isinstance(body, dict):
            raise _BadRequest(PARAM_ERROR, "Parameter error: the request body must be a JSON object")
        return body

    def _table_for(self, agent_id: str, table_id: Any) -> Table:
        if not isinstance(table_id, str) or not table_id:
            raise _BadRequest(PARAM_ERROR, "Parameter error: table_id is required")
        table = self.tables.get(table_id)
        if table is None:
            raise _BadRequest(TABLE_NOT_FOUND, "Table not found")
        if table.agent_id != agent_id:
            raise _BadRequest(NO_PERMISSION, "No permission to access the table")
        return table

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

    # ------------------------------------------------------------------ record logic

    def _resolve_filter(self, table: Table, flt: Any) -> str | tuple[str] | None:
        """Find the record a one-unique-field equality filter names.

        Returns ``(record_id,)`` when found, ``None`` when no record matches, or a ``str`` error message.
        """
        if not isinstance(flt, dict) or len(flt) != 1:
            return "filter must name exactly one unique field"
        ((name, value),) = flt.items()
        f = table.by_name.get(name)
        if f is None or not f.unique:
            return f"filter field {name!r} is not a unique field of the table"
        if _is_empty(value):
            return "filter value must not be empty"
        rid = table.index[name].get(self._filter_key(f, value))
        return (rid,) if rid is not None else None

    @staticmethod
    def _filter_key(f: Field, value: Any) -> Any:
        if f.type == "INT" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        if f.type == "FLOAT" and _is_number(value):
            return float(value)
        if f.type == "TEXT" and _is_number(value):
            return str(value)
        return value

    def _check_value(self, f: Field, v: Any) -> tuple[Any, str | None]:
        """(stored value, None) or (None, fail reason) for a non-empty value."""
        t = f.type
        if t == "TEXT":
            if not isinstance(v, str):
                return None, f"`{f.name}` must be TEXT (a string), got {v!r}"
            if f.unique and len(v) > MAX_UNIQUE_CHARS:
                return None, f"`{f.name}` is unique: its value must not exceed {MAX_UNIQUE_CHARS} characters"
            return v, None
        if t == "INT":
            if not _is_int(v) or not INT_MIN <= v <= INT_MAX:
                return None, f"`{f.name}` must be INT, got {v!r}"
            return v, None
        if t == "FLOAT":
            if not _is_number(v) or v != v or v in (float("inf"), float("-inf")):
                return None, f"`{f.name}` must be FLOAT, got {v!r}"
            return float(v), None
        if t == "BOOLEAN":
            if not isinstance(v, bool):
                return None, f"`{f.name}` must be BOOLEAN (true or false), got {v!r}"
            return v, None
        if t == "DATETIME":
            ok = isinstance(v, str) and DATETIME_RE.fullmatch(v)
            if ok:
                try:
                    datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
                except ValueError:
                    ok = False
            if not ok:
                return None, f"`{f.name}` must be DATETIME as 'YYYY-MM-DD HH:MM:SS', got {v!r}"
            return v, None
        return None, f"`{f.name}` has an unknown type"  # pragma: no cover

    def _prepare_row(
        self, table: Table, row: dict[str, Any], seen: dict[str, set[Any]] | None
    ) -> tuple[dict[str, Any] | None, str]:
        """Validate one import row. ``seen``: unique values of earlier good rows of the same chunk."""
        for key in row:
            if key not in table.by_name:
                return None, f"`{key}` is not a field of table `{table.name}`"
        value: dict[str, Any] = {}
        for f in table.fields:
            v = row.get(f.name)
            if _is_empty(v):
                if f.required or f.unique:
                    return None, f"`{f.name}` is required"
                continue
            stored, reason = self._check_value(f, v)
            if reason:
                return None, reason
            if f.unique:
                if stored in table.index[f.name]:
                    return None, f"Error 1062 (23000): Duplicate entry '{stored}' for key '{f.name}'"
                if seen is not None and stored in seen[f.name]:
                    return None, f"`{f.name}` must be unique: '{stored}' is repeated in the data"
            value[f.name] = stored
        return value, ""

    def _insert(self, table: Table, value: dict[str, Any]) -> Record:
        now = self._now_ms()
        rec = Record(self._record_id(), value, now, now)
        table.records[rec.id] = rec
        for name, idx in table.index.items():
            if name in value:
                idx[value[name]] = rec.id
        return rec

    @staticmethod
    def _unindex(table: Table, rec: Record) -> None:
        for name, idx in table.index.items():
            if name in rec.value and idx.get(rec.value[name]) == rec.id:
                del idx[rec.value[name]]

    def _apply_update(self, table: Table, item: dict[str, Any], is_create: bool) -> str | None:
        """Apply one update_data item; the fail reason, or None on success."""
        fields = item.get("updated_fields")
        if not isinstance(fields, dict):
            return "updated_fields must be an object"
        rec: Record | None = None
        create_from: dict[str, Any] | None = None
        if "record_id" in item:
            rid = item["record_id"]
            if not isinstance(rid, str) or not rid:
                return "record_id must be a string"
            rec = table.records.get(rid)
            if rec is None:
                return f"record {rid!r} not found"
        elif "filter" in item:
            found = self._resolve_filter(table, item["filter"])
            if isinstance(found, str):
                return found
            if found is None:
                if not is_create:
                    return "no record matches the filter"
                create_from = dict(item["filter"])
            else:
                rec = table.records[found[0]]
        else:
            return "record_id or filter is required"

        if rec is None:  # create (is_create with an unmatched filter)
            assert create_from is not None
            row = {**create_from, **fields}
            value, reason = self._prepare_row(table, row, None)
            if value is None:
                return reason
            self._insert(table, value)
            return None

        changes: dict[str, Any] = {}
        for name, v in fields.items():
            f = table.by_name.get(name)
            if f is None:
                return f"`{name}` is not a field of table `{table.name}`"
            if _is_empty(v):
                if f.required or f.unique:
                    return f"`{name}` is required"
                changes[name] = None
                continue
            stored, reason = self._check_value(f, v)
            if reason:
                return reason
            if f.unique:
                holder = table.index[name].get(stored)
                if holder is not None and holder != rec.id:
                    return f"Error 1062 (23000): Duplicate entry '{stored}' for key '{name}'"
            changes[name] = stored
        self._unindex(table, rec)
        for name, v in changes.items():
            if v is None:
                rec.value.pop(name, None)
            else:
                rec.value[name] = v
        for name, idx in table.index.items():
            if name in rec.value:
                idx[rec.value[name]] = rec.id
        rec.updated_at = self._now_ms()
        return None

    # ------------------------------------------------------------------ imports

    def _advance(self, now: float) -> None:
        for table_id in list(self._busy):
            table = self._busy[table_id]
            while table.queue:
                task = table.queue[0]
                if task.start is None:
                    task.start = task.created
                end = task.start + task.duration
                if now >= end:
                    due = task.total
                elif now <= task.start or task.duration <= 0:
                    due = 0
                else:
                    due = int((now - task.start) / task.duration * task.total) // CHUNK_ROWS * CHUNK_ROWS
                while task.processed < due:
                    self._process_chunk(table, task)
                if task.processed < task.total:
                    break
                task.done = True
                table.queue.popleft()
                if table.queue:
                    nxt = table.queue[0]
                    nxt.start = max(nxt.created, end)
            if not table.queue:
                del self._busy[table_id]

    def _process_chunk(self, table: Table, task: ImportTask) -> None:
        start = task.processed
        chunk = task.rows[start : start + CHUNK_ROWS]
        seen: dict[str, set[Any]] = {name: set() for name in table.index}
        good: list[dict[str, Any]] = []
        first_fail: tuple[int, str] | None = None
        bad = 0
        for offset, row in enumerate(chunk):
            value, reason = self._prepare_row(table, row, seen)
            if value is None:
                bad += 1
                if first_fail is None:
                    first_fail = (start + offset + 1, reason)
                if self.import_discard == "chunk":
                    break
                continue
            for name in seen:
                if name in value:
                    seen[name].add(value[name])
            good.append(value)
        if first_fail is not None and self.import_discard == "chunk":
            good, bad = [], len(chunk)
        for value in good:
            self._insert(table, value)
        task.success_count += len(good)
        task.fail_count += bad
        if first_fail is not None:
            task.fail_detail.append(
                {
                    "row": first_fail[0] if self.fail_rows_named else None,
                    "row_number_start": start + 1,
                    "row_number_end": start + len(chunk),
                    "fail_reason": first_fail[1],
                }
            )
        task.processed = start + len(chunk)

    def _render_task(self, task: ImportTask) -> dict[str, Any]:
        if task.done:
            status = "SUCCESS" if task.fail_count == 0 else "FAIL"
            if status == "FAIL" and self.failed_task_progress == "success_ratio":
                progress = _num(task.success_count / task.total)
            else:
                progress = 1
        else:
            started = task.start is not None and self.clock.now() > task.start
            status = "PROCESSING" if task.processed or started else "PENDING"
            progress = _num(task.processed / task.total)
        return {
            "id": task.id,
            "progress": progress,
            "status": status,
            "total_count": task.total,
            "success_count": task.success_count,
            "fail_count": task.fail_count,
            "fail_detail": [dict(d) for d in task.fail_detail],
        }

    @staticmethod
    def _csv_size(table: Table, rows: list[dict[str, Any]]) -> int:
        columns = [f.name for f in table.fields]
        known = set(columns)
        for row in rows:
            for key in row:
                if key not in known:
                    known.add(key)
                    columns.append(key)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)

        def cell(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, bool):
                return "true" if v else "false"
            return str(v)

        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
        return len(buf.getvalue().encode("utf-8"))

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _full_value(table: Table, rec: Record) -> dict[str, Any]:
        return {f.name: rec.value.get(f.name) for f in table.fields}

    def _render_record(self, table: Table, rec: Record) -> dict[str, Any]:
        return {
            "id": rec.id,
            "value": self._full_value(table, rec),
            "created_at": rec.created_at,
            "updated_at": rec.updated_at,
        }

    def _table_info(self, table: Table) -> dict[str, Any]:
        return {
            "id": table.id,
            "name": table.name,
            "description": table.description,
            "field_count": len(table.fields),
            "fields": [f.info() for f in table.fields],
            "bot_id": table.agent_id,
            "project_id": _hex_of(f"project:{table.agent_id}"),
            "owner_id": _hex_of(f"owner:{table.agent_id}"),
        }


def _num(x: float) -> float | int:
    """0 and 1 as ints (as in the docs' examples), other fractions rounded."""
    if x <= 0:
        return 0
    if x >= 1:
        return 1
    return round(x, 4)


def _hex_of(text: str) -> str:
    """A stable 24-hex id derived from ``text`` (for ids the API only echoes)."""
    return hashlib.sha1(text.encode()).hexdigest()[:24]
