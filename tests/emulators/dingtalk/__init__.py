"""In-process emulator of the DingTalk AI Table (Notable) open API v1.0, plus the two legacy ``oapi``
endpoints used to turn a userId into the unionId that every notable call needs as ``operatorId``.

Sources: /work/shared/reference/dingtalk-notable-insert-records.txt and docs/reference/dingtalk-notable-list-records.txt
(the provider's own pages: paths, params, caps, error tables), docs/reference/dingtalk-ai-table-skill.txt (breath57
skill, [3P]) and docs/provider-api-notes.md section 1 ([SDK]/[DOC] unless tagged [3P]/[INF] there or below).

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

Layout: one module per section (errors, state, auth, values, tables, fields, search, records); ``emulator.DingTalkEmulator`` composes their
mixins with the ids, routing and dispatch. A new feature goes in a new module whose mixin joins
``DingTalkEmulator``'s bases (its routes registered in ``emulator``).
"""

from .emulator import DingTalkEmulator

__all__ = ["DingTalkEmulator"]
