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

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from anytable.errors import ProviderError
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy

log = logging.getLogger("anytable.http")

Parse = Callable[[httpx.Response], Any]
AuthHeaders = Callable[[], Awaitable[dict[str, str]]]
Reconcile = Callable[[], Awaitable[Any]]
NOT_APPLIED = object()
MAX_ANSWER_BYTES = (
    64 * 1024 * 1024
)  # no answer of a documented API comes near this  # what ``reconcile`` returns when the write did not happen


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
        max_answer_bytes: int = MAX_ANSWER_BYTES,
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
        self.max_answer_bytes = max_answer_bytes
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
        content: bytes | None = None,
        data: dict[str, Any] | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        auth: AuthHeaders | None = None,
        on_auth_error: Callable[[], Awaitable[None]] | None = None,
        idempotent: bool = True,
        reconcile: Reconcile | None = None,
        write: bool | None = None,
    ) -> Any:
        """Send one logical request, retrying as the error kinds allow; the parsed answer.

        ``content``: a body already encoded (see :func:`encode_json`), sent as it is on every try.

        ``write`` (default: any method but GET/HEAD) marks a call that changes something: once one
        of its tries may have been applied (a lost answer), giving up is never "not applied": it is
        reconciled when it can be, and otherwise reported as an unknown outcome.
        """
        check_path(url, self.provider)
        key = api or f"{method} {url}"
        is_write = method.upper() not in ("GET", "HEAD") if write is None else write
        auth_refreshed = False
        waited = 0.0
        attempt = 0
        maybe_applied = False  # a try of this write may have been applied and nobody checked since
        while True:
            await self.limiter.acquire(key)
            request_headers = dict(headers or {})
            if auth is not None:
                request_headers.update(await auth())
            try:
                self.requests_sent += 1
                return await self._send(
                    method, url, params, json, content, data, files, request_headers, parse
                )
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
            if error.kind == "unknown_outcome" and is_write:
                maybe_applied = True

            if error.kind == "auth":
                if auth_refreshed or on_auth_error is None:
                    return await self._give_up(error, maybe_applied, reconcile, None)
                auth_refreshed = True
                await on_auth_error()
                continue
            if error.kind == "unknown_outcome" and not idempotent:
                if reconcile is None:
                    raise _unknown(error, self.provider)
                try:
                    outcome = await reconcile()
                except ProviderError as exc:  # checking failed: the outcome stays unknown
                    raise _unknown(exc, self.provider) from None
                if outcome is not NOT_APPLIED:
                    return outcome
                maybe_applied = False  # checked: not applied, so sending again is safe
            elif error.kind not in ("throttle", "transient", "unknown_outcome"):
                return await self._give_up(error, maybe_applied, reconcile, None)

            # A throttle answer means the request was not run: it costs no try, only time.
            if error.kind != "throttle":
                attempt += 1
            delay = self.retry.delay(max(attempt - 1, 0), error.retry_after)
            if attempt >= self.retry.attempts or waited + delay > self.retry.max_total_wait:
                tries = f"Gave up after {attempt} tries" if error.kind != "throttle" else "Still throttled"
                return await self._give_up(error, maybe_applied, reconcile, f"{tries} in {waited:.0f}s")
            self.retries += 1
            log.info("%s: %s; retry %d in %.2fs", key, error.kind, attempt, delay)
            waited += delay
            if error.kind == "throttle":
                self.limiter.pause(key, delay)  # every call on this API waits, not only this one
                await self.limiter.acquire(key)  # the pause is the wait
                continue
            await anyio.sleep(delay)

    async def _send(
        self,
        method: str,
        url: str,
        params: Any,
        json: Any,
        content: bytes | None,
        data: Any,
        files: Any,
        headers: dict[str, str],
        parse: Parse,
    ) -> Any:
        """One try: the answer read up to ``max_answer_bytes``, then parsed."""
        request = self.http.build_request(
            method,
            url,
            params=params,
            json=json,
            content=content,
            data=data,
            files=files,
            headers=headers,
        )
        response = await self.http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_answer_bytes:
                raise _too_big(self.provider, self.max_answer_bytes)
            if hasattr(response, "_content"):  # already read (an in-memory transport)
                body = response.content
            else:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():  # decoded: a compressed bomb is caught too
                    size += len(chunk)
                    if size > self.max_answer_bytes:
                        raise _too_big(self.provider, self.max_answer_bytes)
                    chunks.append(chunk)
                body = b"".join(chunks)
        finally:
            await response.aclose()
        if len(body) > self.max_answer_bytes:
            raise _too_big(self.provider, self.max_answer_bytes)
        plain = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k not in ("content-encoding", "content-length")
        ]
        decoded = httpx.Response(response.status_code, headers=plain, content=body, request=request)
        return parse(decoded)

    async def _give_up(
        self,
        error: ProviderError,
        maybe_applied: bool,
        reconcile: Reconcile | None,
        tries: str | None,
    ) -> Any:
        """Retrying stops: raise the error to report. A write one of whose tries may have run is
        checked first (``reconcile``): the outcome it finds is returned; with no way to check, the
        error says the outcome is unknown, never that nothing was done."""
        if maybe_applied:
            if reconcile is None:
                raise _unknown(error, self.provider, tries)
            try:
                outcome = await reconcile()
            except ProviderError as exc:
                raise _unknown(exc, self.provider) from None
            if outcome is not NOT_APPLIED:
                return outcome
        if tries is None:
            raise error
        raise ProviderError(
            f"{error.message} {tries}; nothing was changed: wait a little and call the tool again.",
            kind=error.kind,
            provider=self.provider,
            code=error.code,
            request_id=error.request_id,
            status=error.status,
        )


