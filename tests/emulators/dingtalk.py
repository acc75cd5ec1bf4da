"""In-process emulator of the DingTalk AI Table (Notable) open API v1.0, plus the two legacy ``oapi``
endpoints used to turn a userId into the unionId that every notable call needs as ``operatorId``.

Sources: /work/shared/reference/dingtalk-notable-insert-records.txt and dingtalk-notable-list-records.txt
(the provider's own pages: paths, params, caps, error tables), dingtalk-ai-table-skill.txt (breath57
skill, [3P]) and provider-api-notes.md section 1 ([SDK]/[DOC] unless tagged [3P]/[INF] there or below).

One emulator serves both hosts (``https://api.dingtalk.com`` and ``https://oapi.dingtalk.com``); requests
are dispatched on the path only (the oapi paths are distinct), so both base URLs may point at it.

Emulated endpoints
------------------
api.dingtalk.com (errors: HTTP >= 400 with ``{"code", "message", "requestid"}``; requestid unique):

* ``POST /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` -> ``{"accessToken", "expireIn": 7200}``.
* ``GET|POST /v1.0/notable/bases/{baseId}/sheets`` (list ``{"value": [{id, name}]}`` / create ``{id, name}``),
  ``GET|PUT|DELETE .../sheets/{sheetIdOrName}`` (``{id, name}`` / rename ``{id, name}`` / ``{"success": true}``).
* ``GET|POST .../sheets/{s}/fields`` (``{"value": [{id, name, type, property?}]}`` / ``{id, name, type, property?}``),
  ``PUT|DELETE .../fields/{fieldIdOrName}`` (``{"id"}`` / ``{"success": true}``).
* ``POST .../records`` (insert, ``?clientToken=``) -> ``{"value": [{"id"}]}``; ``PUT .../records`` (update)
  -> ``{"value": [{"id"}]}``; ``POST .../records/list`` and ``GET .../records`` (SDK-only simple list) ->
  ``{"hasMore", "nextToken", "records"}``; ``GET .../records/{recordId}`` -> Record;
  ``POST .../records/delete`` ``{recordIds}`` -> ``{"success": true}``; ``POST .../records/truncate``;
  ``POST /v1.0/notable/bases/{baseId}/changedRecordIds/query`` ``{clientToken}`` -> ``{"changedRecordIds"}``.
* Record = ``{"id", "fields": {<field name>: value}, "createdTime": ms, "createdBy": {"unionId"},
  "lastModifiedTime": ms, "lastModifiedBy": {"unionId"}}``; a field with no value is absent from ``fields``.

oapi.dingtalk.com (errors: HTTP 200 with ``{"errcode", "errmsg", "request_id"}``):

* ``GET /gettoken?appkey=&appsecret=`` -> ``{"errcode": 0, "errmsg": "ok", "access_token", "expires_in": 7200}``.
* ``POST /topapi/v2/user/get?access_token=`` ``{"userid"}`` -> ``{"errcode": 0, "errmsg": "ok", "result":
  {"userid", "unionid", "union_id", "name", ...}, "request_id"}``.
  The legacy token is not valid on api.dingtalk.com and the v1.0 token is not valid on oapi [3P].

Documented limits enforced
--------------------------
* Tokens live 7200 s (``token_ttl``) on ``self.clock``; an expired or unknown token is refused.
* ``x-acs-dingtalk-access-token`` required on every notable call; ``operatorId`` (a unionId) on every
  notable call: absent -> 400 ``MissingoperatorId``.
* Scopes: reads need ``Notable.Base.Read.All``, writes ``Notable.Base.Write.All`` (both granted by
  default; ``scopes=`` narrows them) -> 403 ``Forbidden.AccessDenied.AccessTokenPermissionDenied`` [3P code].
* Rate limit [DOC]: ``qps`` (20) requests per second per app per API (API = method + path template) ->
  HTTP 403 ``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi``. On oapi user/get: errcode 90018 (the
  old-API code the same doc gives). Token endpoints are not limited.
* records/list [DOC]: ``maxResults`` int 1..100 (default 100), ``fieldIdOrNames`` <= 100 names, ``filter``
  ``{combination: and|or, conditions: [{field, operator, value: []}]}`` with the documented operators and
  the per-type operator table (dingtalk-mcp reference); anything else -> 400 invalidRequest.inputArgs.invalid.
* Insert/update/delete: at most ``max_write_records`` (100) records/ids per call -> 400
  invalidRequest.inputArgs.invalid. Only a community report states this cap ([3P]
  cryozerolabs/n8n-nodes-dingtalk#24, "插入限制100条"); the doc pages state none.
* ``clientToken`` on insert [DOC]: a repeated token never inserts again and answers 409
  ``invalidRequest.duplicateClientToken``; the records of the first request stay readable through
  ``changedRecordIds/query``. A token is used up only by a request that wrote (or whose answer was lost).
* The primary (first) field cannot be deleted [DOC data-structure].
* Unknown path or method -> 404 ``InvalidAction.NotFound``; unknown base, or an operator without access
  to it -> 404 ``invalidRequest.document.notFound`` (documented message); unknown sheet/field/record ->
  404 ``invalidRequest.resource.notFound``.

Faults (``emu.faults.add(kind, match=regex_on_"METHOD path", times=n)`` or ``emu.faults.rate``)
---------------------------------------------------------------------------------------------
Drawn after auth, scope and rate limit, before the operation. ``transient`` alternates between the two
documented retryable errors, 500 ``internalError`` and 504 ``service.timeout`` (nothing changes);
``throttle`` -> the 403 QPS answer; ``lost_response`` -> the write is performed fully, then
``LostResponse`` is raised (a read just gets a transient error). The oapi user/get renders them as
errcode -1 "系统繁忙" and 90018. Token endpoints are never faulted.

Doubtful points and choices
---------------------------
* Invalid/expired/missing token: code ``InvalidAuthentication``, message "不合法的access_token". The skill
  page says HTTP 401, but public reports of the real gateway (satorijs/satori#240, clougence/open-cdm#342,
  alibabacloud-sdk-php/dingtalk#1, all with request ids) show HTTP 400, and the skill's table is unreliable
  elsewhere (it says 429 for the QPS limit, which the rate-limit doc gives as 403). Default
  ``expired_token_status=400``; pass 401 for the skill's variant.
* v1.0 accessToken with wrong credentials: 400 ``invalidClientIdOrSecret`` [3P, DingTalk-Real-AI/
  dingtalk-workspace-cli#919]; a missing appKey / body: 400 ``MissingappKey`` / ``Missingbody`` (the
  gateway's "Missing<param>" / "<param> is mandatory for this action." pattern, aliyun/alibabacloud-php-sdk#36).
  The same pattern is used for other required top-level params (``Missingname``, ``Missingtype``,
  ``Missingrecords``, ``MissingrecordIds``, ``MissingclientToken``) [INF].
* A token fetched again while still valid is the same token with its lifetime renewed (DingTalk's
  gettoken page: "有效期内重复获取返回相同结果，并自动续期" [INF, from memory]); after expiry a new one is issued.
* Legacy errors [INF from public reports]: wrong appkey/appsecret -> 40089 "不合法的corpId或corpSecret";
  invalid or expired token -> 40014 "不合法的access_token"; unknown userid -> 60121 "找不到该用户";
  missing userid -> 40035 "不合法的参数". ``empty_unionid=True`` (or ``add_user(..., unionid_empty=True)``)
  answers ``unionid: ""`` so that ``union_id`` must be used (skill: exclusive-account orgs).
* operatorId that is not the unionId of a known user (e.g. a userId) -> 400 ``paramError-operatorId``
  [3P]; a known unionId that is not a member of the base -> 404 ``invalidRequest.document.notFound``
  (the documented message says "and the operatorId has permission to access it"). ``add_base(members=None)``
  lets every known user in.
* Value checks (section 1.7 formats). A mismatch answers 400 ``invalidRequest.inputArgs.invalid`` "the value
  'X' is invalid for field 'Y'" [3P]; ``value_error_status=500`` answers 500 ``internalError`` instead
  (the other 3P report). ``user`` written as ``["id"]`` is always 500 ``internalError`` and
  ``[{"id": ..}]`` 400 [3P]. A user unionId that is not a known user is invalid [INF]. Writes are
  all-or-nothing per request [INF].
  - text: a string (numbers are not coerced) [INF]. number: int/float or a numeric string, stored as a
    number and READ BACK AS A STRING ("123", "12.5"; an integral float reads "3").
  - singleSelect/multipleSelect: option names only (ids and unknown names are invalid: no auto-creation)
    [INF]; read ``{"id", "name"}`` / a list of them. Removing a choice removes it from records.
  - date: epoch ms (int) or an ISO-8601 / "YYYY-MM-DD[ HH:mm[:ss]]" / "YYYY/MM/DD[ HH:mm]" string; a
    string without an offset is read in UTC+8 (``timezone_offset_hours``) [INF]; read back as ms.
  - user ``[{"unionId"}]``; department ``[{"deptId"}]`` (any deptId accepted) [DOC]; ``multiple: false``
    fields take at most one [INF].
  - url: ``{"link", "text"?}`` (a bare string is invalid); text defaults to link [INF].
  - unidirectionalLink/bidirectionalLink: ``{"linkedRecordIds": [...]}``, ids must exist in the linked
    sheet [INF]. A bidirectionalLink field gets a paired field in the linked sheet (named after the
    source sheet) kept in sync; deleting either side deletes both [INF]. Ids of deleted records drop
    out of link values.
  - attachment: the upload flow is not emulated; a write takes ``[{"url", "filename"?, "size"?,
    "type"?}]`` and stores ``{filename, size, type, url}`` (the documented read format) [INF].
  - checkbox [INF: undocumented in v1.0]: a bool; ``false`` counts as empty (absent from ``fields``).
    currency/email/phone/rating/... are undocumented in v1.0 and rejected as field types.
  - ``null``, ``""``, ``[]``, ``{"linkedRecordIds": []}`` clear a field. Keys of ``fields`` are field
    names [DOC]; an unknown name -> 404 invalidRequest.resource.notFound (likewise in a filter and in
    ``fieldIdOrNames``, which also accept ids).
* Filter semantics [INF where the docs are silent]: ``value`` is a non-empty array except for
  empty/notEmpty (which ignore it). equal = any of the values, notEqual = none of them (an empty cell
  matches notEqual/notContain, never equal/greater/...). Text: equal is exact and case-sensitive;
  contain/notContain are case-INSENSITIVE substring tests. Number: numeric comparison, greater/less use
  ``value[0]``. singleSelect: equal/contain = the option is among the values (names or ids).
  multipleSelect, user, department: equal = exactly that set, contain = shares at least one, notContain =
  shares none. Date: compares epoch ms (ms or date strings). checkbox: equal/notEqual/empty/notEmpty;
  url, links, attachment: only empty/notEmpty. ``combination`` defaults to ``and``.
* Paging: records come in insertion order. ``nextToken`` is opaque (base64 of the sheet id and the
  sequence number of the last record returned), so it stays valid when sent again and when records
  are deleted in between; a token that does not decode, or belongs to another sheet -> 400 invalid.
  When ``hasMore`` is false ``nextToken`` is ``""`` (as in the skill's example).
* Delete with an id that does not exist -> 404 invalidRequest.resource.notFound and nothing is deleted
  (the docs say nothing) [INF]; same for update. Unknown clientToken in changedRecordIds/query ->
  ``{"changedRecordIds": []}`` [INF]. clientToken format is not checked (the docs ask for a UUID v4).
* Sheet names and field names must be unique (400 invalid) [INF]; a sheet created without ``fields``
  gets a primary text field "标题" [INF]. Field update needs ``name`` [SDK: required]; ``type`` in the
  body is ignored ([3P]: "type change silently ignored"); ``property`` keys given are merged in.
  Default properties: number ``{"formatter": "INT"}``, date ``{"formatter": "YYYY-MM-DD"}`` (skill
  examples), user/department/links ``{"multiple": true}``.
* ``set_base_state(base_id, "initializing"|"broken")`` makes every call on that base answer the
  documented 400 ``invalidRequest.document.stillInitializing`` / ``invalidRequest.document.broken``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import random
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx

from .base import EmulatorBase, LostResponse, json_response, read_json

API_PREFIX = "/v1.0/notable/bases/{baseId}"
SHEETS = API_PREFIX + "/sheets"
SHEET = SHEETS + "/{sheetIdOrName}"
FIELDS = SHEET + "/fields"
FIELD = FIELDS + "/{fieldIdOrName}"
RECORDS = SHEET + "/records"

READ_SCOPE = "Notable.Base.Read.All"
WRITE_SCOPE = "Notable.Base.Write.All"

FIELD_TYPES = (
    "text",
    "number",
    "singleSelect",
    "multipleSelect",
    "date",
    "user",
    "department",
    "attachment",
    "unidirectionalLink",
    "bidirectionalLink",
    "url",
    "checkbox",  # [INF] undocumented in v1.0
)
LINK_TYPES = ("unidirectionalLink", "bidirectionalLink")
NUMBER_FORMATTERS = (
    "INT",
    "FLOAT_1",
    "FLOAT_2",
    "FLOAT_3",
    "FLOAT_4",
    "THOUSAND",
    "THOUSAND_FLOAT",
    "PRESENT",
    "PRESENT_FLOAT",
    "CNY",
    "CNY_FLOAT",
    "HKD",
    "HKD_FLOAT",
    "USD",
    "USD_FLOAT",
    "EUR",
    "EUR_FLOAT",
    "JPY",
    "JPY_FLOAT",
)
DATE_FORMATTERS = ("YYYY-MM-DD", "YYYY-MM-DD HH:mm", "YYYY-MM-DD HH:mm:ss", "YYYY/MM/DD", "YYYY/MM/DD HH:mm")

OPERATORS = (
    "equal",
    "notEqual",
    "greater",
    "greaterEqual",
    "less",
    "lessEqual",
    "contain",
    "notContain",
    "empty",
    "notEmpty",
)
_EQ_CONTAIN = frozenset({"equal", "notEqual", "contain", "notContain", "empty", "notEmpty"})
OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    "text": _EQ_CONTAIN,
    "number": frozenset(
        {"equal", "notEqual", "greater", "greaterEqual", "less", "lessEqual", "empty", "notEmpty"}
    ),
    "singleSelect": _EQ_CONTAIN,
    "multipleSelect": _EQ_CONTAIN,
    "date": frozenset({"equal", "greater", "less", "empty", "notEmpty"}),
    "user": _EQ_CONTAIN,
    "department": _EQ_CONTAIN,
    "checkbox": frozenset({"equal", "notEqual", "empty", "notEmpty"}),  # [INF]
}
EMPTY_ONLY = frozenset({"empty", "notEmpty"})  # url, links, attachment [INF]

MAX_PAGE = 100
MAX_FIELD_NAMES = 100
DEFAULT_PRIMARY_NAME = "标题"

NUMERIC_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
DATE_SLASH_RE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(.*)")

# Documented messages (dingtalk-notable-*.txt error tables).
MSG_INTERNAL = "The server encountered an internal error and was unable to complete your request. Please try again later."
MSG_TIMEOUT = "The server is busy and unable to complete your request. Please try again later."
MSG_DOC_NOT_FOUND = (
    "Fail to find the requested resource by the given baseId. Please make sure the given baseId is valid, "
    "and the operatorId has permission to access it."
)
MSG_DUP_TOKEN = "Duplicate ClientToken detected. Please generate a new client token and retry."
MSG_INITIALIZING = "The document is under initialization. Please try again later"
MSG_BROKEN = "The document is broken and the server is unable to complete your request."
MSG_QPS = "The QPS of this app calling this API exceeds the limit; please wait 1 second and retry."
MSG_NO_API = "Specified api is not found, please check your url and method."
MSG_BAD_TOKEN = "不合法的access_token"

ALNUM = string.ascii_letters + string.digits


class ApiError(Exception):
    """An error answer of api.dingtalk.com."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class LegacyError(Exception):
    """An error answer of oapi.dingtalk.com (HTTP 200, errcode != 0)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalidRequest.inputArgs.invalid", message)


def _not_found(message: str) -> ApiError:
    return ApiError(404, "invalidRequest.resource.notFound", message)


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing{param}", f"{param} is mandatory for this action.")


@dataclass
class User:
    user_id: str
    union_id: str
    name: str
    unionid_empty: bool = False


@dataclass
class Field:
    id: str
    name: str
    type: str
    property: dict[str, Any] | None  # as rendered (None: no property key)

    def choice_by_name(self, name: str) -> dict[str, str] | None:
        for choice in (self.property or {}).get("choices", []):
            if choice["name"] == name:
                return choice
        return None

    def choice_ids(self) -> dict[str, str]:
        return {c["id"]: c["name"] for c in (self.property or {}).get("choices", [])}

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.property is not None:
            out["property"] = json.loads(json.dumps(self.property))
        return out


@dataclass
class Record:
    id: str
    seq: int
    values: dict[str, Any]  # field id -> stored native value (never empty)
    created_time: int
    created_by: str
    modified_time: int
    modified_by: str
    deleted: bool = False


@dataclass
class Sheet:
    id: str
    name: str
    fields: dict[str, Field] = field(default_factory=dict)  # id -> Field, in column order
    records: dict[str, Record] = field(default_factory=dict)  # id -> Record, insertion order
    order: list[Record] = field(default_factory=list)  # append-only (by seq), compacted lazily
    dead: int = 0

    def field_by(self, id_or_name: str) -> Field | None:
        f = self.fields.get(id_or_name)
        if f is not None:
            return f
        for f in self.fields.values():
            if f.name == id_or_name:
                return f
        return None

    def field_named(self, name: str) -> Field | None:
        for f in self.fields.values():
            if f.name == name:
                return f
        return None

    def primary(self) -> Field | None:
        return next(iter(self.fields.values()), None)


@dataclass
class Base:
    id: str
    name: str
    members: set[str] | None  # unionIds; None: every known user
    sheets: dict[str, Sheet] = field(default_factory=dict)
    client_tokens: dict[str, list[str]] = field(default_factory=dict)  # clientToken -> record ids
    state: Literal["ok", "initializing", "broken"] = "ok"
    used_ids: set[str] = field(default_factory=set)

    def sheet_by(self, id_or_name: str) -> Sheet | None:
        s = self.sheets.get(id_or_name)
        if s is not None:
            return s
        for s in self.sheets.values():
            if s.name == id_or_name:
                return s
        return None


@dataclass
class Token:
    app_key: str
    expires_at: float


class DingTalkEmulator(EmulatorBase):
    """Fake DingTalk Notable v1.0 + oapi user lookup; see the module docstring."""

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

    # ------------------------------------------------------------------ seeding / inspection helpers

    def add_app(self, app_key: str, app_secret: str) -> None:
        self.apps[app_key] = app_secret

    def add_user(self, user_id: str, union_id: str, name: str = "", *, unionid_empty: bool = False) -> None:
        """A user of the org: ``user_id`` (legacy userId) and ``union_id`` (what operatorId takes)."""
        user = User(user_id, union_id, name or user_id, unionid_empty)
        self.users[user_id] = user
        self.users_by_union[union_id] = user

    def add_base(self, base_id: str, name: str = "AI Table", members: Iterable[str] | None = None) -> Base:
        """An AI table (base) with no sheets. ``members``: unionIds that may use it (None: every user)."""
        base = Base(base_id, name, set(members) if members is not None else None)
        self.bases[base_id] = base
        return base

    def set_members(self, base_id: str, members: Iterable[str] | None) -> None:
        self.bases[base_id].members = set(members) if members is not None else None

    def set_base_state(self, base_id: str, state: Literal["ok", "initializing", "broken"]) -> None:
        self.bases[base_id].state = state

    def add_sheet(self, base_id: str, name: str, fields: list[dict[str, Any]] | None = None) -> str:
        """Create a sheet as the API would (same validation; ApiError if invalid); returns its id."""
        return self._do_create_sheet(self.bases[base_id], {"name": name, "fields": fields}).id

    def add_records(
        self, base_id: str, sheet: str, records: list[dict[str, Any]], operator: str | None = None
    ) -> list[str]:
        """Insert ``[{field name: write value}]`` as the API would (no batch cap); returns record ids."""
        base = self.bases[base_id]
        s = self._sheet(base, sheet)
        op = operator or next(iter(sorted(base.members or self.users_by_union)), "")
        prepared = [self._prepare_fields(base, s, fields, for_insert=True) for fields in records]
        return [self._insert(base, s, changes, op).id for changes in prepared]

    def sheet_id(self, base_id: str, name: str) -> str:
        return self._sheet(self.bases[base_id], name).id

    def fields(self, base_id: str, sheet: str) -> list[dict[str, Any]]:
        """The fields as the list-fields API renders them."""
        return [f.render() for f in self._sheet(self.bases[base_id], sheet).fields.values()]

    def records(self, base_id: str, sheet: str) -> list[dict[str, Any]]:
        """The stored records of a sheet, in insertion order, rendered exactly as the API returns them."""
        base = self.bases[base_id]
        s = self._sheet(base, sheet)
        return [self._render_record(base, s, rec, None) for rec in s.records.values()]

    def issue_token(self, app_key: str | None = None) -> str:
        """A valid v1.0 accessToken without HTTP (as ``POST /v1.0/oauth2/accessToken`` would give)."""
        return self._issue(self.tokens, app_key or self.app_key)

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

    # ------------------------------------------------------------------ tokens

    def _issue(self, store: dict[str, Token], app_key: str) -> str:
        now = self.clock.now()
        for tok, entry in store.items():
            if entry.app_key == app_key and entry.expires_at > now:
                entry.expires_at = now + self.token_ttl  # same token, lifetime renewed [INF]
                return tok
        tok = self._hex_token()
        store[tok] = Token(app_key, now + self.token_ttl)
        return tok

    async def _access_token(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        if not isinstance(body, dict):
            raise _missing("body")
        app_key = body.get("appKey")
        if not app_key:
            raise _missing("appKey")
        if self.apps.get(app_key) is None or self.apps[app_key] != body.get("appSecret"):
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        return self._ok({"accessToken": self._issue(self.tokens, app_key), "expireIn": self.token_ttl})

    async def _legacy_gettoken(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        app_key, secret = q.get("appkey", ""), q.get("appsecret", "")
        if not app_key or self.apps.get(app_key) is None or self.apps[app_key] != secret:
            raise LegacyError(40089, "不合法的corpId或corpSecret")
        token = self._issue(self.legacy_tokens, app_key)
        return json_response(
            200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}
        )

    async def _legacy_user_get(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        if not isinstance(body, dict):
            form = parse_qs(request.content.decode("utf-8", "replace")) if request.content else {}
            body = {k: v[0] for k, v in form.items()}
        userid = body.get("userid") or request.url.params.get("userid")
        if not isinstance(userid, str) or not userid:
            raise LegacyError(40035, "不合法的参数")
        user = self.users.get(userid)
        if user is None:
            raise LegacyError(60121, "找不到该用户")
        empty = self.empty_unionid or user.unionid_empty
        result = {
            "userid": user.user_id,
            "unionid": "" if empty else user.union_id,
            "union_id": user.union_id,
            "name": user.name,
            "active": True,
            "admin": False,
            "boss": False,
            "dept_id_list": [1],
        }
        return json_response(
            200, {"errcode": 0, "errmsg": "ok", "result": result, "request_id": self._alnum(13).lower()}
        )

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

    # ------------------------------------------------------------------ fields

    async def _list_fields(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        return self._ok({"value": [f.render() for f in s.fields.values()]})

    async def _create_field(self, request: httpx.Request, baseId: str, sheetIdOrName: str) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        body = self._body(request)
        fname, ftype = self._check_field_head(body)
        if s.field_named(fname) is not None:
            raise _invalid(f"a field named '{fname}' already exists")
        prop = self._new_property(base, ftype, body.get("property"), None)
        f = self._add_field(base, s, fname, ftype, prop)
        return self._ok(f.render())

    async def _update_field(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str, fieldIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        f = self._field(s, fieldIdOrName)
        body = self._body(request)
        name = body.get("name")
        if name is None or name == "":
            raise _missing("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("name must be a non-empty string")
        other = s.field_named(name)
        if other is not None and other is not f:
            raise _invalid(f"a field named '{name}' already exists")
        prop = f.property
        if body.get("property") is not None:  # "type" is not in the request model: ignored [3P]
            prop = self._new_property(base, f.type, body["property"], f)
        f.name = name
        f.property = prop
        return self._ok({"id": f.id})

    async def _delete_field(
        self, request: httpx.Request, baseId: str, sheetIdOrName: str, fieldIdOrName: str
    ) -> httpx.Response:
        base, _ = self._open_base(request, baseId)
        s = self._sheet(base, sheetIdOrName)
        f = self._field(s, fieldIdOrName)
        if f is s.primary():
            raise _invalid(f"the primary field '{f.name}' cannot be deleted")
        self._drop_field(s, f)
        if f.type == "bidirectionalLink":
            prop = f.property or {}
            linked = base.sheets.get(prop.get("linkedSheetId", ""))
            pair = linked.fields.get(prop.get("linkedFieldId", "")) if linked else None
            if linked is not None and pair is not None and pair is not linked.primary():
                self._drop_field(linked, pair)
        return self._ok({"success": True})

    @staticmethod
    def _drop_field(sheet: Sheet, f: Field) -> None:
        sheet.fields.pop(f.id, None)
        for rec in sheet.records.values():
            rec.values.pop(f.id, None)

    @staticmethod
    def _check_field_head(raw: dict[str, Any]) -> tuple[str, str]:
        fname, ftype = raw.get("name"), raw.get("type")
        if fname is None or fname == "":
            raise _missing("name")
        if not isinstance(fname, str) or not fname.strip():
            raise _invalid("field name must be a non-empty string")
        if ftype is None or ftype == "":
            raise _missing("type")
        if ftype not in FIELD_TYPES:
            raise _invalid(f"unsupported field type '{ftype}'")
        return fname, ftype

    def _new_property(self, base: Base, ftype: str, raw: Any, current: Field | None) -> dict[str, Any] | None:
        """The normalized (rendered) property of a new field, or of ``current`` updated with ``raw``."""
        if raw is not None and not isinstance(raw, dict):
            raise _invalid("property must be an object")
        raw = raw or {}
        old = dict(current.property or {}) if current is not None else {}
        if ftype == "number":
            fmt = raw.get("formatter", old.get("formatter", "INT"))
            if fmt not in NUMBER_FORMATTERS:
                raise _invalid(f"invalid number formatter '{fmt}'")
            return {"formatter": fmt}
        if ftype == "date":
            fmt = raw.get("formatter", old.get("formatter", "YYYY-MM-DD"))
            if fmt not in DATE_FORMATTERS:
                raise _invalid(f"invalid date formatter '{fmt}'")
            return {"formatter": fmt}
        if ftype in ("singleSelect", "multipleSelect"):
            if "choices" not in raw:
                return {"choices": old.get("choices", [])}
            choices = raw["choices"]
            if not isinstance(choices, list):
                raise _invalid("property.choices must be an array")
            existing = {c["id"]: c for c in old.get("choices", [])}
            by_name = {c["name"]: c for c in old.get("choices", [])}
            out: list[dict[str, str]] = []
            seen: set[str] = set()
            for c in choices:
                if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"].strip():
                    raise _invalid("each choice must be an object with a non-empty name")
                if c["name"] in seen:
                    raise _invalid(f"duplicate choice '{c['name']}'")
                seen.add(c["name"])
                keep = existing.get(c.get("id", "")) or by_name.get(c["name"])
                cid = keep["id"] if keep else self._new_id(base, 10)
                out.append({"id": cid, "name": c["name"]})
            return {"choices": out}
        if ftype in ("user", "department"):
            multiple = raw.get("multiple", old.get("multiple", True))
            if not isinstance(multiple, bool):
                raise _invalid("property.multiple must be a boolean")
            return {"multiple": multiple}
        if ftype in LINK_TYPES:
            multiple = raw.get("multiple", old.get("multiple", True))
            if not isinstance(multiple, bool):
                raise _invalid("property.multiple must be a boolean")
            if current is not None:  # the linked sheet cannot be changed [INF]
                return {**old, "multiple": multiple}
            linked = raw.get("linkedSheetId")
            if not isinstance(linked, str) or linked not in base.sheets:
                raise _invalid(f"property.linkedSheetId '{linked}' is not a sheet of this base")
            return {"multiple": multiple, "linkedSheetId": linked}
        return None  # text, url, attachment, checkbox: no property

    def _add_field(
        self, base: Base, sheet: Sheet, name: str, ftype: str, prop: dict[str, Any] | None
    ) -> Field:
        f = Field(self._new_id(base, 7), name, ftype, prop)
        sheet.fields[f.id] = f
        if ftype == "bidirectionalLink" and prop is not None:
            linked = base.sheets[prop["linkedSheetId"]]
            pair_name = sheet.name
            n = 2
            while linked.field_named(pair_name) is not None or (linked is sheet and pair_name == name):
                pair_name = f"{sheet.name} ({n})"
                n += 1
            pair = Field(
                self._new_id(base, 7),
                pair_name,
                "bidirectionalLink",
                {"multiple": True, "linkedSheetId": sheet.id, "linkedFieldId": f.id},
            )
            linked.fields[pair.id] = pair
            prop["linkedFieldId"] = pair.id
        return f

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

    # ------------------------------------------------------------------ filters

    def _compile_filter(self, base: Base, sheet: Sheet, flt: Any) -> Any:
        if flt is None:
            return None
        if not isinstance(flt, dict):
            raise _invalid("filter must be an object")
        combination = flt.get("combination", "and")
        if combination is None:
            combination = "and"
        if combination not in ("and", "or"):
            raise _invalid(f"filter.combination must be 'and' or 'or', got '{combination}'")
        conditions = flt.get("conditions")
        if not isinstance(conditions, list):
            raise _invalid("filter.conditions is required and must be an array")
        tests = [self._compile_condition(base, sheet, c) for c in conditions]
        if not tests:
            return None
        if combination == "and":
            return lambda rec: all(t(rec) for t in tests)
        return lambda rec: any(t(rec) for t in tests)

    def _compile_condition(self, base: Base, sheet: Sheet, cond: Any) -> Any:
        if not isinstance(cond, dict):
            raise _invalid("each filter condition must be an object")
        name, op = cond.get("field"), cond.get("operator")
        if not isinstance(name, str) or not name:
            raise _invalid("filter condition needs a field")
        f = self._field(sheet, name)
        if op not in OPERATORS:
            raise _invalid(f"unknown filter operator '{op}'")
        allowed = OPERATORS_BY_TYPE.get(f.type, EMPTY_ONLY)
        if op not in allowed:
            raise _invalid(f"operator '{op}' is not supported for field '{f.name}' of type '{f.type}'")
        fid = f.id

        def present(rec: Record) -> Any:
            stored = rec.values.get(fid)
            if stored is None:
                return None
            if f.type in LINK_TYPES:
                return self._live_links(base, f, stored) or None
            if f.type == "singleSelect":
                return stored if stored in f.choice_ids() else None
            if f.type == "multipleSelect":
                ids = f.choice_ids()
                return [c for c in stored if c in ids] or None
            return stored

        if op == "empty":
            return lambda rec: present(rec) is None
        if op == "notEmpty":
            return lambda rec: present(rec) is not None

        values = cond.get("value")
        if not isinstance(values, list) or not values:
            raise _invalid(f"filter condition on '{f.name}' needs value as a non-empty array")
        bad = _invalid(
            f"filter value {json.dumps(values, ensure_ascii=False)} is invalid for field '{f.name}'"
        )
        negative = op in ("notEqual", "notContain")

        def make(test: Any) -> Any:
            if negative:
                return lambda rec: (v := present(rec)) is None or not test(v)
            return lambda rec: (v := present(rec)) is not None and test(v)

        t = f.type
        if t == "text":
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
                raise bad
            strs = [str(v) for v in values]
            if op in ("equal", "notEqual"):
                return make(lambda v: v in strs)
            lowered = [s.lower() for s in strs]
            return make(lambda v: any(s in v.lower() for s in lowered))
        if t == "number":
            nums = [self._parse_number(v) for v in values]
            if any(n is None for n in nums):
                raise bad
            return make(_compare(op, nums))
        if t == "date":
            stamps = [self._parse_date(v) for v in values]
            if any(s is None for s in stamps):
                raise bad
            return make(_compare(op, stamps))
        if t == "checkbox":
            if not all(isinstance(v, bool) for v in values):
                raise bad
            want = values[0]
            if op == "equal":
                return (lambda rec: present(rec) is True) if want else (lambda rec: present(rec) is None)
            return (lambda rec: present(rec) is None) if want else (lambda rec: present(rec) is True)
        if t in ("singleSelect", "multipleSelect"):
            if not all(isinstance(v, str) for v in values):
                raise bad
            ids = f.choice_ids()
            wanted: set[str] = set()
            for v in values:
                if v in ids:
                    wanted.add(v)
                else:
                    choice = f.choice_by_name(v)
                    wanted.add(choice["id"] if choice else f"\0{v}")  # unknown: matches nothing
            if t == "singleSelect":
                return make(lambda v: v in wanted)
            return make(_set_test(op, wanted))
        if t in ("user", "department"):
            key = "unionId" if t == "user" else "deptId"
            if not all(isinstance(v, dict) and v.get(key) not in (None, "") for v in values):
                raise bad
            wanted_ids = {str(v[key]) for v in values}
            test = _set_test(op, wanted_ids)
            return make(lambda v: test([str(x) for x in v]))
        raise bad  # pragma: no cover (EMPTY_ONLY types returned above)


def _compare(op: str, targets: list[Any]) -> Any:
    first = targets[0]
    if op == "equal":
        return lambda v: v in targets
    if op == "notEqual":
        return lambda v: v in targets  # negated by the caller
    if op == "greater":
        return lambda v: v > first
    if op == "greaterEqual":
        return lambda v: v >= first
    if op == "less":
        return lambda v: v < first
    return lambda v: v <= first  # lessEqual


def _set_test(op: str, wanted: set[str]) -> Any:
    if op in ("equal", "notEqual"):
        return lambda v: set(v) == wanted
    return lambda v: bool(set(v) & wanted)  # contain / notContain (negated by the caller)
