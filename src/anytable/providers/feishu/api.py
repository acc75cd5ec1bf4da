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
one view's settings, forms, custom roles and their members) are in ``admin_api``.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx

from anytable.errors import ProviderError
from anytable.providers.http import NOT_APPLIED, ApiClient, encode_json
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy
from anytable.providers.tokens import TokenCache

from . import errors
from .errors import Where
from .identity import UserIdentity

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
API = "/open-apis/bitable/v1"
LIST_PAGE = 100  # tables, fields, views, form questions, role members (A.13, A.22, A.28, A.37, A.47)
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
        return Where(base=app, table=label, user_id_type=self.user_id_type, as_user=as_user, **more)

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
        content: bytes | None = None,
        write_to: tuple[str, str] | None = None,
        idempotent: bool = True,
        reconcile: Reconcile | None = None,
        bare: bool = False,
        prefix: str = API,
        data: dict[str, Any] | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        binary: bool = False,
    ) -> dict[str, Any]:
        """One logical request; the ``data`` of Feishu's answer. ``write_to`` (app, table) serialises
        the call with every other write to that table. ``bare``: the page documents a successful
        answer without the ``{code, msg, data}`` envelope (A.18), so accept that form too.
        ``content``: a JSON body already encoded (``encode_json``), instead of ``json``."""
        used: dict[str, str] = {}

        async def auth() -> dict[str, str]:
            token = await self.tokens.get()
            used["token"] = token
            return {"Authorization": f"Bearer {token}"}

        async def renew() -> None:
            if self.identity is not None:
                self.identity.reject(used.get("token"))  # a user token: refreshed on the next fetch
            self.tokens.invalidate(used.get("token"))

        def parse(response: httpx.Response) -> dict[str, Any]:
            if (
                binary
                and response.status_code in (200, 206)
                and "json" not in response.headers.get("content-type", "")
            ):
                return {"content": response.content}  # a file's bytes (drive media download)
            if binary and response.status_code == 416:
                return {"content": b"", "past_end": True}  # a range starting at or after the end
            body = errors.check(response, where, bare=bare).get("data")
            return body if isinstance(body, dict) else {}

        send_headers = dict(headers or {})
        if json is not None or content is not None:
            send_headers["Content-Type"] = "application/json; charset=utf-8"

        async def send() -> dict[str, Any]:
            result: dict[str, Any] = await self.http.call(
                method,
                prefix + path,
                api=api,
                params=params,
                json=json,
                content=content,
                data=data,
                files=files,
                parse=parse,
                auth=auth,
                on_auth_error=renew,
                idempotent=idempotent,
                reconcile=reconcile,
                headers=send_headers or None,
            )
            return result

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

    @staticmethod
    def records_body(records: list[dict[str, Any]]) -> bytes:
        """The body of a batch write of ``records``, encoded (CPU work that may be done ahead)."""
        return encode_json({"records": records})

    async def batch_create(self, app: str, table_id: str, body: bytes) -> dict[str, Any]:
        """``body``: ``records_body`` of the records to create."""
        return await self.call(
            "POST",
            f"/apps/{app}/tables/{table_id}/records/batch_create",
            api="records.batch_create",
            where=self.where(app, table_id),
            params={"user_id_type": self.user_id_type, "client_token": self.client_token()},
            content=body,
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
