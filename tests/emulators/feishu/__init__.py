"""In-process emulator of the Feishu / Lark Bitable v1 open API (records, tables, fields, views, and
the base administration: app metadata, dashboards, forms, custom roles and their members).

Sources: /work/shared/reference/feishu-bitable-v1-reference.txt ("ref", section numbers A.n) and
docs/provider-api-notes.md section 2 ("notes"; records/search, batch_get and the token endpoint are only
documented there).

Emulated
--------
* ``POST /open-apis/auth/v3/tenant_access_token/internal`` -> ``{code, msg, tenant_access_token, expire}``
  (no ``data`` envelope, docs/provider-api-notes.md §2.1). A token lives ``token_ttl`` (7200) s. Asking again with >= 30 min
  left returns the same token (``expire`` = seconds left); with < 30 min left a new token is issued and
  the old one stays valid until its own expiry (ref A.2 "3.鉴权"). Wrong credentials -> code 10014.
* Every bitable call needs ``Authorization: Bearer <token>``: missing -> 99991661, unknown or expired ->
  99991663 (docs/provider-api-notes.md §2.2).
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
* Drive media (``drive.py``, attachments): upload_all (at most 20 MB), upload_prepare/part/finish
  (4 MB blocks), ranged download; 5 requests/s (docs/provider-api-notes.md §2.7).
* User sign-in (``oauth.py``, switched on by ``FeishuOAuth(emu)``): the authorize page, the OAuth
  token endpoint with PKCE, single-use refresh tokens, user access tokens and per-user bases.
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
* records/search and GET records: ``page_size`` max 500 (docs/provider-api-notes.md §2.5; A.30 text "单次最多列出 500 行");
  tables/fields/views lists: max 100 (A.13). Default page size 20.
* batch_create / batch_update / batch_delete: 500 records per call -> 1254104
  RecordAddOnceExceedLimit. The reference pages A.34/A.35 say "单次调用最多新增/更新 500 条" and A.2
  "单次最高 500 条"; the newer docs quoted in the notes say 1,000 for create/update. We follow the
  reference (500); ``batch_limit`` changes it.
* batch_get: 100 record ids (docs/provider-api-notes.md §2.5) -> 1254104 (no page documents another code).
* 20,000 records per table -> 1254103 RecordExceedLimit; 100 tables per app (A.2; the error text of
  1254100 says 300, the newer docs say 100) -> 1254100; 150 fields per table (A.2) -> 1254105;
  200 views per table -> 1254101.
* Rate limits per endpoint per developer app (sliding 1 s window): records/search 20/s and
  records/batch_create 50/s (docs/provider-api-notes.md §2.2 [DOC]); other record writes and batch_get 50/s, record
  list/get 20/s (docs/provider-api-notes.md §2.2 [3P]); tables/fields/views use the QPS printed on their reference page
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
  ``[{"text", "type": "text"}]`` (docs/provider-api-notes.md §2.6), numbers as numbers, links as
  ``{"link_record_ids": [...]}`` (docs/provider-api-notes.md §2.6). Deprecated GET records (A.30) and GET records/:id
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
* Filter semantics (docs/provider-api-notes.md §2.5, operators per type as in the record filter guide): text ``is`` is an
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

Layout: one module per section (errors, state, auth, values, render, formula, tables, fields, views, search, records, admin, roles); ``emulator.FeishuEmulator`` composes their
mixins with the ids, routing and dispatch. A new feature goes in a new module whose mixin joins
``FeishuEmulator``'s bases (its routes registered in ``emulator``).
"""

from .emulator import Ctx, FeishuEmulator, RouteSpec
from .errors import FeishuError
from .state import DEFAULT_RATE_LIMITS

__all__ = ["DEFAULT_RATE_LIMITS", "Ctx", "FeishuEmulator", "FeishuError", "RouteSpec"]
