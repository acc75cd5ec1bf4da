"""The one HTTP call path of every remote provider: rate limit, auth header, retry, error mapping.

A provider gives each call a ``parse`` function that returns the data of a good answer or raises
:class:`ProviderError` with a ``kind`` (see ``anytable.errors``). This module decides what to do:

- ``auth``: drop the cached token, fetch a new one and try once more;
- ``throttle``: the request was refused before it ran; wait as the service asked, try again;
- ``transient``: nothing was applied; back off and try again;
- ``unknown_outcome`` (a lost answer, a timeout, an ambiguous 5xx): try again only when the call
  is ``idempotent`` (a read, or a write carrying an idempotency token); otherwise ask
  ``reconcile`` whether the write happened, and never repeat it blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from anytable.errors import ProviderError
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy

log = logging.getLogger("anytable.http")

Parse = Callable[[httpx.Response], Any]
AuthHeaders = Callable[[], Awaitable[dict[str, str]]]
Reconcile = Callable[[], Awaitable[Any]]
NOT_APPLIED = object()  # what ``reconcile`` returns when the write did not happen


class ApiClient:
    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 30.0,
        user_agent: str = "anytable-mcp",
    ) -> None:
        self.provider = provider
        self.limiter = limiter or RateLimiter()
        self.retry = retry
        self.http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"user-agent": user_agent},
            follow_redirects=False,
        )
        self.requests_sent = 0
        self.retries = 0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        url: str,
        *,
        parse: Parse,
        api: str | None = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        auth: AuthHeaders | None = None,
        on_auth_error: Callable[[], Awaitable[None]] | None = None,
        idempotent: bool = True,
        reconcile: Reconcile | None = None,
    ) -> Any:
        """Send one logical request, retrying as the error kinds allow; the parsed answer."""
        key = api or f"{method} {url}"
        auth_refreshed = False
        waited = 0.0
        attempt = 0
        while True:
            await self.limiter.acquire(key)
            request_headers = dict(headers or {})
            if auth is not None:
                request_headers.update(await auth())
            try:
                self.requests_sent += 1
                response = await self.http.request(
                    method, url, params=params, json=json, data=data, files=files, headers=request_headers
                )
                return parse(response)
            except ProviderError as exc:
                error = exc
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error = ProviderError(
                    f"{self.provider} could not be reached ({type(exc).__name__}); check the network and the "
                    "configured host.",
                    kind="transient",
                    provider=self.provider,
                )
            except (
                httpx.TimeoutException,
                httpx.RemoteProtocolError,
                httpx.ReadError,
                httpx.WriteError,
            ) as exc:
                error = ProviderError(
                    f"{self.provider} did not answer in time ({type(exc).__name__}).",
                    kind="unknown_outcome",
                    provider=self.provider,
                )
            error.provider = error.provider or self.provider

            if error.kind == "auth":
                if auth_refreshed or on_auth_error is None:
                    raise error
                auth_refreshed = True
                await on_auth_error()
                continue
            if error.kind == "unknown_outcome" and not idempotent:
                if reconcile is None:
                    raise ProviderError(
                        f"{error.message} The change may or may not have been applied: check with query_records "
                        "before trying again.",
                        kind="unknown_outcome",
                        provider=self.provider,
                        code=error.code,
                        request_id=error.request_id,
                    )
                outcome = await reconcile()
                if outcome is not NOT_APPLIED:
                    return outcome
            elif error.kind not in ("throttle", "transient", "unknown_outcome"):
                raise error

            attempt += 1
            delay = self.retry.delay(attempt - 1, error.retry_after)
            if attempt >= self.retry.attempts or waited + delay > self.retry.max_total_wait:
                raise ProviderError(
                    f"{error.message} Gave up after {attempt} tries; wait a little and call the tool again.",
                    kind=error.kind,
                    provider=self.provider,
                    code=error.code,
                    request_id=error.request_id,
                    status=error.status,
                )
            self.retries += 1
            log.info("%s: %s; retry %d in %.2fs", key, error.kind, attempt, delay)
            if error.kind == "throttle":
                self.limiter.pause(key, delay)
                await self.limiter.acquire(key)  # the pause is the wait
                waited += delay
                continue
            waited += delay
            await anyio.sleep(delay)


def json_body(response: httpx.Response) -> Any:
    """The JSON body of a response, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
