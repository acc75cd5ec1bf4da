"""DingTalk emulator: the DingTalkEmulator class (its parts are the mixins of this package), ids, dispatch."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta, timezone
from typing import Any, Literal

import httpx

from ..base import EmulatorBase, LostResponse, json_response, read_json
from .auth import AuthMixin
from .errors import (
    MSG_BAD_TOKEN,
    MSG_BROKEN,
    MSG_DOC_NOT_FOUND,
    MSG_INITIALIZING,
    MSG_INTERNAL,
    MSG_NO_API,
    MSG_QPS,
    MSG_TIMEOUT,
    ApiError,
    LegacyError,
    _invalid,
    _missing,
    _not_found,
)
from .fields import FieldsMixin
from .records import RecordsMixin
from .search import SearchMixin
from .state import (
    ALNUM,
    API_PREFIX,
    FIELD,
    FIELDS,
    READ_SCOPE,
    RECORDS,
    SHEET,
    SHEETS,
    WRITE_SCOPE,
    Base,
    Field,
    SeedingMixin,
    Sheet,
    Token,
    User,
)
from .tables import SheetsMixin
from .values import ValuesMixin


class DingTalkEmulator(
    SeedingMixin, AuthMixin, SheetsMixin, FieldsMixin, ValuesMixin, SearchMixin, RecordsMixin, EmulatorBase
):
    """Fake DingTalk Notable v1.0 + oapi user lookup; see the package docstring (__init__.py)."""

    def __init__(
        self,
        *,
        app_key: str = "dingtestappkey",
        app_secret: str = "dingtestappsecret",
        latency: float = 0.0,
        qps: float = 20,
        token_ttl: int = 7200,
        expired_token_status: Literal[400, 401] = 400,
        value_error_status: Literal[400, 500] = 400,
        empty_unionid: bool = False,
        scopes: Iterable[str] | None = None,
        max_write_records: int = 100,
        timezone_offset_hours: float = 8,
        seed: int = 20240601,
        **base: Any,
    ) -> None:
        super().__init__(latency=latency, **base)
        if expired_token_status not in (400, 401):
            raise ValueError("expired_token_status must be 400 or 401")
        if value_error_status not in (400, 500):
            raise ValueError("value_error_status must be 400 or 500")
        self.apps: dict[str, str] = {app_key: app_secret}
        self.app_key = app_key
        self.qps = qps
        self.token_ttl = token_ttl
        self.expired_token_status = expired_token_status
        self.value_error_status = value_error_status
        self.empty_unionid = empty_unionid
        self.scopes: set[str] = set(scopes) if scopes is not None else {READ_SCOPE, WRITE_SCOPE}
        self.max_write_records = max_write_records
        self.tz = timezone(timedelta(hours=timezone_offset_hours))

        self.users: dict[str, User] = {}  # userId -> User
        self.users_by_union: dict[str, User] = {}
        self.bases: dict[str, Base] = {}
        self.tokens: dict[str, Token] = {}  # v1.0 accessToken
        self.legacy_tokens: dict[str, Token] = {}  # oapi access_token
        self._rng = random.Random(seed)
        self._seq = 0
        self._transient_flip = 0

        r = self.router
        r.add("POST", "/v1.0/oauth2/accessToken", self._access_token)
        r.add("GET", "/gettoken", self._legacy_gettoken)
        r.add("POST", "/topapi/v2/user/get", self._legacy_user_get)
        r.add("GET", SHEETS, self._list_sheets)
        r.add("POST", SHEETS, self._create_sheet)
        r.add("GET", SHEET, self._get_sheet)
        r.add("PUT", SHEET, self._rename_sheet)
        r.add("DELETE", SHEET, self._delete_sheet)
        r.add("GET", FIELDS, self._list_fields)
        r.add("POST", FIELDS, self._create_field)
        r.add("PUT", FIELD, self._update_field)
        r.add("DELETE", FIELD, self._delete_field)
        r.add("POST", RECORDS, self._insert_records)
        r.add("PUT", RECORDS, self._update_records)
        r.add("GET", RECORDS, self._list_records_simple)
        r.add("POST", RECORDS + "/list", self._list_records)
        r.add("POST", RECORDS + "/delete", self._delete_records)
        r.add("POST", RECORDS + "/truncate", self._truncate_records)
        r.add("GET", RECORDS + "/{recordId}", self._get_record)
        r.add("POST", API_PREFIX + "/changedRecordIds/query", self._changed_record_ids)
        self._token_routes = {"/v1.0/oauth2/accessToken", "/gettoken"}
        self._legacy_routes = {"/topapi/v2/user/get"}
        self._read_routes = {
            ("GET", SHEETS),
            ("GET", SHEET),
            ("GET", FIELDS),
            ("GET", RECORDS),
            ("POST", RECORDS + "/list"),
            ("GET", RECORDS + "/{recordId}"),
            ("POST", API_PREFIX + "/changedRecordIds/query"),
        }

    # ------------------------------------------------------------------ ids, time

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def _alnum(self, n: int) -> str:
        return "".join(self._rng.choice(ALNUM) for _ in range(n))

    def _new_id(self, base: Base, n: int) -> str:
        while True:
            new = self._alnum(n)
            if new not in base.used_ids:
                base.used_ids.add(new)
                return new

    def _request_id(self) -> str:
        h = f"{self._rng.getrandbits(128):032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _hex_token(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    # ------------------------------------------------------------------ dispatch

    async def dispatch(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        matched = self.router.match(method, path)
        if matched is None:
            return self._error(ApiError(404, "InvalidAction.NotFound", MSG_NO_API))
        route, params = matched
        if route.name in self._token_routes:  # never limited or faulted
            try:
                return await route.handler(request)
            except ApiError as exc:
                return self._error(exc)
            except LegacyError as exc:
                return self._legacy_error(exc)
        if route.name in self._legacy_routes:
            return await self._dispatch_legacy(request, route.handler, route.name)

        fault = None
        try:
            app = self._authenticate(request)
            is_write = (method, route.name) not in self._read_routes
            scope = WRITE_SCOPE if is_write else READ_SCOPE
            if scope not in self.scopes:
                raise ApiError(
                    403,
                    "Forbidden.AccessDenied.AccessTokenPermissionDenied",
                    f"No permission to call this API; the app needs the scope [{scope}].",
                )
            if not self.limiter.allow(f"{app}|{method} {route.name}", self.qps):
                raise self._qps_error()
            fault = self.faults.draw(method, path, is_write)
            if fault == "transient":
                raise self._transient_error()
            if fault == "throttle":
                raise self._qps_error()
            response = await route.handler(request, **params)
        except ApiError as exc:
            return self._error(exc)
        if fault == "lost_response":
            raise LostResponse()
        return response

    async def _dispatch_legacy(self, request: httpx.Request, handler: Any, name: str) -> httpx.Response:
        try:
            token = request.url.params.get("access_token", "")
            entry = self.legacy_tokens.get(token)
            if entry is None or entry.expires_at <= self.clock.now():
                raise LegacyError(40014, MSG_BAD_TOKEN)
            if not self.limiter.allow(f"{entry.app_key}|legacy {name}", self.qps):
                raise LegacyError(90018, "当前企业调用该接口超过每秒调用次数的上限")
            fault = self.faults.draw(request.method, request.url.path, False)
            if fault == "transient":
                raise LegacyError(-1, "系统繁忙")
            if fault == "throttle":
                raise LegacyError(90018, "当前企业调用该接口超过每秒调用次数的上限")
            return await handler(request)
        except LegacyError as exc:
            return self._legacy_error(exc)

    def _authenticate(self, request: httpx.Request) -> str:
        token = request.headers.get("x-acs-dingtalk-access-token", "")
        entry = self.tokens.get(token) if token else None
        if entry is None or entry.expires_at <= self.clock.now():
            raise ApiError(self.expired_token_status, "InvalidAuthentication", MSG_BAD_TOKEN)
        return entry.app_key

    def _error(self, exc: ApiError) -> httpx.Response:
        rid = self._request_id()
        body = {"code": exc.code, "message": exc.message, "requestid": rid}
        return json_response(exc.status, body, headers={"x-acs-request-id": rid})

    def _legacy_error(self, exc: LegacyError) -> httpx.Response:
        body = {"errcode": exc.errcode, "errmsg": exc.errmsg, "request_id": self._alnum(13).lower()}
        return json_response(200, body)

    def _transient_error(self) -> ApiError:
        self._transient_flip ^= 1
        if self._transient_flip:
            return ApiError(500, "internalError", MSG_INTERNAL)
        return ApiError(504, "service.timeout", MSG_TIMEOUT)

    @staticmethod
    def _qps_error() -> ApiError:
        return ApiError(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", MSG_QPS)

    def _ok(self, body: Any) -> httpx.Response:
        return json_response(200, body, headers={"x-acs-request-id": self._request_id()})

    # ------------------------------------------------------------------ common lookups

    def _open_base(self, request: httpx.Request, base_id: str) -> tuple[Base, str]:
        """The base and the operator's unionId, after the operatorId / access / state checks."""
        operator = request.url.params.get("operatorId", "")
        if not operator:
            raise _missing("operatorId")
        if operator not in self.users_by_union:
            raise ApiError(
                400, "paramError-operatorId", f"operatorId '{operator}' is invalid: it must be a unionId"
            )
        base = self.bases.get(base_id)
        if base is None or (base.members is not None and operator not in base.members):
            raise ApiError(404, "invalidRequest.document.notFound", MSG_DOC_NOT_FOUND)
        if base.state == "initializing":
            raise ApiError(400, "invalidRequest.document.stillInitializing", MSG_INITIALIZING)
        if base.state == "broken":
            raise ApiError(400, "invalidRequest.document.broken", MSG_BROKEN)
        return base, operator

    @staticmethod
    def _sheet(base: Base, id_or_name: str) -> Sheet:
        s = base.sheet_by(id_or_name)
        if s is None:
            raise _not_found(f"sheet '{id_or_name}' does not exist")
        return s

    @staticmethod
    def _field(sheet: Sheet, id_or_name: str) -> Field:
        f = sheet.field_by(id_or_name)
        if f is None:
            raise _not_found(f"field '{id_or_name}' does not exist in sheet '{sheet.name}'")
        return f

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any]:
        if not request.content:
            return {}
        body = read_json(request)
        if not isinstance(body, dict):
            raise _invalid("the request body must be a JSON object")
        return body
