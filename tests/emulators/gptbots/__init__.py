"""In-process emulator of the GPTBots agent database API (``https://api-<ep>.gptbots.ai``).

Sources: /work/shared/reference/gptbots-database-add-records.txt (the provider's "Add Table Data"
page) and docs/provider-api-notes.md section 3 ([DOC] facts unless marked [3P]/[INF] there or below).

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

Layout: one module per section (errors, values, state, records, imports, endpoints); ``emulator.GPTBotsEmulator`` composes their
mixins with the ids, routing and dispatch. A new feature goes in a new module whose mixin joins
``GPTBotsEmulator``'s bases (its routes registered in ``emulator``).
"""

from .emulator import GPTBotsEmulator
from .errors import _BadRequest

__all__ = ["GPTBotsEmulator", "_BadRequest"]