def _unknown(error: ProviderError, provider: str, tries: str | None = None) -> ProviderError:
    """The error of a write that may or may not have been applied (and could not be checked)."""
    if error.kind == "unknown_outcome" and "may or may not" in error.message:
        return error
    name = error.provider or provider
    then = {
        "unknown_outcome": f"{error.message}",
        "throttle": f"{name} then kept throttling the retries.",
        "transient": f"the retries then failed ({name} was busy or could not be reached).",
        "auth": f"{name} then refused the access token.",
    }.get(error.kind, f"{name} then refused a retry: {error.message}")
    return ProviderError(
        f"{name} did not confirm the change: an answer was lost and {then}"
        f"{f' ({tries})' if tries else ''} The change may or may not have been applied: check with "
        "query_records before trying again.",
        kind="unknown_outcome",
        provider=name,
        code=error.code,
        request_id=error.request_id,
        status=error.status,
    )


def _too_big(provider: str, limit: int) -> ProviderError:
    return ProviderError(
        f"{provider} sent an answer larger than {limit // (1024 * 1024)} MB, more than this server reads; "
        "ask for less (a smaller limit, fewer fields or record ids).",
        kind="fatal",
        provider=provider,
    )


_SAFE_PATH = re.compile(r"^(?:https?://[^/?#\s]+)?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$")


def check_path(url: str, provider: str) -> None:
    """Refuse a request path that an id could have bent: every id in a path is percent-encoded
    (``segment``), so a path here never holds a query, a fragment, a ``..`` or a raw space."""
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "://" in url else path
    if _SAFE_PATH.match(url) and not any(seg in (".", "..") for seg in path.split("/")):
        return
    raise ProviderError(
        f"refused to send a request to {url[:200]!r}: an id in it is not of the form {provider} uses "
        "(ids hold letters, digits, '_' and '-').",
        kind="fatal",
        provider=provider,
    )


def segment(value: str) -> str:
    """One path segment, percent-encoded: an id never changes a request's path or query."""
    return quote(str(value), safe="")


def encode_json(body: Any) -> bytes:
    """``body`` as the bytes httpx sends for ``json=body``: compact UTF-8, no NaN (a body encoded
    ahead of its request, in a worker thread, is the same request)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_body(response: httpx.Response) -> Any:
    """The JSON body of a response, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
