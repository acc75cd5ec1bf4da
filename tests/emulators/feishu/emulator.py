"""Feishu emulator: the FeishuEmulator class (its parts are the mixins of this package), ids, envelopes, routing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from ..base import Clock, EmulatorBase, LostResponse, json_response
from .admin import AdminMixin
from .auth import AuthMixin
from .errors import CLASSIC_STATUS, GROUP_STATUS, STATUS_PROFILES, FeishuError, field_violation, v2_status
from .fields import FieldsMixin
from .records import RecordsMixin
from .render import RenderMixin
from .roles import RolesMixin
from .search import SearchMixin
from .state import _COMPACT, DEFAULT_RATE_LIMITS, PREFIX, TOKEN_PATH, UUID_RE, App, SeedingMixin, Table, User
from .tables import TablesMixin
from .values import ValuesMixin
from .views import ViewsMixin


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


class FeishuEmulator(
    SeedingMixin,
    AuthMixin,
    TablesMixin,
    FieldsMixin,
    ViewsMixin,
    ValuesMixin,
    RenderMixin,
    SearchMixin,
    RecordsMixin,
    AdminMixin,
    RolesMixin,
    EmulatorBase,
):
    """Fake Feishu/Lark Bitable v1 server. See the package docstring (__init__.py) for what is emulated."""

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
        self.idempotency: dict[tuple[str, str], tuple[Any, str]] = {}  # (app_id, token) -> (fp, data JSON)
        self._rng = random.Random(seed)
        self._ids: set[str] = set()
        self._id_chars = ""
        self._id_pos = 0
        self._logid = 0
        self._transient = 0
        self.specs: dict[str, RouteSpec] = {}
        self.oauth: Any = None  # user sign-in (oauth.py), set by FeishuOAuth(emu)
        self._routes()
        from .drive import FeishuDrive  # attachments: drive media upload and download

        self.drive = FeishuDrive(self)
        self.drive.install()

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
        if self.oauth is not None and (answer := await self.oauth.dispatch(request)) is not None:
            return answer
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
            if self.oauth is not None:
                self.oauth.check_access(request, params)
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
        content = ctx.request.content
        fingerprint = (meta, hashlib.sha256(content).hexdigest(), content)
        key = (ctx.app_id, token.lower())
        stored = self.idempotency.get(key)
        if stored is None:
            return key, fingerprint, None
        (old_meta, old_digest, old_content), data = stored
        same = old_meta == meta and (
            old_digest == fingerprint[1]
            or json.dumps(json.loads(old_content), sort_keys=True) == json.dumps(body, sort_keys=True)
        )
        if not same:
            raise FeishuError(1255006)
        return key, fingerprint, json.loads(data)

    def _idem_store(self, key: tuple[str, str] | None, fingerprint: Any, data: Any) -> None:
        if key is not None:
            # Kept as JSON text (the request's bytes, the answer's JSON), not as objects: a bulk
            # import leaves 20,000 answers here, which the garbage collector would walk again and
            # again as live objects; text it never looks into.
            self.idempotency[key] = (fingerprint, _COMPACT.encode(data))
