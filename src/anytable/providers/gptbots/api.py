"""The GPTBots database endpoints, one method each, over the shared ``ApiClient``.

Paths, verbs, bodies and limits follow docs/provider-api-notes.md §3 and the GPTBots pages (GET for
queries, POST for submissions; ``Authorization: Bearer <key>``; one key = one agent). Answers are
read in both shapes (``errors.unwrap``); each method returns plain data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from anytable.errors import ProviderError
from anytable.masking import mask
from anytable.providers.gptbots.errors import PROVIDER, unwrap
from anytable.providers.http import ApiClient
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy

ENDPOINTS = {
    "sg": "https://api-sg.gptbots.ai",
    "jp": "https://api-jp.gptbots.ai",
    "th": "https://api-th.gptbots.ai",
}
MAX_PAGE_SIZE = 100  # records/page: page_size 1-100
MAX_IMPORT_ROWS = 1000  # import/records: at most 1,000 rows per call
MAX_IMPORT_CSV_BYTES = 10 * 1024 * 1024  # ... and at most 10 MB once converted to CSV
MAX_UPDATE_ITEMS = 100  # v2 update/record: at most 100 records per call
MAX_UPDATE_BODY_BYTES = 5 * 1000 * 1000  # ... and a 5 MB body (read as the smaller 5,000,000)
MAX_DELETE_ITEMS = 1000  # v2 delete/record: at most 1,000 per call


def base_url(endpoint: str) -> str:
    """``https://api-<ep>.gptbots.ai`` for a data centre code, or the given base URL.

    Raises ValueError (with the message to show) when ``endpoint`` is neither.
    """
    value = endpoint.strip()
    if value.lower() in ENDPOINTS:
        return ENDPOINTS[value.lower()]
    if value.lower().startswith(("http://", "https://")) and len(value) > len("https://"):
        return value.rstrip("/")
    raise ValueError(
        f"GPTBOTS_ENDPOINT={value!r} is not a GPTBots data centre: use sg (Singapore, the default), jp, th, "
        "or a base URL like https://api-sg.gptbots.ai."
    )


@dataclass
class RecordsPage:
    table_info: dict[str, Any]
    records: list[dict[str, Any]]
    total: int | None


class GPTBotsApi:
    def __init__(
        self,
        key: str,
        url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 60.0,
    ) -> None:
        self.key = key
        self.masked_key = mask(key)
        self.http = ApiClient(
            provider=PROVIDER, base_url=url, transport=transport, retry=retry, timeout=timeout
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def _parse(self, response: httpx.Response) -> Any:
        return unwrap(response, masked_key=self.masked_key)

    async def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: list[tuple[str, Any]] | None = None,
        idempotent: bool = True,
        reconcile: Callable[[], Awaitable[Any]] | None = None,
    ) -> Any:
        return await self.http.call(
            method,
            path,
            parse=self._parse,
            api=f"{method} {path}",
            json=json,
            params=params,
            auth=self._auth,
            idempotent=idempotent,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- endpoints
    async def verify_key(self) -> Any:
        """``GET /v1/api-key/verify`` (a third-party source lists it; used by ``doctor`` only)."""
        return await self.call("GET", "/v1/api-key/verify")

    async def list_tables(self, agent_id: str) -> list[dict[str, Any]]:
        data = await self.call("POST", "/v1/database/tables/page", json={"agent_id": agent_id})
        tables = data.get("tables") if isinstance(data, dict) else data
        if tables is None and isinstance(data, dict):
            tables = data.get("list") or data.get("records") or []
        if not isinstance(tables, list):
            raise _shape("tables/page")
        return [t for t in tables if isinstance(t, dict)]

    async def create_table(self, body: dict[str, Any], reconcile: Callable[[], Awaitable[Any]]) -> str:
        data = await self.call(
            "POST", "/v1/database/create-table", json=body, idempotent=False, reconcile=reconcile
        )
        table_id = _an_id(data, ("table_id", "id"))
        if table_id is None:
            raise _shape("create-table")
        return table_id

    async def records_page(
        self,
        table_id: str,
        page: int,
        page_size: int = MAX_PAGE_SIZE,
        *,
        filter: dict[str, Any] | None = None,
        keyword: str | None = None,
    ) -> RecordsPage:
        body: dict[str, Any] = {
            "table_id": table_id,
            "page": page,
            "page_size": min(page_size, MAX_PAGE_SIZE),
        }
        if filter:
            body["filter"] = filter
        if keyword:
            body["keyword"] = keyword
        data = await self.call("POST", "/v1/database/records/page", json=body)
        if not isinstance(data, dict):
            raise _shape("records/page")
        records = data.get("records") or []
        total = data.get("total_count", data.get("total"))
        return RecordsPage(
            table_info=data.get("table_info") or {},
            records=[r for r in records if isinstance(r, dict)],
            total=_count(total),
        )

    async def import_records(
        self, table_id: str, records: list[dict[str, Any]], reconcile: Callable[[], Awaitable[Any]]
    ) -> Any:
        """The task id of a new import (or whatever ``reconcile`` decided after a lost answer)."""
        data = await self.call(
            "POST",
            "/v1/database/import/records",
            json={"table_id": table_id, "records": records},
            idempotent=False,
            reconcile=reconcile,
        )
        if not isinstance(data, str | list | dict):
            return data  # what reconcile returned
        task_id = _an_id(data, ("task_id", "id", "ids"))
        if task_id is None:
            raise _shape("import/records")
        return task_id

    async def import_results(self, task_ids: list[str]) -> list[dict[str, Any]]:
        data = await self.call(
            "GET", "/v1/database/query/import-results", params=[("ids", i) for i in task_ids]
        )
        if isinstance(data, dict):
            data = data.get("data") or data.get("list") or data.get("tasks") or data.get("results") or []
        if not isinstance(data, list):
            raise _shape("query/import-results")
        return [t for t in data if isinstance(t, dict)]

    async def update_records(self, table_id: str, items: list[dict[str, Any]]) -> Any:
        # Setting values is idempotent: a repeat after a lost answer changes nothing more.
        body = {"table_id": table_id, "is_create": False, "update_data": items}
        return await self.call("POST", "/v2/database/update/record", json=body)

    async def delete_records(self, table_id: str, record_ids: list[str]) -> Any:
        # Deleting by id is idempotent: a repeat deletes nothing more.
        body = {"table_id": table_id, "delete_data": [{"record_id": i} for i in record_ids]}
        return await self.call("POST", "/v2/database/delete/record", json=body)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _an_id(data: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(data, str) and data:
        return data
    if isinstance(data, list) and data:
        return _an_id(data[0], keys)
    if isinstance(data, dict):
        for key in keys:
            if key in data:
                return _an_id(data[key], keys)
    return None


def _shape(endpoint: str) -> ProviderError:
    return ProviderError(
        f"GPTBots answered {endpoint} in a form anytable does not know; nothing more can be said. Report it.",
        kind="fatal",
        provider=PROVIDER,
    )
