"""The Feishu/Lark Bitable v1 HTTP client: one small method per endpoint, one call path.

Every request goes through :meth:`FeishuApi.call`: ``ApiClient`` (rate limit per endpoint,
retries by error kind), the tenant_access_token (cached, renewed before expiry and on an invalid-
token answer), and ``errors.check`` (the one place answers become data or errors). Writes to one
table go one at a time (Feishu answers overlapping writes with 1254291 Write conflict); writes to
different tables may overlap. Every record/field write carries a ``client_token`` made once per
logical write, so a retry after a lost answer is answered from Feishu's idempotency record and never
applied twice; writes that have no client_token (deletes, table and view creation) are reconciled
by reading back instead of being repeated blindly.

To add an endpoint: add a rate to ``RATES`` and a method that calls ``self.call(...)``; paths are
relative to ``/open-apis/bitable/v1``. The base-administration endpoints (app metadata, dashboards,
views, forms, custom roles and their members, A.10-A.49) have no client_token: a write whose answer
is lost is reconciled by reading back (the change is there, or it is sent again), never repeated
blindly.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from anytable.errors import ProviderError
from anytable.providers.http import NOT_APPLIED, ApiClient
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy
from anytable.providers.tokens import TokenCache

from . import errors
from .errors import Where
from .identity import UserIdentity

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
API = "/open-apis/bitable/v1"
LIST_PAGE = 100  # tables, fields, views, form questions, role members (A.13, A.22, A.28, A.37, A.47)
ROLE_PAGE = 30  # custom roles (A.41: page_size max 30)
SEARCH_PAGE = 500  # records/search (docs/provider-api-notes.md §2.5)
BATCH = 500  # batch_create / batch_update / batch_delete (A.2, A.34, A.35)
GET_BATCH = 100  # batch_get (docs/provider-api-notes.md §2.5)

# Requests per second per endpoint (per app and tenant). records/search and batch_create: notes §2.2
# [DOC]; the other record endpoints: notes §2.2 [3P]; tables, fields, views: the QPS printed on their
# reference pages (A.12-A.24, A.37-A.40).
RATES: dict[str, float] = {
    "records.search": 20,
    "medias.upload_all": 5,  # drive media upload (docs/provider-api-notes.md §2.7: about 5 requests/s)
    "medias.upload_prepare": 5,
    "medias.upload_part": 5,
    "medias.upload_finish": 5,
    "medias.download": 5,
    "records.batch_create": 50,
    "records.batch_update": 50,
    "records.batch_delete": 50,
    "records.batch_get": 50,
    "records.get": 20,
    "tables.list": 20,
    "tables.create": 10,
    "tables.patch": 10,
    "tables.delete": 10,
    "fields.list": 20,
    "fields.create": 10,
    "fields.update": 10,
    "fields.delete": 10,
    "views.list": 20,
    "views.create": 10,
    "views.delete": 10,
    # Base administration: the QPS printed on A.10, A.11, A.19, A.25-A.28; views get/patch like the
    # other view endpoints. Copying dashboards, roles and members print none: 20/s for their lists and
    # 10/s for their writes, like the lists and writes that do [INF].
    "apps.get": 20,
    "apps.update": 10,
    "dashboards.list": 20,
    "dashboards.copy": 10,
    "views.get": 20,
    "views.patch": 10,
    "forms.get": 20,
    "forms.patch": 10,
    "form_fields.list": 20,
    "form_fields.patch": 10,
    "roles.list": 20,
    "roles.create": 10,
    "roles.update": 10,
    "roles.delete": 10,
    "members.list": 20,
    "members.create": 10,
    "members.batch_create": 10,
    "members.delete": 10,
    "members.batch_delete": 10,
}
MEMBER_BATCH = 100  # member_list of batch_create / batch_delete (A.45, A.46: 最大长度 100)

Reconcile = Callable[[], Awaitable[Any]]


class FeishuApi:
    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        base_url: str,
        user_id_type: str = "open_id",
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        rates: dict[str, float] | None = None,
        clock: Callable[[], float] = time.time,
        identity: UserIdentity | None = None,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.base_url = base_url
        self.user_id_type = user_id_type
        self.http = ApiClient(
            provider="feishu",
            base_url=base_url,
            transport=transport,
            limiter=RateLimiter(rates if rates is not None else RATES),
            retry=retry,
        )
        self.identity = identity  # FEISHU_AUTH: None or tenant -> the tenant token
        self.tokens = TokenCache(self._fetch_any_token, clock=clock)
        self._locks: dict[tuple[str, str], anyio.Lock] = {}
        self.table_names: dict[tuple[str, str], str] = {}  # (app, table_id) -> name, for messages

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.identity is not None:
            await self.identity.oauth.aclose()

    # ------------------------------------------------------------------------- plumbing
    async def _fetch_any_token(self) -> tuple[str, float]:
        """The signed-in user's token when FEISHU_AUTH says to act as the user, else the app's."""
        if self.identity is not None:
            user = await self.identity.token()
            if user is not None:
                return user
        return await self._fetch_token()

    async def _fetch_token(self) -> tuple[str, float]:
        def parse(response: httpx.Response) -> tuple[str, float]:
            body = errors.check(response, Where())
            token = body.get("tenant_access_token")
            if not isinstance(token, str) or not token:
                raise ProviderError(
                    "Feishu's token endpoint answered without a tenant_access_token; check FEISHU_DOMAIN.",
                    provider="feishu",
                )
            expire = body.get("expire")
            return token, float(expire) if isinstance(expire, int | float) and expire > 0 else 7200.0

        result: tuple[str, float] = await self.http.call(
            "POST",
            TOKEN_PATH,
            api="auth.tenant_access_token",
            json={"app_id": self.app_id, "app_secret": self._secret},
            parse=parse,
        )
        return result

    def where(self, app: str, table_id: str | None = None, **more: str | None) -> Where:
        """The context of a call for its error messages (a table by name where we know it)."""
        label = table_id
        if table_id is not None and (app, table_id) in self.table_names:
            label = f"{self.table_names[(app, table_id)]} ({table_id})"
        as_user = self.identity is not None and self.identity.in_use == "user"
        return Where(base=app, table=label, user_id_type=self.user_id_type, as_user=as_user, **more)  # type: ignore[arg-type]

    def lock(self, app: str, table: str) -> anyio.Lock:
        """The lock every write to one table holds (Feishu takes one write at a time per table)."""
        return self._locks.setdefault((app, table), anyio.Lock())

    async def call(
        self,
        method: str,
        path: str,
        *,
        api: str,
        where: Where,
        params: dict[str, Any] | None = None,
        json: Any = None,
        write_to: tuple[str, str] | None = None,
        idempotent: bool = True,
        reconcile: Reconcile | None = None,
        bare: bool = False,
        prefix: str = API,
        data: dict[str, Any] | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        binary: bool = False,
    ) -> Any:
        """One logical request; the ``data`` of Feishu's answer. ``write_to`` (app, table) serialises
        the call with every other write to that table. ``bare``: the page documents a successful
        answer without the ``{code, msg, data}`` envelope (A.18), so accept that form too."""
        used: dict[str, str] = {}

        async def auth() -> dict[str, str]:
            token = await self.tokens.get()
            used["token"] = token
            return {"Authorization": f"Bearer {token}"}

        async def renew() -> None:
            if self.identity is not None:
                self.identity.reject(used.get("token"))  # a user token: refreshed on the next fetch
            self.tokens.invalidate(used.get("token"))

        def parse(response: httpx.Response) -> Any:
            if (
                binary
                and response.status_code in (200, 206)
                and "json" not in response.headers.get("content-type", "")
            ):
                return response.content  # a file's bytes (drive media download)
            body = errors.check(response, where, bare=bare).get("data")
            return body if isinstance(body, dict) else {}

        send_headers = dict(headers or {})
        if json is not None:
            send_headers["Content-Type"] = "application/json; charset=utf-8"

        async def send() -> Any:
            return await self.http.call(
                method,
                prefix + path,
                api=api,
                params=params,
                json=json,
                data=data,
                files=files,
                parse=parse,
                auth=auth,
                on_auth_error=renew,
                idempotent=idempotent,
                reconcile=reconcile,
                headers=send_headers or None,
            )

        if write_to is None:
            return await send()
        async with self.lock(*write_to):
            return await send()

    async def pages(
        self,
        path: str,
        *,
        api: str,
        where: Where,
        params: dict[str, Any] | None = None,
        page_size: int = LIST_PAGE,
        key: str = "items",
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a paged GET list (tables, fields, views, roles...): ``data[key]``."""
        token: str | None = None
        while True:
            query = {**(params or {}), "page_size": page_size}
            if token:
                query["page_token"] = token
            data = await self.call("GET", path, api=api, where=where, params=query)
            for item in data.get(key) or []:
                if isinstance(item, dict):
                    yield item
            token = data.get("page_token") if data.get("has_more") else None
            if not token:
                return

    @staticmethod
    def client_token() -> str:
        """A fresh idempotency key for one logical write (re-sent unchanged on every retry)."""
        return str(uuid.uuid4())

    # ------------------------------------------------------------------------- tables
    async def list_tables(self, app: str) -> list[dict[str, Any]]:
        where = self.where(app)
        return [t async for t in self.pages(f"/apps/{app}/tables", api="tables.list", where=where)]

    async def create_table(self, app: str, table: dict[str, Any]) -> dict[str, Any]:
        name = table.get("name")

        async def reconcile() -> Any:  # no client_token on this endpoint: look before repeating
            for item in await self.list_tables(app):
                if item.get("name") == name:
                    return {"table_id": item.get("table_id")}
            return NOT_APPLIED

        return await self.call(
            "POST",
            f"/apps/{app}/tables",
            api="tables.create",
            where=self.where(app, name),
            json={"table": table},
            idempotent=False,
            reconcile=reconcile,
        )

    async def rename_table(self, app: str, table_id: str, name: str) -> dict[str, Any]:
        # Setting the same name twice changes nothing: safe to repeat.
        return await self.call(
            "PATCH",
            f"/apps/{app}/tables/{table_id}",
            api="tables.patch",
            where=self.where(app, table_id),
            json={"name": name},
            write_to=(app, table_id),
        )

    async def delete_table(self, app: str, table_id: str) -> dict[str, Any]:
        async def reconcile() -> Any:
            present = any(t.get("table_id") == table_id for t in await self.list_tables(app))
            return NOT_APPLIED if present else {}

        return await self.call(
            "DELETE",
            f"/apps/{app}/tables/{table_id}",
            api="tables.delete",
            where=self.where(app, table_id),
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- fields
    async def list_fields(self, app: str, table_id: str) -> list[dict[str, Any]]:
        where = self.where(app, table_id)
        path = f"/apps/{app}/tables/{table_id}/fields"
        return [f async for f in self.pages(path, api="fields.list", where=where)]

    async def create_field(self, app: str, table_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/fields",
            api="fields.create",
            where=self.where(app, table_id, field=body.get("field_name")),
            params={"client_token": self.client_token()},
            json=body,
            write_to=(app, table_id),
        )

    async def update_field(
        self, app: str, table_id: str, field_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.call(
            "PUT",
            f"/apps/{app}/tables/{table_id}/fields/{field_id}",
            api="fields.update",
            where=self.where(app, table_id, field=field_id),
            params={"client_token": self.client_token()},
            json=body,
            write_to=(app, table_id),
        )

    async def delete_field(self, app: str, table_id: str, field_id: str) -> dict[str, Any]:
        async def reconcile() -> Any:
            present = any(f.get("field_id") == field_id for f in await self.list_fields(app, table_id))
            return NOT_APPLIED if present else {"field_id": field_id, "deleted": True}

        return await self.call(
            "DELETE",
            f"/apps/{app}/tables/{table_id}/fields/{field_id}",
            api="fields.delete",
            where=self.where(app, table_id, field=field_id),
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- views
    async def list_views(self, app: str, table_id: str) -> list[dict[str, Any]]:
        where = self.where(app, table_id)
        path = f"/apps/{app}/tables/{table_id}/views"
        return [v async for v in self.pages(path, api="views.list", where=where)]

    async def create_view(self, app: str, table_id: str, name: str, view_type: str) -> dict[str, Any]:
        async def reconcile() -> Any:
            for view in await self.list_views(app, table_id):
                if view.get("view_name") == name:
                    return {"view": view}
            return NOT_APPLIED

        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/views",
            api="views.create",
            where=self.where(app, table_id, view=name),
            json={"view_name": name, "view_type": view_type},
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )

    async def delete_view(self, app: str, table_id: str, view_id: str) -> dict[str, Any]:
        async def reconcile() -> Any:
            present = any(v.get("view_id") == view_id for v in await self.list_views(app, table_id))
            return NOT_APPLIED if present else {}

        return await self.call(
            "DELETE",
            f"/apps/{app}/tables/{table_id}/views/{view_id}",
            api="views.delete",
            where=self.where(app, table_id, view=view_id),
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- records
    async def search_records(
        self,
        app: str,
        table_id: str,
        body: dict[str, Any],
        *,
        page_size: int,
        page_token: str | None,
        where: Where | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"page_size": page_size, "user_id_type": self.user_id_type}
        if page_token:
            params["page_token"] = page_token
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/search",
            api="records.search",
            where=where or self.where(app, table_id),
            params=params,
            json=body,
        )

    async def batch_get(self, app: str, table_id: str, record_ids: list[str]) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/batch_get",
            api="records.batch_get",
            where=self.where(app, table_id),
            json={"record_ids": record_ids, "user_id_type": self.user_id_type, "automatic_fields": False},
        )

    async def get_record(self, app: str, table_id: str, record_id: str) -> dict[str, Any]:
        """One record (A.29), for deployments without batch_get."""
        return await self.call(
            "GET",
            f"/apps/{app}/tables/{table_id}/records/{record_id}",
            api="records.get",
            where=self.where(app, table_id),
            params={"user_id_type": self.user_id_type},
        )

    async def batch_create(self, app: str, table_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/batch_create",
            api="records.batch_create",
            where=self.where(app, table_id),
            params={"user_id_type": self.user_id_type, "client_token": self.client_token()},
            json={"records": records},
            write_to=(app, table_id),
        )

    async def batch_update(self, app: str, table_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/batch_update",
            api="records.batch_update",
            where=self.where(app, table_id),
            params={"user_id_type": self.user_id_type, "client_token": self.client_token()},
            json={"records": records},
            write_to=(app, table_id),
        )

    async def batch_delete(self, app: str, table_id: str, record_ids: list[str]) -> dict[str, Any]:
        async def reconcile() -> Any:
            # No client_token here: after a lost answer, look at which records are still there.
            # Batch writes are all or nothing (A.2), so "none left" means the delete ran.
            for start in range(0, len(record_ids), GET_BATCH):
                data = await self.batch_get(app, table_id, record_ids[start : start + GET_BATCH])
                if data.get("records"):
                    return NOT_APPLIED
            return {"records": [{"deleted": True, "record_id": rid} for rid in record_ids]}

        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/batch_delete",
            api="records.batch_delete",
            where=self.where(app, table_id),
            json={"records": record_ids},
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- app metadata
    async def get_app(self, app: str) -> dict[str, Any]:
        """A.10: ``{app_token, name, revision, is_advanced}``."""
        data = await self.call("GET", f"/apps/{app}", api="apps.get", where=self.where(app))
        return data.get("app") or {}

    async def update_app(self, app: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.11 (name and/or is_advanced; not atomic: the name changes first)."""

        async def reconcile() -> Any:
            current = await self.get_app(app)
            return {"app": current} if holds(body, current) else NOT_APPLIED

        data = await self.call(
            "PUT",
            f"/apps/{app}",
            api="apps.update",
            where=self.where(app),
            json=body,
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("app") or {}

    # ------------------------------------------------------------------------- dashboards
    async def list_dashboards(self, app: str) -> list[dict[str, Any]]:
        """A.19: ``[{block_id, name}]``."""
        path = f"/apps/{app}/dashboards"
        return [
            d async for d in self.pages(path, api="dashboards.list", where=self.where(app), key="dashboards")
        ]

    async def copy_dashboard(self, app: str, block_id: str, name: str) -> dict[str, Any]:
        """A.18: ``{block_id, name}`` of the copy (dashboard names are unique: 1254039)."""

        async def reconcile() -> Any:
            found = [d for d in await self.list_dashboards(app) if d.get("name") == name]
            return found[0] if found else NOT_APPLIED

        return await self.call(
            "POST",
            f"/apps/{app}/dashboards/{block_id}/copy",
            api="dashboards.copy",
            where=self.where(app),
            json={"name": name},
            idempotent=False,
            reconcile=reconcile,
            bare=True,
        )

    # ------------------------------------------------------------------------- one view
    async def get_view(self, app: str, table_id: str, view_id: str) -> dict[str, Any]:
        """A.21: ``{view_id, view_name, view_type, property: {filter_info, hidden_fields}}``."""
        path = f"/apps/{app}/tables/{table_id}/views/{view_id}"
        data = await self.call("GET", path, api="views.get", where=self.where(app, table_id, view=view_id))
        return data.get("view") or {}

    async def update_view(
        self, app: str, table_id: str, view_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.20 (view_name, property.filter_info, property.hidden_fields)."""

        async def reconcile() -> Any:
            current = await self.get_view(app, table_id, view_id)
            return {"view": current} if view_holds(body, current) else NOT_APPLIED

        data = await self.call(
            "PATCH",
            f"/apps/{app}/tables/{table_id}/views/{view_id}",
            api="views.patch",
            where=self.where(app, table_id, view=view_id),
            json=body,
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("view") or {}

    # ------------------------------------------------------------------------- forms
    async def get_form(self, app: str, table_id: str, form_id: str) -> dict[str, Any]:
        """A.26: ``{name, description, shared, shared_url, shared_limit, submit_limit_once}``."""
        path = f"/apps/{app}/tables/{table_id}/forms/{form_id}"
        data = await self.call("GET", path, api="forms.get", where=self.where(app, table_id, view=form_id))
        return data.get("form") or {}

    async def update_form(
        self, app: str, table_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.25 (only the keys given change)."""

        async def reconcile() -> Any:
            current = await self.get_form(app, table_id, form_id)
            return {"form": current} if holds(body, current) else NOT_APPLIED

        data = await self.call(
            "PATCH",
            f"/apps/{app}/tables/{table_id}/forms/{form_id}",
            api="forms.patch",
            where=self.where(app, table_id, view=form_id),
            json=body,
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("form") or {}

    async def list_form_fields(self, app: str, table_id: str, form_id: str) -> list[dict[str, Any]]:
        """A.28: ``[{field_id, title, description, required, visible}]`` in question order."""
        path = f"/apps/{app}/tables/{table_id}/forms/{form_id}/fields"
        where = self.where(app, table_id, view=form_id)
        return [q async for q in self.pages(path, api="form_fields.list", where=where)]

    async def update_form_field(
        self, app: str, table_id: str, form_id: str, field_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.27 (pre_field_id moves the question after another one; "" makes it the first)."""

        async def reconcile() -> Any:
            questions = await self.list_form_fields(app, table_id, form_id)
            ids = [q.get("field_id") for q in questions]
            if field_id not in ids:
                return NOT_APPLIED
            at = ids.index(field_id)
            question = questions[at]
            if not holds({k: v for k, v in body.items() if k != "pre_field_id"}, question):
                return NOT_APPLIED
            if "pre_field_id" in body and (ids[at - 1] if at else "") != body["pre_field_id"]:
                return NOT_APPLIED
            return {"field": {**question, "pre_field_id": ids[at - 1] if at else ""}}

        data = await self.call(
            "PATCH",
            f"/apps/{app}/tables/{table_id}/forms/{form_id}/fields/{field_id}",
            api="form_fields.patch",
            where=self.where(app, table_id, view=form_id, field=field_id),
            json=body,
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("field") or {}

    # ------------------------------------------------------------------------- custom roles
    async def list_roles(self, app: str) -> list[dict[str, Any]]:
        """A.41: every custom role (page_size at most 30)."""
        path = f"/apps/{app}/roles"
        return [
            r async for r in self.pages(path, api="roles.list", where=self.where(app), page_size=ROLE_PAGE)
        ]

    async def create_role(self, app: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.42; the role with its role_id (role names are unique: 1254033)."""
        name = body.get("role_name")

        async def find() -> Any:
            found = [r for r in await self.list_roles(app) if r.get("role_name") == name]
            return {"role": found[0]} if found else NOT_APPLIED

        data = await self.call(
            "POST",
            f"/apps/{app}/roles",
            api="roles.create",
            where=self.where(app, role=name),
            json=body,
            idempotent=False,
            reconcile=find,
        )
        role = data.get("role")
        if isinstance(role, dict) and role.get("role_id"):
            return role
        found = await find()  # A.42 documents no answer body: look the new role up
        if found is NOT_APPLIED:
            raise ProviderError(
                f"Feishu accepted the new role {name!r} but does not list it; check the roles before trying again.",
                provider="feishu",
            )
        return dict(found["role"])

    async def update_role(self, app: str, role_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.44: a full replacement of the role's settings."""

        async def reconcile() -> Any:
            found = [r for r in await self.list_roles(app) if r.get("role_id") == role_id]
            if found and role_settings(found[0]) == role_settings(body):
                return {"role": found[0]}
            return NOT_APPLIED

        data = await self.call(
            "PUT",
            f"/apps/{app}/roles/{role_id}",
            api="roles.update",
            where=self.where(app, role=role_id),
            json=body,
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("role") or {}

    async def delete_role(self, app: str, role_id: str) -> dict[str, Any]:
        """A.43."""

        async def reconcile() -> Any:
            present = any(r.get("role_id") == role_id for r in await self.list_roles(app))
            return NOT_APPLIED if present else {}

        return await self.call(
            "DELETE",
            f"/apps/{app}/roles/{role_id}",
            api="roles.delete",
            where=self.where(app, role=role_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- role members
    async def list_members(self, app: str, role_id: str) -> list[dict[str, Any]]:
        """A.47: ``[{member_type, member_name, member_en_name, open_id, union_id, user_id, chat_id,
        department_id, open_department_id}]`` (the ids that apply to the member's type)."""
        path = f"/apps/{app}/roles/{role_id}/members"
        return [m async for m in self.pages(path, api="members.list", where=self.where(app, role=role_id))]

    async def _members_reconcile(
        self, app: str, role_id: str, members: list[dict[str, str]], present: bool
    ) -> Any:
        items = await self.list_members(app, role_id)
        done = all(is_member(m, items) == present for m in members)
        return {} if done else NOT_APPLIED

    async def add_member(self, app: str, role_id: str, member: dict[str, str]) -> dict[str, Any]:
        """A.48: one member ``{"type": <member id type>, "id": ...}``."""

        async def reconcile() -> Any:
            return await self._members_reconcile(app, role_id, [member], True)

        return await self.call(
            "POST",
            f"/apps/{app}/roles/{role_id}/members",
            api="members.create",
            where=self.where(app, role=role_id),
            params={"member_id_type": member["type"]},
            json={"member_id": member["id"]},
            idempotent=False,
            reconcile=reconcile,
        )

    async def add_members(self, app: str, role_id: str, members: list[dict[str, str]]) -> dict[str, Any]:
        """A.46: at most ``MEMBER_BATCH`` members ``[{"type", "id"}]``."""

        async def reconcile() -> Any:
            return await self._members_reconcile(app, role_id, members, True)

        return await self.call(
            "POST",
            f"/apps/{app}/roles/{role_id}/members/batch_create",
            api="members.batch_create",
            where=self.where(app, role=role_id),
            json={"member_list": members},
            idempotent=False,
            reconcile=reconcile,
        )

    async def remove_member(self, app: str, role_id: str, member: dict[str, str]) -> dict[str, Any]:
        """A.49."""

        async def reconcile() -> Any:
            return await self._members_reconcile(app, role_id, [member], False)

        return await self.call(
            "DELETE",
            f"/apps/{app}/roles/{role_id}/members/{quote(member['id'], safe='')}",
            api="members.delete",
            where=self.where(app, role=role_id),
            params={"member_id_type": member["type"]},
            idempotent=False,
            reconcile=reconcile,
        )

    async def remove_members(self, app: str, role_id: str, members: list[dict[str, str]]) -> dict[str, Any]:
        """A.45: at most ``MEMBER_BATCH`` members."""

        async def reconcile() -> Any:
            return await self._members_reconcile(app, role_id, members, False)

        return await self.call(
            "POST",
            f"/apps/{app}/roles/{role_id}/members/batch_delete",
            api="members.batch_delete",
            where=self.where(app, role=role_id),
            json={"member_list": members},
            idempotent=False,
            reconcile=reconcile,
        )


# ----------------------------------------------------------------------------- reading back
def holds(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether every key of a flat update is already as asked."""
    return all(current.get(key) == value for key, value in wanted.items())


def is_member(member: dict[str, str], items: list[dict[str, Any]]) -> bool:
    """Whether ``{"type", "id"}`` is among the members A.47 listed."""
    return any(item.get(member["type"]) == member["id"] for item in items)


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _filter_key(info: Any) -> Any:
    if not isinstance(info, dict) or not info.get("conditions"):
        return None
    conditions = sorted(
        json.dumps([c.get("field_id"), c.get("operator"), _json_value(c.get("value"))], sort_keys=True)
        for c in info["conditions"]
        if isinstance(c, dict)
    )
    return info.get("conjunction") or "and", conditions


def view_holds(body: dict[str, Any], view: dict[str, Any]) -> bool:
    """Whether a view (A.21) already is as an update body (A.20) asks."""
    if "view_name" in body and view.get("view_name") != body["view_name"]:
        return False
    wanted = body.get("property") or {}
    current = view.get("property") or {}
    if "hidden_fields" in wanted and set(wanted["hidden_fields"] or []) != set(
        current.get("hidden_fields") or []
    ):
        return False
    return "filter_info" not in wanted or _filter_key(wanted["filter_info"]) == _filter_key(
        current.get("filter_info")
    )


def role_settings(role: dict[str, Any]) -> Any:
    """A role's settings in one comparable form, whether from a request (A.42/A.44) or a list (A.41):
    defaults filled in, what a permission level makes meaningless left out."""
    tables = []
    for t in role.get("table_roles") or []:
        perm = t.get("table_perm", 0)
        entry: list[Any] = [t.get("table_id"), perm]
        if perm == 2:
            entry += [
                t.get("allow_add_record", t.get("addrecords_perm", True)),
                t.get("allow_delete_record", t.get("deleterecords_perm", True)),
                sorted((t.get("field_perm") or {}).items()),
            ]
        rule = t.get("rec_rule")
        if perm in (1, 2) and isinstance(rule, dict):
            conditions = sorted(
                json.dumps(
                    [
                        c.get("field_name"),
                        c.get("operator")
                        if c.get("value") or c.get("operator") in ("isEmpty", "isNotEmpty")
                        else "",
                        sorted(c.get("value") or []),
                    ]
                )
                for c in rule.get("conditions") or []
            )
            entry += [rule.get("conjunction") or "and", rule.get("other_perm", 0), conditions]
        tables.append(json.dumps(entry, sort_keys=True, default=str))
    blocks = sorted((b.get("block_id"), b.get("block_perm", 0)) for b in role.get("block_roles") or [])
    return role.get("role_name"), sorted(tables), blocks
