"""GPTBots emulator: the GPTBotsEmulator class (its parts are the mixins of this package), ids, dispatch."""

from __future__ import annotations

import random
from typing import Any, Literal

import httpx

from ..base import EmulatorBase, LostResponse, json_response, read_json
from .endpoints import EndpointsMixin
from .errors import (
    AUTH_FAILED,
    INTERNAL,
    NO_PERMISSION,
    NOT_FOUND_PATH,
    PARAM_ERROR,
    TABLE_NOT_FOUND,
    THROTTLED,
    _BadRequest,
)
from .imports import ImportsMixin
from .records import RecordsMixin
from .state import OK, ImportTask, SeedingMixin, Table
from .values import RenderMixin


class GPTBotsEmulator(SeedingMixin, EndpointsMixin, RecordsMixin, ImportsMixin, RenderMixin, EmulatorBase):
    """Fake GPTBots database API; see the package docstring (__init__.py) for what is emulated and why."""

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
