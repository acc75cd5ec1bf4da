"""In-process emulator of the Feishu / Lark Bitable v1 open API (records, tables, fields, views, and
the base administration: app metadata, dashboards, forms, custom roles and their members).

Sources: /work/shared/reference/feishu-bitable-v1-reference.txt ("ref", section numbers A.n) and
provider-api-notes.md section 2 ("notes"; records/search, batch_get and the token endpoint are only
documented there).

Emulated
--------
* ``POST /open-apis/auth/v3/tenant_access_token/internal`` -> ``{code, msg, tenant_access_token, expire}``
  (no ``data`` envelope, notes 2.1). A token lives ``token_ttl`` (7200) s. Asking again with >= 30 min
  left returns the same token (``expire`` = seconds left); with < 30 min left a new token is issued and
  the old one stays valid until its own expiry (ref A.2 "3.鉴权"). Wrong credentials -> code 10014.
* Every bitable call needs ``Authorization: Bearer <token>``: missing -> 99991661, unknown or expired ->
  99991663 (notes 2.2).
* Tables (A.12-A.17): list, create (with ``fields``/``default_view_name``: returns ``table_id``,
  ``default_view_id``, ``field_id_list``), batch_create, PATCH rename, DELETE, batch_delete.
* Fields (A.37-A.40): list, create, update (PUT = full replacement: an omitted ``property`` or
  ``description`` is reset, A.5 "更新字段时为全量更新"), delete (the primary field cannot be deleted).
* Views (A.20-A.24): list, create, get, patch (name, filter_info, hidden_fields), delete. A view
  filter names select options by id (A.20's example); option names are refused (1254018).
* App metadata (A.10/A.11): GET ``{app: {app_token, name, revision, is_advanced}}``; PUT name and/or
  is_advanced, not atomic as A.11 says (the name changes first, then the switch). A base that cannot
  have advanced permissions (``App.advanced_allowed = False``: inside Docs, Sheets or the Wiki) ->
  1254301. Names: at most 100 characters, none of ``? / \\ * : [ ]`` -> 1254031.
* Dashboards (A.18/A.19): list (``dashboards``, page_size max 500) and copy (``name`` required; an
  unknown block -> 1254050, a name with ``[]`` or over 100 characters -> 1254038, a taken name ->
  1254039).
* Forms (A.25-A.28): a form is a view of type form (form_id = its view_id; an unknown id -> 1254042,
  a view that is not a form -> 1254005). GET/PATCH the metadata (``shared_limit`` off,
  tenant_editable or anyone_editable; sharing makes a ``shared_url``); list the questions (one per
  writable field, in question order; page_size max 100) and PATCH one (``pre_field_id`` moves it,
  ``""`` first; an unknown question -> 1254049; a question being or staying hidden takes no other
  change -> 1254001, A.27 "当值为 false 时,不允许更新其他字段"). Form writes are table writes
  (1254291 Write conflict, as the pages' note says).
* Custom roles (A.41-A.44): list (page_size max 30), create, PUT (a full replacement, answered with
  ``addrecords_perm``/``deleterecords_perm`` and no role_id, as A.44 shows), delete. Every role and
  member call needs advanced permissions on -> else 1254301, also for ``advanced_delay`` seconds
  after switching them on (A.7: "开启高级权限有延迟"). Limits: ``max_roles`` (30) -> 1254110; a role
  name that is empty or over 100 characters -> 1254032, taken -> 1254033; row/column settings
  (rec_rule, field_perm) where ``App.row_column_perms`` is False -> 1254304.
* Role members (A.45-A.49): list (page_size max 100; users, chats and departments as A.47 shows), add
  one (``member_id_type``: open_id, union_id, user_id, chat_id, department_id, open_department_id),
  add/remove in batch (``member_list`` of 1-100), remove one. An unknown member, or removing one
  that is not in the role -> 1254048 (nothing applied); ``max_members`` (200) -> 1254111.
* Records: POST records/search, GET records (deprecated list, formula ``filter`` string, A.4/A.30),
  GET/PUT/DELETE records/:id, POST records, batch_create, batch_update, batch_delete, batch_get.

Every response carries header ``X-Tt-Logid``; every error body carries ``error.log_id``. Business
errors use the envelope ``{code, msg, data: {}, error}`` with the HTTP status of the page's 错误码
table (mostly 200; the administration pages have their own tables: ``STATUS_PROFILES``). App state
lives in :class:`App` (one per app_token): metadata, tables, dashboards, roles and their members.

Test helpers (no HTTP)
----------------------
``add_app(app_token, name)``, ``add_table(app_token, name, fields=[...], records=[{name: value}])``,
``add_user(open_id, name, union_id=, user_id=, en_name=, email=)``, ``add_chat(chat_id, name)``,
``add_attachment(app_token, file_token, name, size, mime)``, ``add_credentials(app_id, secret)``,
``issue_token()``, ``add_department(open_department_id, name, department_id=)``,
``add_dashboard(app_token, name)``, ``add_role(app_token, role_name, table_roles, block_roles)``;
inspection: ``records(app_token, table)`` (records/search read format), ``cell(app_token, table,
record_id, field_name)`` (write format), ``field_list(...)``, ``table(...)``, ``app(...)`` (its
``advanced_allowed`` / ``row_column_perms`` flags can be set). Knobs: ``write_time``, ``rate_limits``
(by route name, see ``DEFAULT_RATE_LIMITS``), ``batch_limit``, ``batch_get_limit``,
``max_records_per_table``, ``max_tables``, ``max_fields``, ``max_views``, ``max_roles``,
``max_members``, ``advanced_delay``, ``token_ttl``, ``tz_offset_hours``, ``operator`` (open_id shown
as creator/modifier).
New endpoints are added in ``_routes()`` (one line each: method, path, handler, rate-limit name).

Documented limits enforced
--------------------------
* records/search and GET records: ``page_size`` max 500 (notes 2.5; A.30 text "单次最多列出 500 行");
  tables/fields/views lists: max 100 (A.13). Default page size 20.
* batch_create / batch_update / batch_delete: 500 records per call -> 1254104
  RecordAddOnceExceedLimit. The reference pages A.34/A.35 say "单次调用最多新增/更新 500 条" and A.2
  "单次最高 500 条"; the newer docs quoted in the notes say 1,000 for create/update. We follow the
  reference (500); ``batch_limit`` changes it.
* batch_get: 100 record ids (notes 2.5) -> 1254104 (no page documents another code).
* 20,000 records per table -> 1254103 RecordExceedLimit; 100 tables per app (A.2; the error text of
  1254100 says 300, the newer docs say 100) -> 1254100; 150 fields per table (A.2) -> 1254105;
  200 views per table -> 1254101.
* Rate limits per endpoint per developer app (sliding 1 s window): records/search 20/s and
  records/batch_create 50/s (notes 2.2 [DOC]); other record writes and batch_get 50/s, record
  list/get 20/s (notes 2.2 [3P]); tables/fields/views use the QPS printed on their reference page
  (lists 20/s, writes 10/s). Exceeding -> HTTP 429, headers ``x-ogw-ratelimit-limit`` and
  ``x-ogw-ratelimit-reset`` (seconds), body ``{code: 99991400, msg: "request trigger frequency limit"}``.
* Writes to one table are serialised: a write that starts while another write to the same table
  is in progress gets 1254291 "Write conflict" (ref error tables). Each write holds a per-table flag
  across ``await anyio.sleep(write_time)``; writes to different tables may overlap.
* ``client_token`` (create, batch_create, batch_update, update, field create/update): must be a
  standard uuid (else 1254037, HTTP 400). A repeated token with the same request answers the
  original result without writing again (the parameter text: "此值非空表示幂等的进行更新操作"); a
  repeated token with a different request -> 1255006 "Client token conflict" (HTTP 400). "The same
  request" is the same method, path, user_id_type and JSON body (key order aside). Only
  successful results are remembered: a failed request wrote nothing, so its token stays free.

Bulk writes and reads run the emulator's own Python in the caller's process; its hot paths
(value checks, storing, rendering) take fast paths for common values so that a 500-record batch
costs a few milliseconds of emulator CPU, small beside the latencies tests and benchmarks use.

Doubtful points and the choice made
-----------------------------------
* HTTP status of 99991661/99991663: no document gives it; we answer HTTP 400 (the gateway's usual
  status for these codes) with the gateway messages. Wrong credentials (10014) also get HTTP 400.
* Query-parameter validation (page_size over the cap, a malformed page_token, a bad user_id_type):
  no page documents a code; we answer the gateway's ``99992402 field validation failed`` (HTTP 400)
  with ``error.field_violations`` [INF].
* Read formats. records/search and batch_get (the current APIs): text as segments
  ``[{"text", "type": "text"}]`` (brief + notes 2.6), numbers as numbers, links as
  ``{"link_record_ids": [...]}`` (notes 2.6). Deprecated GET records (A.30) and GET records/:id
  (A.29): text as a plain string (segments with ``text_field_as_array=true``), links as
  ``[{record_ids, table_id, text, type}]``, and numbers as strings in the list but numbers in the
  single get - exactly as A.3 ("数字: 写入时为number，列出时为string") and the A.29/A.30 examples show.
  Write responses echo the written values (A.31/A.32/A.34 examples) with ``id`` and ``record_id``.
* Writing a computed/read-only field (19 lookup, 20 formula, 1001-1005) -> 1254015 "Field types do
  not match." with HTTP 400 (the newer record pages list 1254015 at 400; the reference record pages
  list no better code). Location and group-chat values that cannot be read -> 1254010 ReqConvError
  (no type-specific code exists).
* Deleting the primary field, or giving the primary field a type that cannot be an index field
  (only 1,2,5,13,15,20,22 can, per the SDK docs) -> 1254070 ActionValidateFailed.
* PUT field with no change at all -> 1254606 DataNotChange (listed only on A.39).
* Filter semantics (notes 2.5, operators per type as in the record filter guide): text ``is`` is an
  exact match, ``contains`` a case-insensitive substring (any of the values); single select ``is``
  = one of the values; multi select / user / link ``is`` = exactly that set, ``contains`` = shares
  at least one; numbers compare numerically; dates compare whole days in UTC+8 (``tz_offset_hours``).
  Date values: ``["ExactDate", "<ms>"]``, ``["Today"]``, ``["Tomorrow"]``, ``["Yesterday"]``,
  ``["CurrentWeek"]``, ``["LastWeek"]``, ``["CurrentMonth"]``, ``["LastMonth"]``, ``["TheLastWeek"]``
  (7 days up to today), ``["TheNextWeek"]``, ``["TheLastMonth"]`` (30 days), ``["TheNextMonth"]``.
  ``is`` = within that day/range, ``isGreater`` = after it, ``isLess`` = before it. Dates refuse
  isNot/contains/doesNotContain/isGreaterEqual/isLessEqual; ``like``/``in`` are refused everywhere
  (1254018 InvalidFilter). ``children`` may hold one level of ``{conjunction, conditions}`` groups;
  deeper nesting -> 1254018. Empty cells sort last in both directions.
* Select writes with an unknown option create it (documented); several equal new names in one
  multi-select value create several equal options (documented: "如果填写多个相同的新选项值，将会创建
  多个相同的选项").
* Record updates are incremental; ``null`` clears a cell (newer update page). Empty strings and
  empty lists also leave the cell empty (absent on read).
* Paging tokens are opaque offsets: re-usable, stable while the table does not change.
* A.18 shows a copied dashboard's answer as a bare ``{block_id, name}``; every other page (and the
  SDK) has the ``{code, msg, data}`` envelope, so the copy is answered inside it too.
* A.42 documents no answer body for a new role; we answer ``{role: {...}}`` with its role_id (the
  SDK's CreateAppRoleRespData), as A.41 lists it.
* Role bodies: the role pages list no code for an unknown table, dashboard, field or option in
  table_roles / block_roles, a bad permission value or a malformed rec_rule: 1254001
  WrongRequestBody. Record rules take select fields (values: option ids) and person fields or ``""``
  (the creator), which read back as ``contains`` the viewer with value null (A.41's example).
  A list over its "最大长度 100" -> 99992402 like the other parameter validations.
* Adding a member who already is one changes nothing and succeeds (no page lists an error for it).
* Transient faults rotate through 1254290 TooManyRequest (HTTP 200), 1254607 Data not ready
  (HTTP 400), 1255040 timeout (HTTP 504) - statuses from the record pages' tables - and a plain-text
  HTTP 500 / 503 from the gateway.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import math
import random
import re
import string
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from .base import Clock, EmulatorBase, LostResponse, json_response, read_json

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
PREFIX = "/open-apis/bitable/v1/apps/{app_token}"

# ---------------------------------------------------------------------------------------------
# Field types (ref A.3 / A.5, notes 2.6)

TEXT, NUMBER, SINGLE_SELECT, MULTI_SELECT, DATETIME, CHECKBOX = 1, 2, 3, 4, 5, 7
USER, PHONE, URL, ATTACHMENT, SINGLE_LINK, LOOKUP, FORMULA, DUPLEX_LINK = 11, 13, 15, 17, 18, 19, 20, 21
LOCATION, GROUP_CHAT = 22, 23
CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER = 1001, 1002, 1003, 1004, 1005

DEFAULT_UI_TYPE = {
    TEXT: "Text",
    NUMBER: "Number",
    SINGLE_SELECT: "SingleSelect",
    MULTI_SELECT: "MultiSelect",
    DATETIME: "DateTime",
    CHECKBOX: "Checkbox",
    USER: "User",
    PHONE: "Phone",
    URL: "Url",
    ATTACHMENT: "Attachment",
    SINGLE_LINK: "SingleLink",
    LOOKUP: "Lookup",
    FORMULA: "Formula",
    DUPLEX_LINK: "DuplexLink",
    LOCATION: "Location",
    GROUP_CHAT: "GroupChat",
    CREATED_TIME: "CreatedTime",
    MODIFIED_TIME: "ModifiedTime",
    CREATED_USER: "CreatedUser",
    MODIFIED_USER: "ModifiedUser",
    AUTO_NUMBER: "AutoNumber",
}
UI_TYPES = {TEXT: {"Text", "Email", "Barcode"}, NUMBER: {"Number", "Progress", "Currency", "Rating"}}
CREATABLE_TYPES = set(DEFAULT_UI_TYPE) - {LOOKUP}
INDEX_TYPES = {TEXT, NUMBER, DATETIME, PHONE, URL, FORMULA, LOCATION}
READ_ONLY_TYPES = {LOOKUP, FORMULA, CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER}
LINK_TYPES = {SINGLE_LINK, DUPLEX_LINK}
PLAIN_TYPES = frozenset({TEXT, NUMBER, DATETIME, CHECKBOX, PHONE})  # stored as read (numbers: but in lists)

CONV_ERROR = {
    TEXT: 1254060,
    NUMBER: 1254061,
    SINGLE_SELECT: 1254062,
    MULTI_SELECT: 1254063,
    DATETIME: 1254064,
    CHECKBOX: 1254065,
    USER: 1254066,
    SINGLE_LINK: 1254067,
    DUPLEX_LINK: 1254067,
    URL: 1254068,
    ATTACHMENT: 1254069,
    PHONE: 1254072,
}
PROPERTY_ERROR = {
    TEXT: 1254080,
    NUMBER: 1254081,
    SINGLE_SELECT: 1254082,
    MULTI_SELECT: 1254083,
    DATETIME: 1254084,
    CHECKBOX: 1254085,
    USER: 1254086,
    URL: 1254087,
    ATTACHMENT: 1254088,
    SINGLE_LINK: 1254089,
    LOOKUP: 1254090,
    FORMULA: 1254091,
    DUPLEX_LINK: 1254092,
    CREATED_TIME: 1254093,
    MODIFIED_TIME: 1254094,
    CREATED_USER: 1254095,
    MODIFIED_USER: 1254096,
}
NUMBER_FORMATTERS = {
    "0", "0.0", "0.00", "0.000", "0.0000", "1,000", "1,000.00", "%", "0.00%", "¥", "¥0.00", "$", "$0.00",
}  # fmt: skip
DATE_FORMATTERS = {
    "yyyy/MM/dd", "yyyy/MM/dd HH:mm", "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "MM-dd", "MM/dd/yyyy", "dd/MM/yyyy",
}  # fmt: skip
VIEW_TYPES = {"grid", "kanban", "gallery", "gantt", "form"}
SHARED_LIMITS = {"off", "tenant_editable", "anyone_editable"}  # A.25
TABLE_PERMS = {0, 1, 2, 4}  # A.42: none, read, edit records, edit fields and records
ROLE_OPERATORS = {"is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty"}  # A.44
MEMBER_ID_TYPES = ("open_id", "union_id", "user_id", "chat_id", "department_id", "open_department_id")

# ---------------------------------------------------------------------------------------------
# Error codes: message (the 描述 column) and HTTP status (the HTTP状态码 column of the pages)

MESSAGES = {
    1254000: "WrongRequestJson",
    1254001: "WrongRequestBody",
    1254002: "Fail",
    1254003: "WrongBaseToken",
    1254004: "WrongTableId",
    1254005: "WrongViewId",
    1254006: "WrongRecordId",
    1254010: "ReqConvError",
    1254012: "NotSupportFieldOrView",
    1254013: "TableNameDuplicated",
    1254014: "FieldNameDuplicated",
    1254015: "FieldTypeValueNotMatch",
    1254016: "InvalidSort",
    1254018: "InvalidFilter",
    1254019: "InvalidViewType",
    1254020: "ViewNameDuplicated",
    1254021: "EmptyViewName",
    1254022: "InvalidViewName",
    1254023: "LastViewDeleteForbidden",
    1254024: "InvalidFieldNames",
    1254026: "EmptyOptionName",
    1254027: "UploadAttachNotAllowed",
    1254028: "EmptyFieldName",
    1254029: "InvalidFieldName",
    1254031: "InvalidAppName",
    1254032: "InvalidRoleName",
    1254033: "RoleNameDuplicated",
    1254034: "The last table cannot be deleted.",
    1254037: "Invalid client token, make sure that it complies with the specification.",
    1254038: "Invalid name, make sure that it complies with the specification.",
    1254039: "Duplicated name, use another name instead.",
    1254040: "BaseTokenNotFound",
    1254041: "TableIdNotFound",
    1254042: "ViewIdNotFound",
    1254043: "RecordIdNotFound",
    1254044: "FieldIdNotFound",
    1254045: "FieldNameNotFound",
    1254047: "RoleIdNotFound",
    1254048: "MemberNotFound",
    1254049: "FormFieldNotFound",
    1254050: "Source block is not found.",
    1254060: "TextFieldConvFail",
    1254061: "NumberFieldConvFail",
    1254062: "SingleSelectFieldConvFail",
    1254063: "MultiSelectFieldConvFail",
    1254064: "DatetimeFieldConvFail",
    1254065: "CheckboxFieldConvFail",
    1254066: "UserFieldConvFail",
    1254067: "LinkFieldConvFail",
    1254068: "URLFieldConvFail",
    1254069: "AttachFieldConvFail",
    1254070: "ActionValidateFailed",
    1254072: "Failed to convert phone field, please make sure it is correct.",
    1254080: "TextFieldPropertyError",
    1254081: "NumberFieldPropertyError",
    1254082: "SingleSelectFieldPropertyError",
    1254083: "MultiSelectFieldPropertyError",
    1254084: "DateFieldPropertyError",
    1254085: "CheckboxFieldPropertyError",
    1254086: "UserFieldPropertyError",
    1254087: "URLFieldPropertyError",
    1254088: "AttachFieldPropertyError",
    1254089: "LinkFieldPropertyError",
    1254090: "LookUpFieldPropertyError",
    1254091: "FormulaFieldPropertyError",
    1254092: "DuplexLinkFieldPropertyError",
    1254093: "CreatedTimeFieldPropertyError",
    1254094: "ModifiedTimeFieldPropertyError",
    1254095: "CreatedUserFieldPropertyError",
    1254096: "ModifiedUserFieldPropertyError",
    1254100: "TableExceedLimit",
    1254101: "ViewExceedLimit",
    1254103: "RecordExceedLimit",
    1254104: "RecordAddOnceExceedLimit",
    1254105: "ColumnExceedLimit",
    1254107: "FilterLengthExceedLimit",
    1254108: "SortLengthExceedLimit",
    1254110: "RoleExceedLimit",
    1254111: "MemberExceedLimit",
    1254290: "TooManyRequest",
    1254291: "Write conflict",
    1254301: "OperationTypeError",
    1254302: "RolePermNotAllow",
    1254304: "Only Available For Business and Enterprise Editions",
    1254606: "DataNotChange",
    1254607: "Data not ready, please try again later",
    1255001: "InternalError",
    1255006: "Client token conflict, please generate a new client token and try again.",
    1255040: "请求超时",
}

# Statuses that are not 200 on the "classic" pages (tables list/create/delete, views list/create/delete,
# records, fields). PATCH table (A.12) and GET/PATCH view (A.20/A.21) use the "v2" profile below.
CLASSIC_STATUS = {
    1254027: 403,
    1254028: 400,
    1254029: 400,
    1254034: 403,
    1254036: 400,
    1254037: 400,
    1254302: 403,
    1254304: 403,
    1254607: 400,
    1255006: 400,
    1255040: 504,
    **{code: 400 for code in range(1254080, 1254097)},
}
GROUP_STATUS = {
    "tables": {1254013: 400},  # A.14/A.15
    "records": {1254015: 400},  # newer record pages (not in the reference's record tables)
}


def v3_status(code: int) -> int:
    """HTTP status of a code on A.18/A.19 (dashboards), A.25-A.28 (forms), A.45/A.46 (member batches)."""
    if code == 1254290:
        return 429
    if 1254040 <= code <= 1254050 and code != 1254048:  # 1254048 MemberNotFound: 400 on these pages
        return 404
    if code in (1254302, 1254304):
        return 403
    if code == 1255040:
        return 504
    return 400


# A.41-A.44 (roles) and A.47-A.49 (members list/create/delete): 200 unless listed here.
ROLE_STATUS = {
    1254032: 400,
    1254033: 400,
    1254036: 400,
    1254047: 404,
    1254048: 404,
    1254110: 400,
    1254111: 400,
    1254301: 400,
    1254302: 403,
    1254304: 403,
    1255040: 504,
}
# A.10 / A.11 (app metadata): 200 unless listed here.
APP_STATUS = {1254036: 400, 1254301: 400, 1254302: 403, 1255040: 504}
STATUS_PROFILES: dict[str, Callable[[int], int]] = {
    "v3": v3_status,
    "roles": lambda code: ROLE_STATUS.get(code, 200),
    "app": lambda code: APP_STATUS.get(code, 200),
}


def v2_status(code: int) -> int:
    """HTTP status of a code on A.12 (PATCH table), A.20 (PATCH view), A.21 (GET view)."""
    if code in (1254290,):
        return 429
    if 1254040 <= code <= 1254049:
        return 404
    if code in (1254302, 1254304):
        return 403
    if 1255001 <= code <= 1255005:
        return 500
    if code == 1255040:
        return 504
    return 400


DEFAULT_RATE_LIMITS: dict[str, float] = {
    # notes 2.2 [DOC]
    "records.search": 20,
    "records.batch_create": 50,
    # notes 2.2 [3P]
    "records.create": 50,
    "records.update": 50,
    "records.delete": 50,
    "records.batch_update": 50,
    "records.batch_delete": 50,
    "records.batch_get": 50,
    "records.list": 20,
    "records.get": 20,
    # QPS printed on the reference pages (A.12-A.24, A.37-A.40)
    "tables.list": 20,
    "tables.create": 10,
    "tables.batch_create": 10,
    "tables.patch": 10,
    "tables.delete": 10,
    "tables.batch_delete": 10,
    "fields.list": 20,
    "fields.create": 10,
    "fields.update": 10,
    "fields.delete": 10,
    "views.list": 20,
    "views.create": 10,
    "views.get": 20,
    "views.patch": 10,
    "views.delete": 10,
    # A.10, A.11, A.19, A.25-A.28 print their QPS; copying dashboards, roles and members print none
    # (they get the default of 50/s like any other route not listed here).
    "apps.get": 20,
    "apps.update": 10,
    "dashboards.list": 20,
    "forms.get": 20,
    "forms.patch": 10,
    "form_fields.list": 20,
    "form_fields.patch": 10,
}

FILTER_OPERATORS = {
    "is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty",
    "isGreater", "isGreaterEqual", "isLess", "isLessEqual",
}  # fmt: skip
TEXT_OPS = {"is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty"}
NUMBER_OPS = {"is", "isNot", "isGreater", "isGreaterEqual", "isLess", "isLessEqual", "isEmpty", "isNotEmpty"}
DATE_OPS = {"is", "isGreater", "isLess", "isEmpty", "isNotEmpty"}
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PHONE_RE = re.compile(r"^\+?\d*$")
BAD_NAME_CHARS = re.compile(r"[\[\]:\\/?*]")
ALNUM = string.ascii_letters + string.digits
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class FeishuError(Exception):
    """A documented error answer. ``gateway`` errors (auth, validation) carry no ``data``."""

    def __init__(
        self,
        code: int,
        msg: str | None = None,
        *,
        status: int | None = None,
        gateway: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, msg)
        self.code = code
        self.msg = msg or MESSAGES.get(code, "error")
        self.status = status
        self.gateway = gateway
        self.extra = extra or {}


def field_violation(param: str, value: Any, description: str) -> FeishuError:
    return FeishuError(
        99992402,
        "field validation failed",
        status=400,
        gateway=True,
        extra={"field_violations": [{"field": param, "value": str(value), "description": description}]},
    )


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Field:
    field_id: str
    name: str
    type: int
    ui_type: str
    property: dict[str, Any] | None
    description: str | None = None
    disable_sync: bool = False


@dataclass(slots=True)
class Record:
    record_id: str
    seq: int  # 1-based creation number in the table (drives AutoNumber)
    values: dict[str, Any]  # field_id -> stored value (select: option ids, user: open_ids, ...)
    created_time: int
    modified_time: int
    created_by: str | None
    modified_by: str | None


@dataclass
class View:
    view_id: str
    name: str
    type: str = "grid"
    filter_info: dict[str, Any] | None = None
    hidden_fields: list[str] | None = None
    # A form view's metadata (A.25/A.26) and questions (A.27/A.28): field_id -> {title, description,
    # required, visible}, in question order; fields added later become questions at the end.
    form: dict[str, Any] | None = None
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Table:
    table_id: str
    name: str
    revision: int = 1
    fields: dict[str, Field] = field(default_factory=dict)  # in column order; the first is primary
    views: dict[str, View] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)  # insertion (creation) order
    seq: int = 0
    writing: bool = False
    version: int = 0  # bumped by every change; keys the query cache
    query_cache: dict[str, list[str]] = field(default_factory=dict)
    cache_version: int = -1

    @property
    def primary(self) -> Field:
        return next(iter(self.fields.values()))

    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields.values()}

    def touch(self) -> None:
        self.version += 1
        self.revision += 1


@dataclass
class App:
    """One base (多维表格): its metadata (A.10/A.11), tables, dashboards (A.18/A.19) and the custom
    roles of its advanced permissions with their members (A.41-A.49)."""

    app_token: str
    name: str
    revision: int = 1
    is_advanced: bool = False
    time_zone: str = "Asia/Shanghai"
    tables: dict[str, Table] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)  # file_token -> metadata
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # block_id -> {block_id, name}
    # role_id -> {role_id, role_name, table_roles, block_roles, members: [(kind, id)]}
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    advanced_allowed: bool = True  # False: a base inside Docs, Sheets or the Wiki (A.11, A.7)
    row_column_perms: bool = True  # False: an edition without row/column permissions (1254304)
    advanced_ready_at: float = 0.0  # role APIs answer 1254301 until then after enabling (A.7)


@dataclass
class User:
    open_id: str
    name: str
    en_name: str = ""
    email: str = ""
    union_id: str | None = None
    user_id: str | None = None
    avatar_url: str | None = None

    def id_for(self, id_type: str) -> str:
        return {"open_id": self.open_id, "union_id": self.union_id, "user_id": self.user_id}.get(
            id_type
        ) or ""


@dataclass
class RouteSpec:
    name: str
    is_write: bool
    group: str  # "tables" | "fields" | "views" | "records" | "v2"


@dataclass
class Ctx:
    """What a handler knows about the request besides its path parameters."""

    request: httpx.Request
    spec: RouteSpec
    app_id: str

    @property
    def query(self) -> httpx.QueryParams:
        return self.request.url.params


# ---------------------------------------------------------------------------------------------


class FeishuEmulator(EmulatorBase):
    """Fake Feishu/Lark Bitable v1 server. See the module docstring for what is emulated."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        clock: Clock | None = None,
        app_id: str = "cli_a1b2c3d4e5f60001",
        app_secret: str = "feishu-emulator-secret",
        token_ttl: int = 7200,
        write_time: float = 0.0,
        rate_limits: dict[str, float] | None = None,
        batch_limit: int = 500,
        batch_get_limit: int = 100,
        max_records_per_table: int = 20_000,
        max_tables: int = 100,
        max_fields: int = 150,
        max_views: int = 200,
        max_roles: int = 30,
        max_members: int = 200,
        advanced_delay: float = 0.0,
        tz_offset_hours: float = 8,
        operator: str | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(latency=latency, clock=clock)
        self.credentials: dict[str, str] = {app_id: app_secret}
        self.app_id = app_id
        self.token_ttl = token_ttl
        self.write_time = write_time
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self.batch_limit = batch_limit
        self.batch_get_limit = batch_get_limit
        self.max_records_per_table = max_records_per_table
        self.max_tables = max_tables
        self.max_fields = max_fields
        self.max_views = max_views
        self.max_roles = max_roles
        self.max_members = max_members
        self.advanced_delay = advanced_delay
        self.tz_offset_s = int(tz_offset_hours * 3600)
        self.operator = operator  # open_id shown as creator/modifier of API writes (None: not shown)
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.chats: dict[str, dict[str, str]] = {}
        self.departments: dict[
            str, dict[str, str]
        ] = {}  # open_department_id -> {department_id, name, en_name}
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (app_id, expires_at)
        self.current_token: dict[str, str] = {}  # app_id -> newest token
        self.idempotency: dict[tuple[str, str], tuple[Any, Any]] = {}  # (app_id, token) -> (fp, data)
        self._rng = random.Random(seed)
        self._ids: set[str] = set()
        self._id_chars = ""
        self._id_pos = 0
        self._logid = 0
        self._transient = 0
        self.specs: dict[str, RouteSpec] = {}
        self._routes()
        from tests.emulators.feishu_drive import FeishuDrive  # attachments: drive media upload/download

        self.drive = FeishuDrive(self)
        self.drive.install()

    # ------------------------------------------------------------------ seeding and inspection

    def add_credentials(self, app_id: str, app_secret: str) -> None:
        self.credentials[app_id] = app_secret

    def add_app(self, app_token: str, name: str = "多维表格", *, time_zone: str = "Asia/Shanghai") -> App:
        """Create an empty base (no tables). Returns its state object."""
        app = App(app_token=app_token, name=name, time_zone=time_zone)
        self.apps[app_token] = app
        return app

    def add_table(
        self,
        app_token: str,
        name: str,
        fields: list[dict[str, Any]] | None = None,
        records: list[dict[str, Any]] | None = None,
        *,
        default_view_name: str | None = None,
    ) -> str:
        """Create a table (fields in the API's create-field shape; records as ``{field name: write
        value}``) through the same validation as the API. Returns the table_id."""
        app = self._app(app_token)
        table = self._create_table(
            app, {"name": name, "fields": fields, "default_view_name": default_view_name}
        )
        for fields_in in records or []:
            validated = self._validate_fields(app, table, fields_in, "open_id")
            self._insert(app, table, validated)
        return table.table_id

    def add_user(
        self,
        open_id: str,
        name: str,
        *,
        union_id: str | None = None,
        user_id: str | None = None,
        en_name: str = "",
        email: str = "",
        avatar_url: str | None = None,
    ) -> None:
        self.users[open_id] = User(open_id, name, en_name, email, union_id, user_id, avatar_url)

    def add_chat(self, chat_id: str, name: str, avatar_url: str = "") -> None:
        self.chats[chat_id] = {"id": chat_id, "name": name, "avatar_url": avatar_url}

    def add_department(
        self, open_department_id: str, name: str, *, department_id: str | None = None, en_name: str = ""
    ) -> None:
        self.departments[open_department_id] = {
            "open_department_id": open_department_id,
            "department_id": department_id or open_department_id.removeprefix("od-"),
            "name": name,
            "en_name": en_name or name,
        }

    def add_dashboard(self, app_token: str, name: str) -> str:
        """A dashboard (仪表盘) of the base; returns its block_id."""
        block_id = self._new_id("blk", 13)
        self._app(app_token).dashboards[block_id] = {"block_id": block_id, "name": name}
        return block_id

    def add_role(
        self,
        app_token: str,
        role_name: str,
        table_roles: list[dict[str, Any]] | None = None,
        block_roles: list[dict[str, Any]] | None = None,
    ) -> str:
        """A custom role (the create body's shapes, A.42) through the API's validation; the base's
        advanced permissions are switched on if they are not. Returns the role_id."""
        app = self._app(app_token)
        app.is_advanced = True
        body = {"role_name": role_name, "table_roles": table_roles or [], "block_roles": block_roles or []}
        return str(self._create_role(app, body)["role_id"])

    def add_attachment(
        self,
        app_token: str,
        file_token: str,
        name: str,
        size: int = 0,
        mime: str = "application/octet-stream",
    ) -> None:
        """Register a file as uploaded into this base (drive media upload), so records may use it."""
        self._app(app_token).attachments[file_token] = {"name": name, "size": size, "type": mime}

    def issue_token(self, app_id: str | None = None) -> str:
        """A valid tenant_access_token without an HTTP round trip."""
        return self._issue_token(app_id or self.app_id)[0]

    def app(self, app_token: str) -> App:
        return self._app(app_token)

    def table(self, app_token: str, table: str) -> Table:
        """A table by id or name."""
        app = self._app(app_token)
        if table in app.tables:
            return app.tables[table]
        for t in app.tables.values():
            if t.name == table:
                return t
        raise KeyError(table)

    def records(self, app_token: str, table: str) -> list[dict[str, Any]]:
        """All records as records/search returns them (user ids as open_id), in creation order."""
        app = self._app(app_token)
        t = self.table(app_token, table)
        return [self._render_record(app, t, r, "search", "open_id") for r in t.records.values()]

    def cell(self, app_token: str, table: str, record_id: str, field_name: str) -> Any:
        """One value in write format (text str, number, option name(s), ms, bool, user open_ids, ...)."""
        t = self.table(app_token, table)
        f = t.by_name()[field_name]
        stored = t.records[record_id].values.get(f.field_id)
        if stored is None:
            return None
        if f.type == SINGLE_SELECT:
            return self._option_name(f, stored)
        if f.type == MULTI_SELECT:
            return [n for n in (self._option_name(f, o) for o in stored) if n is not None]
        return copy.deepcopy(stored)

    def field_list(self, app_token: str, table: str) -> list[dict[str, Any]]:
        t = self.table(app_token, table)
        return [self._field_json(t, f) for f in t.fields.values()]

    # ------------------------------------------------------------------ ids, time, envelopes

    def _new_id(self, prefix: str, length: int) -> str:
        while True:
            if len(self._id_chars) - self._id_pos < length:  # letters and digits, made in bulk
                raw = self._rng.randbytes(3072)
                self._id_chars = base64.b64encode(raw, altchars=b"xy").decode()  # '+' '/' read as x y
                self._id_pos = 0
            candidate = prefix + self._id_chars[self._id_pos : self._id_pos + length]
            self._id_pos += length
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def _day(self, ms: float) -> int:
        return int((ms // 1000 + self.tz_offset_s) // 86400)

    def _today(self) -> int:
        return self._day(self._now_ms())

    def _next_logid(self) -> str:
        self._logid += 1
        stamp = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).strftime("%Y%m%d%H%M%S")
        return f"{stamp}{self._logid:020X}"

    def _ok(self, data: Any) -> httpx.Response:
        body = _COMPACT.encode({"code": 0, "msg": "success", "data": data}).encode()
        return httpx.Response(
            200,
            content=body,
            headers={"content-type": "application/json; charset=utf-8", "X-Tt-Logid": self._next_logid()},
        )

    def _error(self, err: FeishuError, group: str) -> httpx.Response:
        logid = self._next_logid()
        if err.status is not None:
            status = err.status
        elif group == "v2":
            status = v2_status(err.code)
        elif group in STATUS_PROFILES:
            status = STATUS_PROFILES[group](err.code)
        else:
            status = GROUP_STATUS.get(group, {}).get(err.code, CLASSIC_STATUS.get(err.code, 200))
        body: dict[str, Any] = {"code": err.code, "msg": err.msg}
        if not err.gateway:
            body["data"] = {}
        body["error"] = {
            "log_id": logid,
            "troubleshooter": "排查建议查看(Troubleshooting suggestions): "
            f"https://open.feishu.cn/search?from=openapi&log_id={logid}&code={err.code}",
            **err.extra,
        }
        return json_response(status, body, {"X-Tt-Logid": logid})

    def _throttled(self, limit: float, reset: float) -> httpx.Response:
        logid = self._next_logid()
        body = {"code": 99991400, "msg": "request trigger frequency limit", "error": {"log_id": logid}}
        headers = {
            "X-Tt-Logid": logid,
            "x-ogw-ratelimit-limit": str(int(limit)),
            "x-ogw-ratelimit-reset": str(max(1, math.ceil(reset))),
        }
        return json_response(429, body, headers)

    def _transient_response(self, spec: RouteSpec) -> httpx.Response:
        kinds: list[int] = [1254290, 1254607, 1255040, 500, 1254290, 1254607, 1255040, 503]
        kind = kinds[self._transient % len(kinds)]
        self._transient += 1
        if kind in (500, 503):
            text = "Internal Server Error" if kind == 500 else "Service Unavailable"
            return httpx.Response(
                kind,
                content=text.encode(),
                headers={"content-type": "text/plain", "X-Tt-Logid": self._next_logid()},
            )
        return self._error(FeishuError(kind), spec.group)

    # ------------------------------------------------------------------ routing

    def _routes(self) -> None:
        t = PREFIX + "/tables"
        one = t + "/{table_id}"
        form = one + "/forms/{form_id}"
        role = PREFIX + "/roles/{role_id}"
        table: list[tuple[str, str, Callable[..., Any], str, bool, str]] = [
            ("GET", PREFIX, self._app_get, "apps.get", False, "app"),
            ("PUT", PREFIX, self._app_update, "apps.update", True, "app"),
            ("GET", PREFIX + "/dashboards", self._dashboards_list, "dashboards.list", False, "v3"),
            ("POST", PREFIX + "/dashboards/{block_id}/copy", self._dashboards_copy, "dashboards.copy", True, "v3"),
            ("GET", form, self._forms_get, "forms.get", False, "v3"),
            ("PATCH", form, self._forms_patch, "forms.patch", True, "v3"),
            ("GET", form + "/fields", self._form_fields_list, "form_fields.list", False, "v3"),
            ("PATCH", form + "/fields/{field_id}", self._form_fields_patch, "form_fields.patch", True, "v3"),
            ("GET", PREFIX + "/roles", self._roles_list, "roles.list", False, "roles"),
            ("POST", PREFIX + "/roles", self._roles_create, "roles.create", True, "roles"),
            ("PUT", role, self._roles_update, "roles.update", True, "roles"),
            ("DELETE", role, self._roles_delete, "roles.delete", True, "roles"),
            ("GET", role + "/members", self._members_list, "members.list", False, "roles"),
            ("POST", role + "/members", self._members_create, "members.create", True, "roles"),
            ("POST", role + "/members/batch_create", self._members_batch_create, "members.batch_create", True, "v3"),
            ("POST", role + "/members/batch_delete", self._members_batch_delete, "members.batch_delete", True, "v3"),
            ("DELETE", role + "/members/{member_id}", self._members_delete, "members.delete", True, "roles"),
            ("GET", t, self._tables_list, "tables.list", False, "tables"),
            ("POST", t, self._tables_create, "tables.create", True, "tables"),
            ("POST", t + "/batch_create", self._tables_batch_create, "tables.batch_create", True, "tables"),
            ("POST", t + "/batch_delete", self._tables_batch_delete, "tables.batch_delete", True, "tables"),
            ("PATCH", one, self._tables_patch, "tables.patch", True, "v2"),
            ("DELETE", one, self._tables_delete, "tables.delete", True, "tables"),
            ("GET", one + "/fields", self._fields_list, "fields.list", False, "fields"),
            ("POST", one + "/fields", self._fields_create, "fields.create", True, "fields"),
            ("PUT", one + "/fields/{field_id}", self._fields_update, "fields.update", True, "fields"),
            ("DELETE", one + "/fields/{field_id}", self._fields_delete, "fields.delete", True, "fields"),
            ("GET", one + "/views", self._views_list, "views.list", False, "views"),
            ("POST", one + "/views", self._views_create, "views.create", True, "views"),
            ("GET", one + "/views/{view_id}", self._views_get, "views.get", False, "v2"),
            ("PATCH", one + "/views/{view_id}", self._views_patch, "views.patch", True, "v2"),
            ("DELETE", one + "/views/{view_id}", self._views_delete, "views.delete", True, "views"),
            ("POST", one + "/records/search", self._records_search, "records.search", False, "records"),
            ("POST", one + "/records/batch_create", self._records_batch_create, "records.batch_create", True, "records"),
            ("POST", one + "/records/batch_update", self._records_batch_update, "records.batch_update", True, "records"),
            ("POST", one + "/records/batch_delete", self._records_batch_delete, "records.batch_delete", True, "records"),
            ("POST", one + "/records/batch_get", self._records_batch_get, "records.batch_get", False, "records"),
            ("GET", one + "/records", self._records_list, "records.list", False, "records"),
            ("POST", one + "/records", self._records_create, "records.create", True, "records"),
            ("GET", one + "/records/{record_id}", self._records_get, "records.get", False, "records"),
            ("PUT", one + "/records/{record_id}", self._records_update, "records.update", True, "records"),
            ("DELETE", one + "/records/{record_id}", self._records_delete, "records.delete", True, "records"),
        ]  # fmt: skip
        for method, path, handler, name, is_write, group in table:
            self.specs[name] = RouteSpec(name, is_write, group)
            self.router.add(method, path, handler, name)

    async def dispatch(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == TOKEN_PATH:
            if request.method != "POST":
                return self._not_found()
            return self._token_endpoint(request)
        matched = self.router.match(request.method, path)
        if matched is None:
            return self._not_found()
        route, params = matched
        spec = self.specs[route.name]
        try:
            app_id = self._authenticate(request)
        except FeishuError as err:
            return self._error(err, spec.group)
        key = f"{app_id}:{spec.name}"
        limit = self.rate_limits.get(spec.name, 50)
        if not self.limiter.allow(key, limit):
            return self._throttled(limit, self.limiter.retry_after(key))
        kind = self.faults.draw(request.method, path, spec.is_write)
        if kind == "transient":
            return self._transient_response(spec)
        if kind == "throttle":
            return self._throttled(limit, 1)
        ctx = Ctx(request, spec, app_id)
        try:
            result = await route.handler(ctx, **params)
            response = result if isinstance(result, httpx.Response) else self._ok(result)
        except FeishuError as err:
            response = self._error(err, spec.group)
        if kind == "lost_response":
            raise LostResponse()
        return response

    def _not_found(self) -> httpx.Response:
        return httpx.Response(
            404,
            content=b"404 page not found",
            headers={"content-type": "text/plain", "X-Tt-Logid": self._next_logid()},
        )

    # ------------------------------------------------------------------ auth

    def _issue_token(self, app_id: str) -> tuple[str, int]:
        now = self.clock.now()
        current = self.current_token.get(app_id)
        if current and current in self.tokens:
            expires_at = self.tokens[current][1]
            if expires_at - now >= 1800:
                return current, round(expires_at - now)
        token = "t-" + "".join(self._rng.choice("0123456789abcdef") for _ in range(40))
        self.tokens[token] = (app_id, now + self.token_ttl)
        self.current_token[app_id] = token
        return token, self.token_ttl

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        logid = self._next_logid()
        app_id = body.get("app_id") if isinstance(body, dict) else None
        secret = body.get("app_secret") if isinstance(body, dict) else None
        if not isinstance(app_id, str) or self.credentials.get(app_id) != secret:
            # notes 2.1 [3P]: wrong credentials on this endpoint -> 10014.
            return json_response(
                400,
                {"code": 10014, "msg": "app secret invalid", "error": {"log_id": logid}},
                {"X-Tt-Logid": logid},
            )
        token, expire = self._issue_token(app_id)
        return json_response(
            200,
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire},
            {"X-Tt-Logid": logid},
        )

    def _authenticate(self, request: httpx.Request) -> str:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise FeishuError(
                99991661,
                "Missing access token for authorization. Please make a request with token attached.",
                status=400,
                gateway=True,
            )
        scheme, _, token = header.partition(" ")
        entry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= self.clock.now():
            raise FeishuError(
                99991663,
                "Invalid access token for authorization. Please make a request with token attached.",
                status=400,
                gateway=True,
            )
        return entry[0]

    # ------------------------------------------------------------------ request helpers

    def _app(self, app_token: str) -> App:
        app = self.apps.get(app_token)
        if app is None:
            raise FeishuError(1254040)
        return app

    def _app_table(self, app_token: str, table_id: str) -> tuple[App, Table]:
        app = self._app(app_token)
        table = app.tables.get(table_id)
        if table is None:
            raise FeishuError(1254041)
        return app, table

    @staticmethod
    def _body(ctx: Ctx, *, required: bool = True) -> dict[str, Any]:
        if not ctx.request.content:
            if required:
                raise FeishuError(1254001)
            return {}
        try:
            body = json.loads(ctx.request.content)
        except ValueError:
            raise FeishuError(1254000) from None
        if not isinstance(body, dict):
            raise FeishuError(1254001)
        return body

    @staticmethod
    def _page_size(ctx: Ctx, maximum: int, default: int = 20) -> int:
        raw = ctx.query.get("page_size")
        if raw is None or raw == "":
            return default
        try:
            size = int(raw)
        except ValueError:
            raise field_violation("page_size", raw, "page_size must be an integer") from None
        if size < 1 or size > maximum:
            raise field_violation("page_size", raw, f"page_size must be between 1 and {maximum}")
        return size

    @staticmethod
    def _page_offset(ctx: Ctx) -> int:
        raw = ctx.query.get("page_token")
        if not raw:
            return 0
        try:
            padded = raw + "=" * (-len(raw) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            offset = int(decoded["o"])
            if offset < 0:
                raise ValueError
            return offset
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise field_violation("page_token", raw, "page_token is invalid") from None

    @staticmethod
    def _page_token(offset: int) -> str:
        return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")

    def _paginate(self, ctx: Ctx, items: list[Any], maximum: int) -> tuple[list[Any], dict[str, Any]]:
        size = self._page_size(ctx, maximum)
        offset = self._page_offset(ctx)
        page = items[offset : offset + size]
        has_more = offset + size < len(items)
        meta: dict[str, Any] = {"has_more": has_more, "total": len(items)}
        if has_more:
            meta["page_token"] = self._page_token(offset + size)
        return page, meta

    @staticmethod
    def _user_id_type(value: Any) -> str:
        if value is None or value == "":
            return "open_id"
        if value not in ("open_id", "union_id", "user_id"):
            raise field_violation("user_id_type", value, "user_id_type must be open_id, union_id or user_id")
        return str(value)

    @staticmethod
    def _flag(ctx: Ctx, name: str) -> bool:
        return ctx.query.get(name, "").lower() == "true"

    @asynccontextmanager
    async def _writing(self, table: Table) -> AsyncIterator[None]:
        """Per-table write serialisation: an overlapping write gets 1254291 Write conflict."""
        if table.writing:
            raise FeishuError(1254291)
        table.writing = True
        try:
            if self.write_time > 0:
                await anyio.sleep(self.write_time)
            yield
        finally:
            table.writing = False

    def _idem_lookup(self, ctx: Ctx, body: Any) -> tuple[tuple[str, str] | None, Any, Any]:
        """(key, fingerprint, replayed data or None) for the request's client_token.

        The same request is the same method, path, user_id_type and body (the same JSON, whatever
        its key order); the raw bytes are compared first, the JSON only when they differ."""
        token = ctx.query.get("client_token") or ""
        if not token:
            return None, None, None
        if not UUID_RE.match(token):
            raise FeishuError(1254037)
        meta = (ctx.request.method, ctx.request.url.path, ctx.query.get("user_id_type") or "open_id")
        fingerprint = (meta, hashlib.sha256(ctx.request.content).hexdigest(), body)
        key = (ctx.app_id, token.lower())
        stored = self.idempotency.get(key)
        if stored is None:
            return key, fingerprint, None
        (old_meta, old_digest, old_body), data = stored
        same = old_meta == meta and (
            old_digest == fingerprint[1]
            or json.dumps(old_body, sort_keys=True) == json.dumps(body, sort_keys=True)
        )
        if not same:
            raise FeishuError(1255006)
        return key, fingerprint, data

    def _idem_store(self, key: tuple[str, str] | None, fingerprint: Any, data: Any) -> None:
        if key is not None:
            # Answers are only ever serialised, never changed, so the object itself is kept.
            self.idempotency[key] = (fingerprint, data)

    # ------------------------------------------------------------------ tables

    async def _tables_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        items = [
            {"table_id": t.table_id, "revision": t.revision, "name": t.name} for t in app.tables.values()
        ]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    def _check_table_name(self, app: App, name: Any, *, exclude: str | None = None) -> str:
        if not isinstance(name, str):
            raise FeishuError(1254001)
        name = name.strip()
        if not name or len(name) > 100 or BAD_NAME_CHARS.search(name):
            raise FeishuError(1254001)
        if any(t.name == name and t.table_id != exclude for t in app.tables.values()):
            raise FeishuError(1254013)
        return name

    def _create_table(self, app: App, spec: Any) -> Table:
        if not isinstance(spec, dict):
            raise FeishuError(1254001)
        name = self._check_table_name(app, spec.get("name"))
        if len(app.tables) >= self.max_tables:
            raise FeishuError(1254100)
        fields_in = spec.get("fields")
        if fields_in is None:
            fields_in = [{"field_name": "多行文本", "type": TEXT}]
        if not isinstance(fields_in, list) or not fields_in:
            raise FeishuError(1254001)
        if len(fields_in) > self.max_fields:
            raise FeishuError(1254105)
        table = Table(self._new_id("tbl", 13), name)
        built: list[Field] = []
        names: set[str] = set()
        for raw in fields_in:
            f = self._build_field(app, table, raw, None)
            if f.name in names:
                raise FeishuError(1254014)
            names.add(f.name)
            built.append(f)
        if built[0].type not in INDEX_TYPES:
            raise FeishuError(1254001)
        view_name = spec.get("default_view_name")
        if view_name is not None and (not isinstance(view_name, str) or not view_name.strip()):
            raise FeishuError(1254001)
        view = View(self._new_id("vew", 7), (view_name or "表格").strip())
        app.tables[table.table_id] = table
        for f in built:
            table.fields[f.field_id] = f
            if f.type == DUPLEX_LINK:
                self._create_back_field(app, table, f)
        table.views[view.view_id] = view
        app.revision += 1
        return table

    async def _tables_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        table = self._create_table(app, body.get("table"))
        return {
            "table_id": table.table_id,
            "default_view_id": next(iter(table.views)),
            "field_id_list": list(table.fields),
        }

    async def _tables_batch_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        specs = body.get("tables")
        if not isinstance(specs, list) or not specs:
            raise FeishuError(1254001)
        names = [
            s.get("name").strip() if isinstance(s, dict) and isinstance(s.get("name"), str) else s
            for s in specs
        ]
        if len(set(map(str, names))) != len(names):
            raise FeishuError(1254013)
        for spec in specs:  # validate everything before creating anything
            if not isinstance(spec, dict):
                raise FeishuError(1254001)
            self._check_table_name(app, spec.get("name"))
        if len(app.tables) + len(specs) > self.max_tables:
            raise FeishuError(1254100)
        ids = [self._create_table(app, {"name": s["name"]}).table_id for s in specs]
        return {"table_ids": ids}

    async def _tables_patch(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        name = body.get("name")
        async with self._writing(table):
            # A.12: an empty name or the old name succeeds without a change.
            if isinstance(name, str) and name.strip() and name.strip() != table.name:
                table.name = self._check_table_name(app, name, exclude=table.table_id)
                table.touch()
            elif name is not None and not isinstance(name, str):
                raise FeishuError(1254001)
        return {"name": table.name}

    def _drop_table(self, app: App, table: Table) -> None:
        del app.tables[table.table_id]
        for other in app.tables.values():
            for f in list(other.fields.values()):
                points_here = f.type in LINK_TYPES and (f.property or {}).get("table_id") == table.table_id
                if points_here and f is not other.primary:
                    self._remove_field(other, f)
        app.revision += 1

    async def _tables_delete(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        if len(app.tables) <= 1:
            raise FeishuError(1254034)
        async with self._writing(table):
            self._drop_table(app, table)
        return {}

    async def _tables_batch_delete(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        ids = body.get("table_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        unique = list(dict.fromkeys(ids))
        for table_id in unique:
            if table_id not in app.tables:
                raise FeishuError(1254041)
            if app.tables[table_id].writing:
                raise FeishuError(1254291)
        if len(unique) >= len(app.tables):
            raise FeishuError(1254034)
        for table_id in unique:
            self._drop_table(app, app.tables[table_id])
        return {}

    # ------------------------------------------------------------------ fields

    def _field_json(
        self, table: Table, f: Field, *, as_array: bool = False, view: View | None = None
    ) -> dict:
        out: dict[str, Any] = {
            "field_id": f.field_id,
            "field_name": f.name,
            "type": f.type,
            "property": copy.deepcopy(f.property),
            "ui_type": f.ui_type,
            "is_primary": f is table.primary,
        }
        if f.description is not None:
            out["description"] = [{"text": f.description, "type": "text"}] if as_array else f.description
        if view is not None:
            out["is_hidden"] = f.field_id in (view.hidden_fields or [])
        return out

    async def _fields_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        view = None
        view_id = ctx.query.get("view_id")
        if view_id:
            view = table.views.get(view_id)
            if view is None:
                raise FeishuError(1254042)
        as_array = self._flag(ctx, "text_field_as_array")
        items = [self._field_json(table, f, as_array=as_array, view=view) for f in table.fields.values()]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    def _build_field(self, app: App, table: Table, raw: Any, old: Field | None) -> Field:
        """Validate a create/update body and build the field (not yet attached to the table)."""
        if not isinstance(raw, dict):
            raise FeishuError(1254001)
        name = raw.get("field_name")
        if not isinstance(name, str) or not name.strip():
            raise FeishuError(1254028)
        name = name.strip()
        if len(name) > 100:
            raise FeishuError(1254029)
        ftype = raw.get("type")
        if not isinstance(ftype, int) or isinstance(ftype, bool):
            raise FeishuError(1254001)
        if ftype not in CREATABLE_TYPES:
            raise FeishuError(1254012)
        ui_type = raw.get("ui_type")
        if ui_type is None:
            ui_type = DEFAULT_UI_TYPE[ftype]
        if ui_type not in UI_TYPES.get(ftype, {DEFAULT_UI_TYPE[ftype]}):
            raise FeishuError(1254015)
        prop = self._build_property(app, table, ftype, ui_type, raw.get("property"), old)
        description = raw.get("description")
        text = None
        disable_sync = False
        if description is not None:
            if isinstance(description, str):
                text = description
            elif isinstance(description, dict):
                text = description.get("text")
                disable_sync = bool(description.get("disable_sync", False))
                if text is not None and not isinstance(text, str):
                    raise FeishuError(1254001)
            else:
                raise FeishuError(1254001)
        field_id = old.field_id if old else self._new_id("fld", 7)
        return Field(field_id, name, ftype, ui_type, prop, text, disable_sync)

    def _build_property(
        self, app: App, table: Table, ftype: int, ui_type: str, prop: Any, old: Field | None
    ) -> dict[str, Any] | None:
        err = PROPERTY_ERROR.get(ftype, 1254001)
        if prop is not None and not isinstance(prop, dict):
            raise FeishuError(err)
        prop = copy.deepcopy(prop) if prop else {}
        if ftype == NUMBER:
            formatter = prop.get("formatter", "0.0" if ui_type == "Number" else "0")
            if ui_type == "Number" and formatter not in NUMBER_FORMATTERS:
                raise FeishuError(err)
            out: dict[str, Any] = {"formatter": formatter}
            if ui_type == "Currency":
                out["currency_code"] = prop.get("currency_code", "CNY")
                out["formatter"] = prop.get("formatter", "0.00")
            if ui_type in ("Progress", "Rating"):
                out["min"] = prop.get("min", 0)
                out["max"] = prop.get("max", 1 if ui_type == "Progress" else 5)
                if (
                    not all(isinstance(out[k], (int, float)) for k in ("min", "max"))
                    or out["min"] > out["max"]
                ):
                    raise FeishuError(err)
            if ui_type == "Progress":
                out["range_customize"] = bool(prop.get("range_customize", False))
            if ui_type == "Rating":
                out["rating"] = {"symbol": (prop.get("rating") or {}).get("symbol", "star")}
            return out
        if ftype in (SINGLE_SELECT, MULTI_SELECT):
            options = prop.get("options", [])
            if not isinstance(options, list):
                raise FeishuError(err)
            old_ids = {o["id"] for o in ((old.property or {}).get("options", []) if old else [])}
            if old is not None and old.type not in (SINGLE_SELECT, MULTI_SELECT):
                old_ids = set()
            built = []
            color = -1
            for opt in options:
                if not isinstance(opt, dict):
                    raise FeishuError(err)
                name = opt.get("name")
                if not isinstance(name, str) or not name.strip():
                    raise FeishuError(1254026)
                opt_id = opt.get("id")
                if opt_id is not None and opt_id not in old_ids:
                    # A.5: an id must be one of the field's existing options (never on create).
                    raise FeishuError(err)
                given_color = opt.get("color")
                if given_color is not None and (
                    not isinstance(given_color, int) or not 0 <= given_color <= 54
                ):
                    raise FeishuError(err)
                color = given_color if given_color is not None else (color + 1) % 55
                built.append({"name": name, "id": opt_id or self._new_id("opt", 7), "color": color})
            return {"options": built}
        if ftype == DATETIME:
            date_formatter = prop.get("date_formatter", "yyyy/MM/dd")
            if date_formatter not in DATE_FORMATTERS:
                raise FeishuError(err)
            return {"date_formatter": date_formatter, "auto_fill": bool(prop.get("auto_fill", False))}
        if ftype in (CREATED_TIME, MODIFIED_TIME):
            date_formatter = prop.get("date_formatter", "yyyy/MM/dd")
            if date_formatter not in DATE_FORMATTERS:
                raise FeishuError(err)
            return {"date_formatter": date_formatter}
        if ftype == USER:
            return {"multiple": bool(prop.get("multiple", True))}
        if ftype in LINK_TYPES:
            target = prop.get("table_id")
            if old is not None and old.type == ftype and target == (old.property or {}).get("table_id"):
                kept = copy.deepcopy(old.property or {})
                kept["multiple"] = bool(prop.get("multiple", True))
                return kept
            if not isinstance(target, str) or (target not in app.tables and target != table.table_id):
                raise FeishuError(err)
            target_name = app.tables[target].name if target in app.tables else table.name
            out = {
                "multiple": bool(prop.get("multiple", True)),
                "table_id": target,
                "table_name": target_name,
            }
            if ftype == DUPLEX_LINK:
                back = prop.get("back_field_name")
                if back is not None and (not isinstance(back, str) or not back.strip()):
                    raise FeishuError(err)
                out["back_field_name"] = back.strip() if back else None  # filled in when attached
            return out
        if ftype == FORMULA:
            expression = prop.get("formula_expression", "")
            if not isinstance(expression, str):
                raise FeishuError(err)
            return {"formatter": prop.get("formatter", ""), "formula_expression": expression}
        if ftype == LOCATION:
            input_type = (prop.get("location") or {}).get("input_type", "not_limit")
            if input_type not in ("only_mobile", "not_limit"):
                raise FeishuError(err)
            return {"location": {"input_type": input_type}}
        if ftype == AUTO_NUMBER:
            serial = prop.get("auto_serial") or {"type": "auto_increment_number"}
            if not isinstance(serial, dict) or serial.get("type") not in ("custom", "auto_increment_number"):
                raise FeishuError(1254001)
            out_serial: dict[str, Any] = {"type": serial["type"]}
            if serial["type"] == "custom":
                rules = serial.get("options")
                if not isinstance(rules, list) or not rules:
                    raise FeishuError(1254001)
                for rule in rules:
                    if not isinstance(rule, dict) or rule.get("type") not in (
                        "system_number",
                        "fixed_text",
                        "created_time",
                    ):
                        raise FeishuError(1254001)
                    if not isinstance(rule.get("value"), str):
                        raise FeishuError(1254001)
                out_serial["options"] = [{"type": r["type"], "value": r["value"]} for r in rules]
            return {"auto_serial": out_serial}
        if ftype == TEXT and ui_type == "Barcode":
            modes = prop.get("allowed_edit_modes") or {}
            return {
                "allowed_edit_modes": {"manual": modes.get("manual", True), "scan": modes.get("scan", True)}
            }
        return None  # A.5: "其他类型字段的property均为null"

    def _create_back_field(self, app: App, table: Table, f: Field) -> None:
        prop = f.property or {}
        target = app.tables.get(prop["table_id"], table)
        back_name = prop.get("back_field_name") or f"{target.name}-{f.name}"
        existing = target.by_name()
        candidate, n = back_name, 1
        while candidate in existing:
            n += 1
            candidate = f"{back_name}{n}"
        back = Field(
            self._new_id("fld", 7),
            candidate,
            DUPLEX_LINK,
            "DuplexLink",
            {
                "multiple": True,
                "table_id": table.table_id,
                "table_name": table.name,
                "back_field_id": f.field_id,
                "back_field_name": f.name,
            },
        )
        target.fields[back.field_id] = back
        prop["back_field_id"] = back.field_id
        prop["back_field_name"] = back.name
        target.touch()

    def _remove_field(self, table: Table, f: Field) -> None:
        table.fields.pop(f.field_id, None)
        for record in table.records.values():
            record.values.pop(f.field_id, None)
        for view in table.views.values():
            if view.hidden_fields and f.field_id in view.hidden_fields:
                view.hidden_fields.remove(f.field_id)
        table.touch()

    async def _fields_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            f = self._build_field(app, table, body, None)
            if f.name in table.by_name():
                raise FeishuError(1254014)
            if len(table.fields) >= self.max_fields:
                raise FeishuError(1254105)
            table.fields[f.field_id] = f
            if f.type == DUPLEX_LINK:
                self._create_back_field(app, table, f)
            table.touch()
            data = {"field": self._field_json(table, f)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _fields_update(self, ctx: Ctx, app_token: str, table_id: str, field_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        old = table.fields.get(field_id)
        if old is None:
            raise FeishuError(1254044)
        async with self._writing(table):
            new = self._build_field(app, table, body, old)
            if any(f.name == new.name and f.field_id != field_id for f in table.fields.values()):
                raise FeishuError(1254014)
            if old is table.primary and new.type not in INDEX_TYPES:
                raise FeishuError(1254070)
            if new.type in LINK_TYPES and new.property and new.property.get("back_field_name") is None:
                new.property.pop("back_field_name", None)
            same = (new.name, new.type, new.ui_type, new.property, new.description) == (
                old.name,
                old.type,
                old.ui_type,
                old.property,
                old.description,
            )
            if same:
                raise FeishuError(1254606)
            old_target = (old.property or {}).get("table_id")
            if new.type != old.type or (
                new.type in LINK_TYPES and (new.property or {}).get("table_id") != old_target
            ):
                self._convert_column(app, table, old, new)
            table.fields[field_id] = new  # keeps the column position
            if new.type == DUPLEX_LINK and "back_field_id" not in (new.property or {}):
                self._create_back_field(app, table, new)
            table.touch()
            data = {"field": self._field_json(table, new)}
        self._idem_store(key, fingerprint, data)
        return data

    def _convert_column(self, app: App, table: Table, old: Field, new: Field) -> None:
        """Best-effort conversion of existing cells when a field changes type."""
        for record in table.records.values():
            stored = record.values.pop(old.field_id, None)
            if stored is None or new.type in READ_ONLY_TYPES:
                continue
            text = self._display(app, table, old, stored, record)
            value: Any = None
            try:
                if new.type in (TEXT, PHONE, LOCATION):
                    value = text if new.type == TEXT else self._convert(app, table, new, text, "open_id")
                elif new.type == NUMBER:
                    value = float(text) if "." in text else int(text)
                elif new.type == SINGLE_SELECT:
                    value = self._resolve_options(new, [text.split(",")[0]])[0]
                elif new.type == MULTI_SELECT:
                    value = self._resolve_options(new, [p for p in text.split(",") if p])
                elif new.type == CHECKBOX:
                    value = text.lower() in ("true", "1", "yes")
                elif new.type == URL:
                    value = {"text": text, "link": text}
            except (FeishuError, ValueError):
                value = None
            if value not in (None, "", []):
                record.values[new.field_id] = value

    async def _fields_delete(self, ctx: Ctx, app_token: str, table_id: str, field_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        f = table.fields.get(field_id)
        if f is None:
            raise FeishuError(1254044)
        if f is table.primary:
            raise FeishuError(1254070)
        async with self._writing(table):
            self._remove_field(table, f)
            if f.type == DUPLEX_LINK:
                prop = f.property or {}
                target = app.tables.get(prop.get("table_id", ""))
                back = target.fields.get(prop.get("back_field_id", "")) if target else None
                if target and back and back is not target.primary:
                    self._remove_field(target, back)
        return {"field_id": field_id, "deleted": True}

    # ------------------------------------------------------------------ views

    @staticmethod
    def _view_json(view: View, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"view_id": view.view_id, "view_name": view.name, "view_type": view.type}
        if full:
            out["property"] = {
                "filter_info": copy.deepcopy(view.filter_info),
                "hidden_fields": copy.deepcopy(view.hidden_fields),
            }
        return out

    def _view(self, table: Table, view_id: str) -> View:
        view = table.views.get(view_id)
        if view is None:
            raise FeishuError(1254042)
        return view

    @staticmethod
    def _check_view_name(table: Table, name: Any, exclude: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise FeishuError(1254021)
        name = name.strip()
        if len(name) > 100 or "[" in name or "]" in name:
            raise FeishuError(1254022)
        if any(v.name == name and v.view_id != exclude for v in table.views.values()):
            raise FeishuError(1254020)
        return name

    async def _views_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        self._user_id_type(ctx.query.get("user_id_type"))
        page, meta = self._paginate(ctx, [self._view_json(v) for v in table.views.values()], 100)
        return {**meta, "items": page}

    async def _views_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        async with self._writing(table):
            name = self._check_view_name(table, body.get("view_name"))
            view_type = body.get("view_type", "grid")
            if view_type not in VIEW_TYPES:
                raise FeishuError(1254019)
            if len(table.views) >= self.max_views:
                raise FeishuError(1254101)
            view = View(self._new_id("vew", 7), name, view_type)
            if view_type == "form":
                view.form = {
                    "name": name,
                    "description": "",
                    "shared": False,
                    "shared_url": "",
                    "shared_limit": "off",
                    "submit_limit_once": False,
                }
            table.views[view.view_id] = view
            table.touch()
        return {"view": self._view_json(view)}

    async def _views_get(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        return {"view": self._view_json(self._view(table, view_id), full=True)}

    async def _views_patch(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        view = self._view(table, view_id)
        body = self._body(ctx)
        async with self._writing(table):
            name = view.name
            if "view_name" in body and body["view_name"] is not None:
                name = self._check_view_name(table, body["view_name"], exclude=view.view_id)
            prop = body.get("property")
            if prop is not None and not isinstance(prop, dict):
                raise FeishuError(1254001)
            prop = prop or {}
            filter_info = view.filter_info
            if "filter_info" in prop:
                filter_info = self._view_filter(table, prop["filter_info"])
            hidden = view.hidden_fields
            if "hidden_fields" in prop:
                hidden = prop["hidden_fields"]
                if hidden is not None:
                    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
                        raise FeishuError(1254001)
                    if any(h not in table.fields for h in hidden):
                        raise FeishuError(1254044)
                    hidden = list(dict.fromkeys(h for h in hidden if table.fields[h] is not table.primary))
            view.name, view.filter_info, view.hidden_fields = name, filter_info, hidden
            table.touch()
        return {"view": self._view_json(view, full=True)}

    def _view_filter(self, table: Table, info: Any) -> dict[str, Any] | None:
        if info is None:
            return None
        if not isinstance(info, dict) or info.get("conjunction", "and") not in ("and", "or"):
            raise FeishuError(1254018)
        conditions = info.get("conditions")
        if not isinstance(conditions, list) or len(conditions) > 50:
            raise FeishuError(1254018)
        out = []
        for cond in conditions:
            if not isinstance(cond, dict):
                raise FeishuError(1254018)
            f = table.fields.get(cond.get("field_id", ""))
            if f is None:
                raise FeishuError(1254044)
            operator = cond.get("operator")
            if operator not in FILTER_OPERATORS:
                raise FeishuError(1254018)
            value = cond.get("value")
            if value is not None and not isinstance(value, str):
                raise FeishuError(1254018)
            values = self._view_option_names(f, operator, self._view_values(value))
            self._compile_condition(f, operator, values, "open_id")  # validates
            out.append(
                {
                    "condition_id": self._new_id("con", 7),
                    "field_id": f.field_id,
                    "field_type": f.type,
                    "operator": operator,
                    "value": value,
                }
            )
        return {"condition_omitted": None, "conditions": out, "conjunction": info.get("conjunction", "and")}

    def _view_option_names(self, f: Field, operator: str, values: list[str]) -> list[str]:
        """A view filter names select options by id (A.20's example): their names, for matching."""
        if f.type not in (SINGLE_SELECT, MULTI_SELECT) or operator in ("isEmpty", "isNotEmpty"):
            return values
        names = [self._option_name(f, v) for v in values]
        if any(n is None for n in names):
            raise FeishuError(1254018)
        return [n for n in names if n is not None]

    @staticmethod
    def _view_values(value: str | None) -> list[str]:
        if value is None or value == "":
            return []
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
        return [str(parsed)]

    async def _views_delete(self, ctx: Ctx, app_token: str, table_id: str, view_id: str) -> dict[str, Any]:
        _, table = self._app_table(app_token, table_id)
        self._view(table, view_id)
        if len(table.views) <= 1:
            raise FeishuError(1254023)
        async with self._writing(table):
            table.views.pop(view_id, None)
            table.touch()
        return {}

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

    def _resolve_options(self, f: Field, names: list[str]) -> list[str]:
        """Option names -> option ids; unknown names create options (documented)."""
        prop = f.property if f.property is not None else {"options": []}
        f.property = prop
        options = prop.setdefault("options", [])
        existing = {}
        for opt in options:
            existing.setdefault(opt["name"], opt["id"])
        ids = []
        for name in names:
            if name in existing:
                ids.append(existing[name])
                continue
            color = (options[-1]["color"] + 1) % 55 if options else 0
            opt = {"name": name, "id": self._new_id("opt", 7), "color": color}
            options.append(opt)
            ids.append(opt["id"])
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
        self, app: App, table: Table, validated: list[tuple[Field, Any, Any]], now: int | None = None
    ) -> Record:
        """A new record with the validated values (what ``_apply`` does, for a record with none)."""
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
                values[f.field_id] = self._resolve_options(f, normalized)[0]
            elif t == MULTI_SELECT:
                values[f.field_id] = self._resolve_options(f, normalized)
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

    # ------------------------------------------------------------------ search filter / sort

    def _date_range(self, values: list[str]) -> tuple[int, int]:
        if not values or not isinstance(values[0], str):
            raise FeishuError(1254018)
        mode = values[0]
        today = self._today()
        weekday = (dt.date(1970, 1, 1) + dt.timedelta(days=today)).weekday()
        if mode == "ExactDate":
            if len(values) < 2:
                raise FeishuError(1254018)
            try:
                day = self._day(int(values[1]))
            except ValueError:
                raise FeishuError(1254018) from None
            return day, day
        if mode in ("CurrentMonth", "LastMonth"):
            date = dt.date(1970, 1, 1) + dt.timedelta(days=today)
            first = date.replace(day=1)
            if mode == "LastMonth":
                first = (first - dt.timedelta(days=1)).replace(day=1)
            nxt = (first + dt.timedelta(days=32)).replace(day=1)
            epoch = dt.date(1970, 1, 1)
            return (first - epoch).days, (nxt - epoch).days - 1
        ranges = {
            "Today": (today, today),
            "Tomorrow": (today + 1, today + 1),
            "Yesterday": (today - 1, today - 1),
            "CurrentWeek": (today - weekday, today - weekday + 6),
            "LastWeek": (today - weekday - 7, today - weekday - 1),
            "TheLastWeek": (today - 6, today),
            "TheNextWeek": (today, today + 6),
            "TheLastMonth": (today - 29, today),
            "TheNextMonth": (today, today + 29),
        }
        if mode not in ranges:
            raise FeishuError(1254018)
        return ranges[mode]

    def _kind(self, f: Field) -> str:
        t = f.type
        if t == NUMBER:
            return "number"
        if t in (DATETIME, CREATED_TIME, MODIFIED_TIME):
            return "date"
        if t == CHECKBOX:
            return "checkbox"
        if t == SINGLE_SELECT:
            return "select"
        if t in (MULTI_SELECT, USER, CREATED_USER, MODIFIED_USER, SINGLE_LINK, DUPLEX_LINK, GROUP_CHAT):
            return "set"
        if t == ATTACHMENT:
            return "attachment"
        return "text"

    def _compile_condition(
        self, f: Field, op: Any, values: Any, id_type: str, app: App | None = None, table: Table | None = None
    ) -> Callable[[Record], bool]:
        if op not in FILTER_OPERATORS:  # includes like / in: "暂未支持"
            raise FeishuError(1254018)
        if values is None:
            values = []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise FeishuError(1254018)
        kind = self._kind(f)
        allowed = {
            "number": NUMBER_OPS,
            "date": DATE_OPS,
            "checkbox": {"is"},
            "attachment": {"isEmpty", "isNotEmpty"},
        }.get(kind, TEXT_OPS)
        if op not in allowed:
            raise FeishuError(1254018)
        value = self._value
        if op in ("isEmpty", "isNotEmpty"):
            want_empty = op == "isEmpty"

            def empty(r: Record) -> bool:
                return (value(table, f, r) in (None, "", [])) == want_empty  # type: ignore[arg-type]

            return empty
        if not values:
            raise FeishuError(1254018)
        if kind == "number":
            try:
                x = float(values[0])
            except ValueError:
                raise FeishuError(1254018) from None
            compare: dict[str, Callable[[float], bool]] = {
                "is": lambda n: n == x,
                "isGreater": lambda n: n > x,
                "isGreaterEqual": lambda n: n >= x,
                "isLess": lambda n: n < x,
                "isLessEqual": lambda n: n <= x,
            }
            if op == "isNot":
                return lambda r: value(table, f, r) != x  # type: ignore[arg-type]
            test = compare[op]
            return lambda r: (n := value(table, f, r)) is not None and test(n)  # type: ignore[arg-type]
        if kind == "date":
            start, end = self._date_range(values)
            day = self._day

            def date_test(r: Record) -> bool:
                ms = value(table, f, r)  # type: ignore[arg-type]
                if ms is None:
                    return False
                d = day(ms)
                if op == "is":
                    return start <= d <= end
                return d > end if op == "isGreater" else d < start

            return date_test
        if kind == "checkbox":
            if values[0] not in ("true", "false"):
                raise FeishuError(1254018)
            want = values[0] == "true"
            return lambda r: bool(value(table, f, r)) == want  # type: ignore[arg-type]
        if kind == "select":
            wanted = set(values)

            def select_test(r: Record) -> bool:
                stored = value(table, f, r)  # type: ignore[arg-type]
                hit = stored is not None and self._option_name(f, stored) in wanted
                return hit if op in ("is", "contains") else not hit

            return select_test
        if kind == "set":
            wanted = set(values)

            def members(r: Record) -> set[str]:
                stored = value(table, f, r)  # type: ignore[arg-type]
                if not stored:
                    return set()
                if f.type == MULTI_SELECT:
                    return {self._option_name(f, o) or "" for o in stored}
                if f.type in (USER, CREATED_USER, MODIFIED_USER):
                    return {self._user_json(u, id_type)["id"] for u in stored}
                return set(stored)

            if op == "is":
                return lambda r: members(r) == wanted
            if op == "isNot":
                return lambda r: members(r) != wanted
            if op == "contains":
                return lambda r: bool(members(r) & wanted)
            return lambda r: not members(r) & wanted
        lowered = [v.lower() for v in values]

        def text_test(r: Record) -> bool:
            stored = value(table, f, r)  # type: ignore[arg-type]
            text = self._display(app, table, f, stored, r) if stored is not None else ""  # type: ignore[arg-type]
            if op == "is":
                return text == values[0]
            if op == "isNot":
                return text != values[0]
            hit = any(v in text.lower() for v in lowered)
            return hit if op == "contains" else not hit

        return text_test

    def _compile_filter(
        self, app: App, table: Table, filt: Any, id_type: str, depth: int = 0
    ) -> Callable[[Record], bool] | None:
        if filt is None:
            return None
        if not isinstance(filt, dict):
            raise FeishuError(1254018)
        conditions = filt.get("conditions") or []
        children = filt.get("children") or []
        if not isinstance(conditions, list) or not isinstance(children, list):
            raise FeishuError(1254018)
        if depth > 0 and children:
            raise FeishuError(1254018)
        if not conditions and not children:
            return None
        conjunction = filt.get("conjunction")
        if conjunction not in ("and", "or"):
            raise FeishuError(1254018)
        index = table.by_name()
        parts: list[Callable[[Record], bool]] = []
        for cond in conditions:
            if not isinstance(cond, dict) or not isinstance(cond.get("field_name"), str):
                raise FeishuError(1254018)
            f = index.get(cond["field_name"])
            if f is None:
                raise FeishuError(1254045)
            parts.append(
                self._compile_condition(f, cond.get("operator"), cond.get("value"), id_type, app, table)
            )
        for child in children:
            compiled = self._compile_filter(app, table, child, id_type, depth + 1)
            if compiled is None:
                if not isinstance(child, dict):
                    raise FeishuError(1254018)
                continue
            parts.append(compiled)
        if conjunction == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)

    def _compile_view_filter(self, app: App, table: Table, view: View) -> Callable[[Record], bool] | None:
        info = view.filter_info
        if not info or not info.get("conditions"):
            return None
        parts = []
        for cond in info["conditions"]:
            f = table.fields.get(cond["field_id"])
            if f is None:
                continue
            try:
                values = self._view_option_names(f, cond["operator"], self._view_values(cond.get("value")))
            except FeishuError:
                continue  # an option deleted since: the condition no longer applies
            parts.append(self._compile_condition(f, cond["operator"], values, "open_id", app, table))
        if info.get("conjunction") == "or":
            return lambda r: any(p(r) for p in parts)
        return lambda r: all(p(r) for p in parts)

    def _sort_key(self, app: App, table: Table, f: Field) -> Callable[[Record], Any]:
        kind = self._kind(f)
        if kind in ("number", "date"):
            return lambda r: self._value(table, f, r)
        if kind == "checkbox":
            return lambda r: bool(self._value(table, f, r))
        if f.type in (SINGLE_SELECT, MULTI_SELECT):
            order = {o["id"]: i for i, o in enumerate((f.property or {}).get("options", []))}

            def option_key(r: Record) -> Any:
                stored = self._value(table, f, r)
                if stored is None:
                    return None
                first = stored if f.type == SINGLE_SELECT else stored[0]
                return order.get(first, len(order))

            return option_key

        def text_key(r: Record) -> Any:
            stored = self._value(table, f, r)
            return None if stored is None else self._display(app, table, f, stored, r)

        return text_key

    def _stamp(self, app: App) -> list[int]:
        """What a cached query result depends on besides its own table: the day (relative dates) and
        every table of the app (link texts)."""
        return [self._today(), *(t.version for t in app.tables.values())]

    def _query(
        self,
        app: App,
        table: Table,
        cache_key: str,
        predicate: Callable[[Record], bool] | None,
        sort: list[tuple[Field, bool]],
    ) -> list[str]:
        """Matching record ids in order; cached per table version (paging re-runs the same query)."""
        if table.cache_version != table.version:
            table.query_cache = {}
            table.cache_version = table.version
        cached = table.query_cache.get(cache_key)
        if cached is not None:
            return cached
        records = [r for r in table.records.values() if predicate is None or predicate(r)]
        for f, desc in reversed(sort):
            key = self._sort_key(app, table, f)
            present = [(key(r), r) for r in records]
            full = [(k, r) for k, r in present if k is not None]
            empty = [r for k, r in present if k is None]
            full.sort(key=lambda kr: kr[0], reverse=desc)
            records = [r for _, r in full] + empty
        ids = [r.record_id for r in records]
        if len(table.query_cache) > 64:
            table.query_cache.clear()
        table.query_cache[cache_key] = ids
        return ids

    # ------------------------------------------------------------------ records endpoints

    async def _records_search(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        size = self._page_size(ctx, 500)
        offset = self._page_offset(ctx)
        body = self._body(ctx, required=False)
        index = table.by_name()
        view = None
        if body.get("view_id") is not None:
            if not isinstance(body["view_id"], str):
                raise FeishuError(1254001)
            view = self._view(table, body["view_id"])
        only = None
        names = body.get("field_names")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise FeishuError(1254001)
            if any(n not in index for n in names):
                raise FeishuError(1254045)
            only = [index[n] for n in dict.fromkeys(names)]
        sort: list[tuple[Field, bool]] = []
        raw_sort = body.get("sort")
        if raw_sort is not None:
            if not isinstance(raw_sort, list):
                raise FeishuError(1254016)
            for item in raw_sort:
                if not isinstance(item, dict) or not isinstance(item.get("field_name"), str):
                    raise FeishuError(1254016)
                if item["field_name"] not in index:
                    raise FeishuError(1254045)
                desc = item.get("desc", False)
                if not isinstance(desc, bool):
                    raise FeishuError(1254016)
                sort.append((index[item["field_name"]], desc))
        automatic = body.get("automatic_fields", False)
        if not isinstance(automatic, bool):
            raise FeishuError(1254001)
        predicate = self._compile_filter(app, table, body.get("filter"), id_type)
        if predicate is None and view is not None:
            predicate = self._compile_view_filter(app, table, view)
        cache_key = json.dumps(
            ["search", body.get("filter"), body.get("sort"), body.get("view_id"), id_type, self._stamp(app)],
            sort_keys=True,
        )
        ids = self._query(app, table, cache_key, predicate, sort)
        hidden = set(view.hidden_fields or []) if view is not None and only is None else None
        page = ids[offset : offset + size]
        items = [
            self._render_record(
                app,
                table,
                table.records[rid],
                "search",
                id_type,
                only=only,
                hidden=hidden,
                automatic=automatic,
            )
            for rid in page
        ]
        has_more = offset + size < len(ids)
        data: dict[str, Any] = {"has_more": has_more, "items": items, "total": len(ids)}
        if has_more:
            data["page_token"] = self._page_token(offset + size)
        return data

    async def _records_list(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        q = ctx.query
        id_type = self._user_id_type(q.get("user_id_type"))
        size = self._page_size(ctx, 500)
        offset = self._page_offset(ctx)
        index = table.by_name()
        only = None
        if q.get("field_names"):
            try:
                names = json.loads(q["field_names"])
            except ValueError:
                raise FeishuError(1254024) from None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise FeishuError(1254024)
            if any(n not in index for n in names):
                raise FeishuError(1254045)
            only = [index[n] for n in dict.fromkeys(names)]
        formula = q.get("filter") or ""
        if len(formula) > 2000:
            raise FeishuError(1254107)
        predicate = FormulaFilter(self, app, table, formula).compile() if formula else None
        sort: list[tuple[Field, bool]] = []
        raw_sort = q.get("sort") or ""
        if len(raw_sort) > 1000:
            raise FeishuError(1254108)
        if raw_sort:
            try:
                items_sort = json.loads(raw_sort)
            except ValueError:
                raise FeishuError(1254016) from None
            if not isinstance(items_sort, list) or not all(isinstance(s, str) for s in items_sort):
                raise FeishuError(1254016)
            for spec in items_sort:
                name, desc = spec.strip(), False
                head, _, tail = name.rpartition(" ")
                if head and tail.upper() in ("ASC", "DESC"):
                    name, desc = head.strip(), tail.upper() == "DESC"
                if name not in index:
                    raise FeishuError(1254016)
                sort.append((index[name], desc))
        view = None
        view_id = q.get("view_id")
        if view_id and not formula and not raw_sort:  # A.30: "如filter或sort有值, view_id会被忽略"
            view = self._view(table, view_id)
            predicate = self._compile_view_filter(app, table, view)
        cache_key = json.dumps(["list", formula, raw_sort, view.view_id if view else None, self._stamp(app)])
        ids = self._query(app, table, cache_key, predicate, sort)
        hidden = set(view.hidden_fields or []) if view is not None and only is None else None
        automatic = self._flag(ctx, "automatic_fields")
        as_array = self._flag(ctx, "text_field_as_array")
        page = ids[offset : offset + size]
        items = [
            self._render_record(
                app,
                table,
                table.records[rid],
                "list",
                id_type,
                only=only,
                hidden=hidden,
                automatic=automatic,
                as_array=as_array,
            )
            for rid in page
        ]
        has_more = offset + size < len(ids)
        data: dict[str, Any] = {"has_more": has_more, "items": items, "total": len(ids)}
        if has_more:
            data["page_token"] = self._page_token(offset + size)
        return data

    async def _records_get(self, ctx: Ctx, app_token: str, table_id: str, record_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        record = table.records.get(record_id)
        if record is None:
            raise FeishuError(1254043)
        out = self._render_record(
            app,
            table,
            record,
            "get",
            id_type,
            automatic=self._flag(ctx, "automatic_fields"),
            as_array=self._flag(ctx, "text_field_as_array"),
        )
        if self._flag(ctx, "with_shared_url"):
            out["record_url"] = f"https://example.feishu.cn/record/{record_id}"
        return {"record": out}

    async def _records_batch_get(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        ids = body.get("record_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        if len(ids) > self.batch_get_limit:
            raise FeishuError(1254104)
        id_type = self._user_id_type(body.get("user_id_type") or ctx.query.get("user_id_type"))
        automatic = bool(body.get("automatic_fields", False))
        shared = bool(body.get("with_shared_url", False))
        records, absent = [], []
        for rid in dict.fromkeys(ids):
            record = table.records.get(rid)
            if record is None:
                absent.append(rid)
                continue
            item = self._render_record(app, table, record, "search", id_type, automatic=automatic)
            if shared:
                item["shared_url"] = f"https://example.feishu.cn/record/{rid}"
            records.append(item)
        return {"records": records, "absent_record_ids": absent, "forbidden_record_ids": []}

    async def _records_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            validated = self._validate_fields(app, table, body.get("fields"), id_type)
            if len(table.records) + 1 > self.max_records_per_table:
                raise FeishuError(1254103)
            record = self._insert(app, table, validated)
            table.touch()
            data = {"record": self._echo(record, validated)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_batch_create(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        items = body.get("records")
        if not isinstance(items, list):
            raise FeishuError(1254001)
        if len(items) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            validated = []
            index = table.by_name()
            for item in items:
                if not isinstance(item, dict):
                    raise FeishuError(1254001)
                validated.append(self._validate_fields(app, table, item.get("fields"), id_type, index))
            if len(table.records) + len(items) > self.max_records_per_table:
                raise FeishuError(1254103)
            now = self._now_ms()
            created = [self._insert(app, table, v, now) for v in validated]
            table.touch()
            data = {"records": [self._echo(r, v) for r, v in zip(created, validated, strict=True)]}
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_update(
        self, ctx: Ctx, app_token: str, table_id: str, record_id: str
    ) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        async with self._writing(table):
            record = table.records.get(record_id)
            if record is None:
                raise FeishuError(1254043)
            validated = self._validate_fields(app, table, body.get("fields"), id_type)
            self._apply(app, table, record, validated)
            table.touch()
            data = {"record": self._echo(record, validated)}
        self._idem_store(key, fingerprint, data)
        return data

    async def _records_batch_update(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        id_type = self._user_id_type(ctx.query.get("user_id_type"))
        body = self._body(ctx)
        key, fingerprint, replay = self._idem_lookup(ctx, body)
        if replay is not None:
            return replay
        items = body.get("records")
        if not isinstance(items, list):
            raise FeishuError(1254001)
        if len(items) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            plan = []
            index = table.by_name()
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("record_id"), str):
                    raise FeishuError(1254001)
                record = table.records.get(item["record_id"])
                if record is None:
                    raise FeishuError(1254043)
                plan.append((record, self._validate_fields(app, table, item.get("fields"), id_type, index)))
            for record, validated in plan:
                self._apply(app, table, record, validated)
            table.touch()
            data = {"records": [self._echo(r, v) for r, v in plan]}
        self._idem_store(key, fingerprint, data)
        return data

    def _delete_records(self, app: App, table: Table, ids: list[str]) -> None:
        doomed = set(ids)
        for rid in ids:
            record = table.records.pop(rid)
            for f in table.fields.values():
                if f.type == DUPLEX_LINK and record.values.get(f.field_id):
                    self._sync_back_links(app, table, f, rid, record.values[f.field_id], [])
        self._unlink_deleted(app, table, doomed)
        table.touch()

    async def _records_delete(
        self, ctx: Ctx, app_token: str, table_id: str, record_id: str
    ) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        async with self._writing(table):
            if record_id not in table.records:
                raise FeishuError(1254043)
            self._delete_records(app, table, [record_id])
        return {"deleted": True, "record_id": record_id}

    async def _records_batch_delete(self, ctx: Ctx, app_token: str, table_id: str) -> dict[str, Any]:
        app, table = self._app_table(app_token, table_id)
        body = self._body(ctx)
        ids = body.get("records")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FeishuError(1254001)
        if len(ids) > self.batch_limit:
            raise FeishuError(1254104)
        async with self._writing(table):
            unique = list(dict.fromkeys(ids))
            if any(rid not in table.records for rid in unique):
                raise FeishuError(1254043)
            self._delete_records(app, table, unique)
        return {"records": [{"deleted": True, "record_id": rid} for rid in ids]}

    # ------------------------------------------------------------------ app metadata (A.10, A.11)

    async def _app_get(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        return {
            "app": {
                "app_token": app.app_token,
                "name": app.name,
                "revision": app.revision,
                "is_advanced": app.is_advanced,
            }
        }

    async def _app_update(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        body = self._body(ctx)
        name, advanced = body.get("name"), body.get("is_advanced")
        if name is not None and not isinstance(name, str):
            raise FeishuError(1254001)
        if advanced is not None and not isinstance(advanced, bool):
            raise FeishuError(1254001)
        if isinstance(name, str):
            name = name.strip()
            if not name or len(name) > 100 or BAD_NAME_CHARS.search(name):
                raise FeishuError(1254031)
        # A.11: "非原子操作,先修改多维表格名字,后开关高级权限。可能存在部分成功的情况".
        if name is not None and name != app.name:
            app.name = name
            app.revision += 1
        if advanced is not None and advanced != app.is_advanced:
            if advanced and not app.advanced_allowed:
                raise FeishuError(1254301)
            app.is_advanced = advanced
            app.advanced_ready_at = self.clock.now() + self.advanced_delay if advanced else 0.0
            app.revision += 1
        return {"app": {"app_token": app.app_token, "name": app.name, "is_advanced": app.is_advanced}}

    # ------------------------------------------------------------------ dashboards (A.18, A.19)

    async def _dashboards_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._app(app_token)
        items = [dict(d) for d in app.dashboards.values()]
        page, meta = self._paginate(ctx, items, 500)
        meta.pop("total", None)  # A.19 answers dashboards, page_token, has_more
        return {"dashboards": page, **meta}

    async def _dashboards_copy(self, ctx: Ctx, app_token: str, block_id: str) -> dict[str, Any]:
        app = self._app(app_token)
        source = app.dashboards.get(block_id)
        if source is None:
            raise FeishuError(1254050)
        name = self._body(ctx).get("name")
        if not isinstance(name, str):
            raise FeishuError(1254001)
        name = name.strip()
        if not name or len(name) > 100 or "[" in name or "]" in name:
            raise FeishuError(1254038)
        if any(d["name"] == name for d in app.dashboards.values()):
            raise FeishuError(1254039)
        new_id = self._new_id("blk", 13)
        app.dashboards[new_id] = {"block_id": new_id, "name": name}
        return {"block_id": new_id, "name": name}

    # ------------------------------------------------------------------ forms (A.25-A.28)

    def _form_view(self, app_token: str, table_id: str, form_id: str) -> tuple[Table, View]:
        _, table = self._app_table(app_token, table_id)
        view = table.views.get(form_id)
        if view is None:
            raise FeishuError(1254042)
        if view.type != "form" or view.form is None:
            raise FeishuError(1254005)  # a view, but not a form
        return table, view

    def _questions(self, table: Table, view: View) -> list[tuple[str, dict[str, Any]]]:
        """The form's questions in order: one per writable field of the table."""
        current = {
            fid: f
            for fid, f in table.fields.items()
            if f.type not in READ_ONLY_TYPES and f.type != DUPLEX_LINK
        }
        for fid in [q for q in view.questions if q not in current]:
            del view.questions[fid]
        for fid, f in current.items():
            if fid not in view.questions:
                view.questions[fid] = {"title": f.name, "description": "", "required": False, "visible": True}
        return list(view.questions.items())

    async def _forms_get(self, ctx: Ctx, app_token: str, table_id: str, form_id: str) -> dict[str, Any]:
        _, view = self._form_view(app_token, table_id, form_id)
        return {"form": dict(view.form or {})}

    async def _forms_patch(self, ctx: Ctx, app_token: str, table_id: str, form_id: str) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        body = self._body(ctx)
        types = {
            "name": str,
            "description": str,
            "shared": bool,
            "shared_limit": str,
            "submit_limit_once": bool,
        }
        changes = {k: body[k] for k in types if body.get(k) is not None}
        for key, value in changes.items():
            if not isinstance(value, types[key]):
                raise FeishuError(1254001)
        if "name" in changes and not changes["name"].strip():
            raise FeishuError(1254001)
        if "shared_limit" in changes and changes["shared_limit"] not in SHARED_LIMITS:
            raise FeishuError(1254001)
        async with self._writing(table):
            form = view.form or {}
            form.update(changes)
            if form.get("shared") and not form.get("shared_url"):
                form["shared_url"] = "https://bytedance.feishu.cn/share/base/" + self._new_id("shrcn", 22)
            table.touch()
        return {"form": dict(form)}

    async def _form_fields_list(
        self, ctx: Ctx, app_token: str, table_id: str, form_id: str
    ) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        items = [{"field_id": fid, **q} for fid, q in self._questions(table, view)]
        page, meta = self._paginate(ctx, items, 100)
        return {**meta, "items": page}

    async def _form_fields_patch(
        self, ctx: Ctx, app_token: str, table_id: str, form_id: str, field_id: str
    ) -> dict[str, Any]:
        table, view = self._form_view(app_token, table_id, form_id)
        questions = dict(self._questions(table, view))
        if field_id not in questions:
            raise FeishuError(1254049)
        body = self._body(ctx)
        types = {"pre_field_id": str, "title": str, "description": str, "required": bool, "visible": bool}
        changes = {k: body[k] for k in types if body.get(k) is not None}
        for key, value in changes.items():
            if not isinstance(value, types[key]):
                raise FeishuError(1254001)
        if "title" in changes and not changes["title"].strip():
            raise FeishuError(1254001)
        # A.27 visible: "当值为 false 时,不允许更新其他字段" - a hidden question takes no other change.
        visible = changes.get("visible", questions[field_id]["visible"])
        if not visible and set(changes) - {"visible"}:
            raise FeishuError(1254001)
        pre = changes.pop("pre_field_id", None)
        if pre and (pre not in questions or pre == field_id):
            raise FeishuError(1254049)
        async with self._writing(table):
            question = questions[field_id]
            question.update(changes)
            if pre is not None:
                order = [fid for fid in questions if fid != field_id]
                order.insert(order.index(pre) + 1 if pre else 0, field_id)
                view.questions = {fid: questions[fid] for fid in order}
            table.touch()
        ids = list(view.questions)
        position = ids.index(field_id)
        return {"field": {"pre_field_id": ids[position - 1] if position else "", **question}}

    # ------------------------------------------------------------------ roles (A.41-A.44)

    def _advanced_app(self, app_token: str) -> App:
        """The app of a role/member call: advanced permissions must be on (and ready, A.7)."""
        app = self._app(app_token)
        if not app.is_advanced or self.clock.now() < app.advanced_ready_at:
            raise FeishuError(1254301)
        return app

    def _role(self, app: App, role_id: str) -> dict[str, Any]:
        role = app.roles.get(role_id)
        if role is None:
            raise FeishuError(1254047)
        return role

    @staticmethod
    def _bounded_list(value: Any, name: str, limit: int = 100) -> list[Any]:
        if not isinstance(value, list):
            raise FeishuError(1254001)
        if len(value) > limit:  # "数据校验规则: 最大长度:100"
            raise field_violation(name, len(value), f"{name} has at most {limit} items")
        return value

    def _build_rec_rule(self, table: Table, rule: Any) -> dict[str, Any]:
        if not isinstance(rule, dict):
            raise FeishuError(1254001)
        conjunction = rule.get("conjunction") or "and"
        other = rule.get("other_perm", 0)
        if conjunction not in ("and", "or") or other not in (0, 1) or isinstance(other, bool):
            raise FeishuError(1254001)
        conditions = []
        index = table.by_name()
        for cond in self._bounded_list(rule.get("conditions"), "conditions"):
            if not isinstance(cond, dict) or not isinstance(cond.get("field_name"), str):
                raise FeishuError(1254001)
            name = cond["field_name"]
            f = index.get(name)
            if name == "" or (f is not None and f.type in (USER, CREATED_USER, MODIFIED_USER)):
                # "人员 包含 访问者本人" / "创建人 包含 访问者本人" (field_name "")
                ftype = CREATED_USER if name == "" else f.type  # type: ignore[union-attr]
                conditions.append(
                    {"field_name": name, "field_type": ftype, "operator": "contains", "value": None}
                )
                continue
            if f is None or f.type not in (SINGLE_SELECT, MULTI_SELECT):
                raise FeishuError(1254001)  # record rules test select options or people
            operator = cond.get("operator") or "is"
            if operator not in ROLE_OPERATORS:
                raise FeishuError(1254001)
            value = cond.get("value")
            if operator in ("isEmpty", "isNotEmpty"):
                value = None
            elif (
                not isinstance(value, list)
                or not value
                or any(not isinstance(v, str) or self._option_name(f, v) is None for v in value)
            ):
                raise FeishuError(1254001)  # values are option ids of the field
            conditions.append(
                {"field_name": name, "field_type": f.type, "operator": operator, "value": value}
            )
        return {"conjunction": conjunction, "conditions": conditions, "other_perm": other}

    def _build_table_role(self, app: App, raw: Any, seen: set[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise FeishuError(1254001)
        table_id, table_name = raw.get("table_id"), raw.get("table_name")
        table = app.tables.get(table_id) if isinstance(table_id, str) else None
        if table is None and not table_id and isinstance(table_name, str):
            table = next((t for t in app.tables.values() if t.name == table_name), None)
        if table is None or table.table_id in seen:
            raise FeishuError(1254001)
        seen.add(table.table_id)
        perm = raw.get("table_perm", 0)
        if isinstance(perm, bool) or perm not in TABLE_PERMS:
            raise FeishuError(1254001)
        out: dict[str, Any] = {"table_name": table.name, "table_id": table.table_id, "table_perm": perm}
        if perm == 2:
            for key in ("allow_add_record", "allow_delete_record"):
                value = raw.get(key, True)
                if not isinstance(value, bool):
                    raise FeishuError(1254001)
                out[key] = value
        rule, field_perm = raw.get("rec_rule"), raw.get("field_perm")
        row_or_column = (rule is not None and perm in (1, 2)) or (field_perm and perm == 2)
        if row_or_column and not app.row_column_perms:
            raise FeishuError(1254304)
        if rule is not None and perm in (1, 2):
            out["rec_rule"] = self._build_rec_rule(table, rule)
        if field_perm is not None and perm == 2:
            index = table.by_name()
            if not isinstance(field_perm, dict) or any(
                k not in index or v not in (1, 2) or isinstance(v, bool) for k, v in field_perm.items()
            ):
                raise FeishuError(1254001)
            out["field_perm"] = dict(field_perm)
        return out

    def _build_role_body(self, app: App, body: Any, exclude: str | None = None) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("role_name"), str):
            raise FeishuError(1254001)
        name = body["role_name"].strip()
        if not name or len(name) > 100:
            raise FeishuError(1254032)
        if any(r["role_name"] == name and r["role_id"] != exclude for r in app.roles.values()):
            raise FeishuError(1254033)
        seen: set[str] = set()
        tables = [
            self._build_table_role(app, t, seen)
            for t in self._bounded_list(body.get("table_roles"), "table_roles")
        ]
        blocks = []
        seen_blocks: set[str] = set()
        for raw in self._bounded_list(body.get("block_roles"), "block_roles"):
            if (
                not isinstance(raw, dict)
                or raw.get("block_id") not in app.dashboards
                or raw["block_id"] in seen_blocks
            ):
                raise FeishuError(1254001)
            perm = raw.get("block_perm", 0)
            if isinstance(perm, bool) or perm not in (0, 1):
                raise FeishuError(1254001)
            seen_blocks.add(raw["block_id"])
            blocks.append({"block_id": raw["block_id"], "block_type": "dashboard", "block_perm": perm})
        return {"role_name": name, "table_roles": tables, "block_roles": blocks}

    def _create_role(self, app: App, body: Any) -> dict[str, Any]:
        built = self._build_role_body(app, body)
        if len(app.roles) >= self.max_roles:
            raise FeishuError(1254110)
        role = {"role_id": self._new_id("rol", 7), **built, "members": []}
        app.roles[role["role_id"]] = role
        return role

    @staticmethod
    def _role_json(role: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in role.items() if k != "members"})

    async def _roles_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        page, meta = self._paginate(ctx, [self._role_json(r) for r in app.roles.values()], 30)
        return {**meta, "items": page}

    async def _roles_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        return {"role": self._role_json(self._create_role(app, self._body(ctx)))}

    async def _roles_update(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        role = self._role(app, role_id)
        role.update(self._build_role_body(app, self._body(ctx), exclude=role_id))  # a full replacement (A.44)
        out = self._role_json(role)
        del out["role_id"]  # A.44's answer: role_name, table_roles (addrecords_perm...), block_roles
        for table_role in out["table_roles"]:
            if "allow_add_record" in table_role:
                table_role["addrecords_perm"] = table_role.pop("allow_add_record")
                table_role["deleterecords_perm"] = table_role.pop("allow_delete_record")
        for block in out["block_roles"]:
            block.pop("block_type", None)
        return {"role": out}

    async def _roles_delete(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        self._role(app, role_id)
        del app.roles[role_id]
        return {}

    # ------------------------------------------------------------------ role members (A.45-A.49)

    def _member_key(self, id_type: Any, member_id: Any) -> tuple[str, str]:
        """(kind, canonical id) of a member named by an id of ``id_type``; 1254048 if unknown."""
        if not isinstance(member_id, str) or not member_id:
            raise FeishuError(1254001)
        if id_type in ("open_id", "union_id", "user_id"):
            for user in self.users.values():
                if user.id_for(id_type) == member_id:
                    return "user", user.open_id
        elif id_type == "chat_id":
            if member_id in self.chats:
                return "chat", member_id
        elif id_type in ("department_id", "open_department_id"):
            for dept in self.departments.values():
                if dept[id_type] == member_id:
                    return "department", dept["open_department_id"]
        raise FeishuError(1254048)

    def _member_json(self, key: tuple[str, str]) -> dict[str, Any]:
        kind, ident = key
        if kind == "user":
            user = self.users.get(ident) or User(ident, "")
            return {
                "member_type": "user",
                "member_name": user.name,
                "member_en_name": user.en_name or user.name,
                "open_id": user.open_id,
                "union_id": user.union_id or "",
                "user_id": user.user_id or "",
            }
        if kind == "chat":
            chat = self.chats.get(ident, {"name": ""})
            return {
                "member_type": "chat",
                "member_name": chat["name"],
                "member_en_name": chat["name"],
                "chat_id": ident,
            }
        dept = self.departments.get(ident, {"name": "", "en_name": "", "department_id": ""})
        return {
            "member_type": "department",
            "member_name": dept["name"],
            "member_en_name": dept["en_name"],
            "department_id": dept["department_id"],
            "open_department_id": ident,
        }

    def _member_id_type(self, ctx: Ctx) -> str:
        value = ctx.query.get("member_id_type") or "open_id"
        if value not in MEMBER_ID_TYPES:
            raise field_violation(
                "member_id_type", value, "member_id_type must be one of " + ", ".join(MEMBER_ID_TYPES)
            )
        return value

    def _member_list_keys(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        items = self._bounded_list(body.get("member_list"), "member_list")
        if not items:
            raise FeishuError(1254001)
        keys = []
        for item in items:
            if not isinstance(item, dict):
                raise FeishuError(1254001)
            id_type = item.get("type") or "open_id"
            if id_type not in MEMBER_ID_TYPES:
                raise FeishuError(1254001)
            keys.append(self._member_key(id_type, item.get("id")))
        return list(dict.fromkeys(keys))

    def _add_members(self, role: dict[str, Any], keys: list[tuple[str, str]]) -> None:
        new = [k for k in keys if k not in role["members"]]  # adding a member twice changes nothing
        if len(role["members"]) + len(new) > self.max_members:
            raise FeishuError(1254111)
        role["members"].extend(new)

    async def _members_list(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        page, meta = self._paginate(ctx, [self._member_json(k) for k in role["members"]], 100)
        return {**meta, "items": page}

    async def _members_create(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        id_type = self._member_id_type(ctx)
        self._add_members(role, [self._member_key(id_type, self._body(ctx).get("member_id"))])
        return {}

    async def _members_batch_create(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        self._add_members(role, self._member_list_keys(self._body(ctx)))
        return {}

    async def _members_batch_delete(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        keys = self._member_list_keys(self._body(ctx))
        if any(k not in role["members"] for k in keys):
            raise FeishuError(1254048)  # nothing removed
        role["members"] = [k for k in role["members"] if k not in keys]
        return {}

    async def _members_delete(self, ctx: Ctx, app_token: str, role_id: str, member_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        key = self._member_key(self._member_id_type(ctx), member_id)
        if key not in role["members"]:
            raise FeishuError(1254048)
        role["members"].remove(key)
        return {}


# ---------------------------------------------------------------------------------------------
# The deprecated list's formula filter (A.4 记录筛选开发指南): CurrentValue.[字段] comparisons,
# .contains(), AND/OR/NOT, && / ||, TODAY(), TODATE(), DATE(), YEAR/MONTH/DAY, WEEKDAY.


@dataclass(frozen=True)
class Day:
    """A calendar day (days since 1970-01-01 in the emulator's time zone)."""

    n: int


class FormulaFilter:
    TOKEN = re.compile(
        r"\s*(?:(?P<num>\d+(?:\.\d+)?)|\"(?P<str>(?:[^\"\\]|\\.)*)\"|CurrentValue\.\[(?P<field>[^\]]*)\]"
        r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||==|!=|<>|>=|<=|[=<>+\-(),.]))"
    )

    def __init__(self, emu: FeishuEmulator, app: App, table: Table, text: str) -> None:
        self.emu, self.app, self.table = emu, app, table
        self.index = table.by_name()
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise FeishuError(1254018)
            kind = m.lastgroup or ""
            raw = m.group(kind)
            if kind == "str":
                raw = raw.replace('\\"', '"')
            self.tokens.append((kind, raw))
            pos = m.end()
        self.i = 0

    def compile(self) -> Callable[[Record], bool]:
        node = self._or()
        if self.i != len(self.tokens):
            raise FeishuError(1254018)
        return lambda r: self._truthy(node(r))

    # -- parser
    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (value is not None and tok[1] != value):
            raise FeishuError(1254018)
        self.i += 1
        return tok

    def _or(self) -> Callable[[Record], Any]:
        left = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            a, b = left, self._and()
            left = lambda r, a=a, b=b: self._truthy(a(r)) or self._truthy(b(r))  # noqa: E731
        return left

    def _and(self) -> Callable[[Record], Any]:
        left = self._cmp()
        while self._peek() == ("op", "&&"):
            self._take()
            a, b = left, self._cmp()
            left = lambda r, a=a, b=b: self._truthy(a(r)) and self._truthy(b(r))  # noqa: E731
        return left

    def _cmp(self) -> Callable[[Record], Any]:
        left = self._add()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "==", "!=", "<>", ">", ">=", "<", "<="):
            self._take()
            right = self._add()
            op = tok[1]
            return lambda r: self._compare(op, left(r), right(r))
        return left

    def _add(self) -> Callable[[Record], Any]:
        left = self._unary()
        while (tok := self._peek()) and tok[0] == "op" and tok[1] in ("+", "-"):
            self._take()
            a, b, sign = left, self._unary(), 1 if tok[1] == "+" else -1
            left = lambda r, a=a, b=b, sign=sign: self._arith(a(r), b(r), sign)  # noqa: E731
        return left

    def _unary(self) -> Callable[[Record], Any]:
        if self._peek() == ("op", "-"):
            self._take()
            inner = self._unary()
            return lambda r: -inner(r)
        return self._postfix()

    def _postfix(self) -> Callable[[Record], Any]:
        node = self._primary()
        while self._peek() == ("op", "."):
            self._take()
            kind, name = self._take()
            if kind != "ident" or name.lower() != "contains":
                raise FeishuError(1254018)
            args = self._args()
            if len(args) != 1:
                raise FeishuError(1254018)
            base, arg = node, args[0]
            node = lambda r, base=base, arg=arg: self._contains(base(r), arg(r))  # noqa: E731
        return node

    def _args(self) -> list[Callable[[Record], Any]]:
        self._take("(")
        args = []
        if self._peek() != ("op", ")"):
            args.append(self._or())
            while self._peek() == ("op", ","):
                self._take()
                args.append(self._or())
        self._take(")")
        return args

    def _primary(self) -> Callable[[Record], Any]:
        tok = self._peek()
        if tok is None:
            raise FeishuError(1254018)
        kind, raw = self._take()
        if kind == "num":
            number = float(raw)
            return lambda r: number
        if kind == "str":
            return lambda r: raw
        if kind == "field":
            f = self.index.get(raw)
            if f is None:
                raise FeishuError(1254045)
            return lambda r: self._field_value(f, r)
        if kind == "op" and raw == "(":
            node = self._or()
            self._take(")")
            return node
        if kind == "ident":
            name = raw.upper()
            if name in ("TRUE", "FALSE") and self._peek() != ("op", "("):
                return lambda r: name == "TRUE"
            args = self._args()
            return self._function(name, args)
        raise FeishuError(1254018)

    def _function(self, name: str, args: list[Callable[[Record], Any]]) -> Callable[[Record], Any]:
        emu = self.emu
        epoch = dt.date(1970, 1, 1)

        def to_date(value: Any) -> dt.date:
            if not isinstance(value, Day):
                raise FeishuError(1254018)
            return epoch + dt.timedelta(days=value.n)

        if name == "AND":
            return lambda r: all(self._truthy(a(r)) for a in args)
        if name == "OR":
            return lambda r: any(self._truthy(a(r)) for a in args)
        if name == "NOT" and len(args) == 1:
            return lambda r: not self._truthy(args[0](r))
        if name in ("TRUE", "FALSE") and not args:
            return lambda r: name == "TRUE"
        if name == "TODAY" and not args:
            return lambda r: Day(emu._today())
        if name == "TODATE" and len(args) == 1:

            def todate(r: Record) -> Day:
                text = str(args[0](r))
                try:
                    parsed = dt.date.fromisoformat(text.replace("/", "-"))
                except ValueError:
                    y, m, d = (int(p) for p in re.split(r"[-/]", text))  # "2021-06-31" style
                    parsed = dt.date(y, m, 1) + dt.timedelta(days=d - 1)
                return Day((parsed - epoch).days)

            return todate
        if name == "DATE" and len(args) == 3:

            def make(r: Record) -> Day:
                y, m, d = (int(a(r)) for a in args)
                y += (m - 1) // 12
                m = (m - 1) % 12 + 1
                return Day((dt.date(y, m, 1) - epoch).days + d - 1)

            return make
        if name in ("YEAR", "MONTH", "DAY") and len(args) == 1:
            attr = {"YEAR": "year", "MONTH": "month", "DAY": "day"}[name]
            return lambda r: float(getattr(to_date(args[0](r)), attr))
        if name == "WEEKDAY" and len(args) in (1, 2):

            def weekday(r: Record) -> float:
                day = to_date(args[0](r))
                mode = int(args[1](r)) if len(args) == 2 else 1
                return float(day.isoweekday() if mode == 2 else day.isoweekday() % 7 + 1)

            return weekday
        raise FeishuError(1254018)

    # -- evaluation
    def _field_value(self, f: Field, r: Record) -> Any:
        emu, table = self.emu, self.table
        stored = emu._value(table, f, r)
        kind = emu._kind(f)
        if kind == "number":
            return stored
        if kind == "date":
            return None if stored is None else Day(emu._day(stored))
        if kind == "checkbox":
            return bool(stored)
        if kind in ("set", "attachment"):
            if not stored:
                return []
            return [p for p in emu._display(self.app, table, f, stored, r).split(",") if p]
        return "" if stored is None else emu._display(self.app, table, f, stored, r)

    @staticmethod
    def _truthy(value: Any) -> bool:
        if isinstance(value, list):
            return bool(value)
        return bool(value) and value != ""

    @staticmethod
    def _arith(a: Any, b: Any, sign: int) -> Any:
        if isinstance(a, Day) and isinstance(b, (int, float)):
            return Day(a.n + sign * int(b))
        if isinstance(a, Day) and isinstance(b, Day) and sign < 0:
            return float(a.n - b.n)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a + sign * b
        raise FeishuError(1254018)

    @staticmethod
    def _contains(base: Any, needle: Any) -> bool:
        needle = str(needle).lower() if not isinstance(needle, float) else FeishuEmulator._number_text(needle)
        if isinstance(base, list):
            return any(needle in str(x).lower() for x in base)
        if base is None:
            return False
        return needle in str(base).lower()

    @staticmethod
    def _compare(op: str, a: Any, b: Any) -> bool:
        if op in ("==",):
            op = "="
        if op == "<>":
            op = "!="
        if isinstance(a, list):
            hit = (
                (not a)
                if b == ""
                else str(b if not isinstance(b, float) else FeishuEmulator._number_text(b)) in a
            )
            return hit if op == "=" else (not hit if op == "!=" else False)
        if isinstance(a, bool) and isinstance(b, (int, float)) and not isinstance(b, bool):
            b = bool(b)
        if a is None or a == "":
            empty_b = b is None or b == ""
            if op == "=":
                return empty_b
            if op == "!=":
                return not empty_b
            return False
        if isinstance(a, Day) and isinstance(b, Day):
            a, b = a.n, b.n
        elif isinstance(a, (int, float)) and isinstance(b, str):
            try:
                b = float(b)
            except ValueError:
                return op == "!="
        elif isinstance(a, str) and isinstance(b, float):
            b = FeishuEmulator._number_text(b)
        if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return op == "!="
        try:
            return {
                "=": a == b,
                "!=": a != b,
                ">": a > b,
                ">=": a >= b,
                "<": a < b,
                "<=": a <= b,
            }[op]
        except TypeError:
            return False
