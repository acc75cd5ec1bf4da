"""The DingTalk notable endpoints over the one call path (``ApiClient``).

Paths and limits (docs/provider-api-notes.md §1.4-1.6 [SDK][DOC]):

- tables: ``GET|POST /v1.0/notable/bases/{baseId}/sheets``, ``GET|PUT|DELETE .../sheets/{sheetIdOrName}``
- fields: ``GET|POST .../sheets/{s}/fields``, ``PUT|DELETE .../fields/{fieldIdOrName}`` (no type change)
- records: ``POST .../records`` (insert, ``clientToken``), ``POST .../records/list`` (``maxResults``
  <= 100, ``nextToken``, ``filter``, ``fieldIdOrNames`` <= 100), ``GET .../records/{recordId}``,
  ``PUT .../records`` (update), ``POST .../records/delete`` (``recordIds``),
  ``POST /v1.0/notable/bases/{baseId}/changedRecordIds/query`` (``clientToken``)
- every call: header ``x-acs-dingtalk-access-token``, query ``operatorId=<unionId>``.

Every API stays under 20 requests per second by itself (§1.3 [DOC]): the limiter spaces the calls
of each path template.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx

from anytable.config import Settings
from anytable.errors import ProviderError
from anytable.providers.dingtalk.auth import DingTalkAuth
from anytable.providers.dingtalk.errors import NOT_FOUND, PROVIDER, Call, api_parser
from anytable.providers.http import ApiClient
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy

T = TypeVar("T")

BASE = "/v1.0/notable/bases/{baseId}"
SHEETS = BASE + "/sheets"
SHEET = SHEETS + "/{sheetIdOrName}"
FIELDS = SHEET + "/fields"
FIELD = FIELDS + "/{fieldIdOrName}"
RECORDS = SHEET + "/records"
RECORD = RECORDS + "/{recordId}"
RECORDS_LIST = RECORDS + "/list"
RECORDS_DELETE = RECORDS + "/delete"
CHANGED_IDS = BASE + "/changedRecordIds/query"

RATE = 20.0  # requests per second per app and API (§1.3 [DOC])
MAX_PAGE = 100  # maxResults (list page)
MAX_PROJECTION = 100  # fieldIdOrNames


class DingTalkApi:
    """The app's connection to DingTalk: its HTTP client, its token and operator, one call path."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.http = ApiClient(
            provider=PROVIDER,
            base_url=settings.dingtalk_api_url.rstrip("/"),
            transport=transport,
            limiter=RateLimiter(default_rate=RATE),
            retry=retry,
        )
        self.auth = DingTalkAuth(self.http, settings)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        template: str,
        call: Call,
        *,
        ids: dict[str, str],
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        reconcile: Callable[[], Awaitable[Any]] | None = None,
        parse: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        """One notable API call: the operator in the query, the token in the header, the rate
        limit of ``template``, the retries its answers allow."""
        path = template.format(**{k: quote(str(v), safe="") for k, v in ids.items()})
        operator = await self.auth.operator()
        auth, refresh = self.auth.headers()
        return await self.http.call(
            method,
            path,
            api=f"{method} {template}",
            params={"operatorId": operator, **(params or {})},
            json=json,
            parse=parse or api_parser(call),
            auth=auth,
            on_auth_error=refresh,
            idempotent=idempotent,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------ plain reads
    async def list_sheets(self, base: str) -> list[dict[str, Any]]:
        body = await self.request(
            "GET", SHEETS, Call(subject="the tables of the base", base=base), ids={"baseId": base}
        )
        return [s for s in body.get("value") or [] if isinstance(s, dict)]

    async def get_sheet(self, base: str, sheet: str, call: Call) -> dict[str, Any]:
        body: dict[str, Any] = await self.request(
            "GET", SHEET, call, ids={"baseId": base, "sheetIdOrName": sheet}
        )
        return body

    async def list_fields(self, base: str, sheet: str, call: Call) -> list[dict[str, Any]]:
        body = await self.request("GET", FIELDS, call, ids={"baseId": base, "sheetIdOrName": sheet})
        return [f for f in body.get("value") or [] if isinstance(f, dict)]

    async def get_record(self, base: str, sheet: str, record_id: str, call: Call) -> dict[str, Any] | None:
        """One record as DingTalk returns it; None when DingTalk says it is not there."""
        try:
            body: dict[str, Any] = await self.request(
                "GET", RECORD, call, ids={"baseId": base, "sheetIdOrName": sheet, "recordId": record_id}
            )
        except ProviderError as exc:
            if exc.code == NOT_FOUND:
                return None
            raise
        return body

    async def changed_ids(self, base: str, client_token: str) -> list[str]:
        """The records an insert with ``client_token`` made (none: it did not happen)."""
        body = await self.request(
            "POST",
            CHANGED_IDS,
            Call(subject="the check of a batch whose answer was lost", base=base),
            ids={"baseId": base},
            json={"clientToken": client_token},
        )
        raw = body.get("changedRecordIds")
        items = raw if isinstance(raw, list) else (raw.get("value") if isinstance(raw, dict) else None)
        out: list[str] = []
        for item in items or []:
            rid = item.get("id") or item.get("recordId") if isinstance(item, dict) else item
            if isinstance(rid, str) and rid:
                out.append(rid)
        return out


async def gather(thunks: list[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run ``thunks`` at most ``limit`` at a time; their results in order (the first error raised)."""
    results: list[Any] = [None] * len(thunks)
    errors: list[tuple[int, Exception]] = []
    semaphore = anyio.Semaphore(limit)

    async def run(i: int, thunk: Callable[[], Awaitable[T]]) -> None:
        async with semaphore:
            if errors:
                return
            try:
                results[i] = await thunk()
            except Exception as exc:  # re-raised below, unwrapped
                errors.append((i, exc))

    async with anyio.create_task_group() as tg:
        for i, thunk in enumerate(thunks):
            tg.start_soon(run, i, thunk)
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    return results
