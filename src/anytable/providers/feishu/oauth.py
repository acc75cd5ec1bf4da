"""Feishu/Lark user sign-in (OAuth 2.0 authorization code with PKCE): the protocol side.

Sources: docs/provider-api-notes.md §2.8, checked against ``lark-oapi`` 1.7.5 (``channel/auth/device_flow.py``
posts ``/open-apis/authen/v2/oauth/token`` with ``grant_type`` ``refresh_token``, ``client_id``,
``client_secret`` and reads ``access_token``, ``expires_in``, ``refresh_token``,
``refresh_token_expires_in``, ``scope`` at the top level of the answer, or under ``data``;
``api/authen/v1`` has ``GET /open-apis/authen/v1/user_info`` answering ``{name, en_name, open_id,
union_id, user_id, tenant_key, ...}`` under ``data``).

- Authorize (a browser page): ``https://accounts.feishu.cn/open-apis/authen/v1/authorize`` (Lark:
  accounts.larksuite.com; a private deployment: its base URL) with ``client_id``, ``redirect_uri``,
  ``scope`` (``offline_access`` for a refresh token), ``state``, ``code_challenge`` (S256) and
  ``code_challenge_method``; it redirects to ``redirect_uri?code=...&state=...`` (or ``error=...``).
- Token: ``POST /open-apis/authen/v2/oauth/token`` JSON; an error is ``{code, error,
  error_description}`` with HTTP 4xx (RFC 6749, section 5.2). The codes below are those of the token
  page's 错误码 table as we know them [INF]; an unknown code still reads clearly through
  ``error_description``.

A code and a refresh token are single-use, so neither request is ever repeated after it may
have reached Feishu (``idempotent=False``): only a refusal before sending (connect error,
throttling) is retried.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import BaseModel, Field

from anytable.errors import ProviderError
from anytable.masking import SECRETS, mask
from anytable.providers.http import ApiClient, json_body
from anytable.providers.ratelimit import RateLimiter
from anytable.providers.retry import DEFAULT_RETRY, RetryPolicy

from .urls import FEISHU_API, LARK_API

AUTHORIZE_PATH = "/open-apis/authen/v1/authorize"
TOKEN_PATH = "/open-apis/authen/v2/oauth/token"
USER_INFO_PATH = "/open-apis/authen/v1/user_info"
ACCOUNTS = {FEISHU_API: "https://accounts.feishu.cn", LARK_API: "https://accounts.larksuite.com"}
DEFAULT_SCOPE = "bitable:app offline_access"
RATES: dict[str, float] = {"oauth.token": 50, "authen.user_info": 50}  # the token page: 1000/min, 50/s

SIGN_IN_AGAIN = "run `anytable login feishu` to sign in again"
# Refresh token refused for good: invalid, expired, revoked, already used.
REFRESH_REFUSED = {20026, 20037, 20064, 20073}
TOKEN_ERRORS: dict[int, str] = {
    20001: "Feishu refused the token request as malformed (a parameter is missing).",
    20002: "Feishu refused the app credentials: check FEISHU_APP_ID and FEISHU_APP_SECRET.",
    20003: "The authorization code is unknown (it may belong to another sign-in): run `anytable login feishu` again.",
    20004: "The authorization code has expired (it lives 5 minutes): run `anytable login feishu` again.",
    20010: "This user may not use the app: an administrator must make the app available to them.",
    20024: "The authorization code was issued to another app: check FEISHU_APP_ID.",
    20026: f"The stored refresh token is not valid: {SIGN_IN_AGAIN}.",
    20037: f"The Feishu sign-in has expired (the refresh token lives about 30 days): {SIGN_IN_AGAIN}.",
    20049: "Feishu refused the PKCE code_verifier (it does not match the code_challenge): run "
    "`anytable login feishu` again.",
    20050: "Feishu failed internally while issuing the token; try again in a moment.",
    20064: f"The Feishu sign-in was revoked (the user or an administrator withdrew it): {SIGN_IN_AGAIN}.",
    20065: "The authorization code was already used: run `anytable login feishu` again.",
    20071: "The redirect URI does not match the one of the authorization: run `anytable login feishu` again.",
    20073: f"The refresh token was already used (refresh tokens are single-use): {SIGN_IN_AGAIN}.",
}


def accounts_url(api_base: str) -> str:
    """Where the authorize page is: accounts.feishu.cn / accounts.larksuite.com, or a private
    deployment's own base URL."""
    return ACCOUNTS.get(api_base, api_base)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for S256 (RFC 7636: 43-128 unreserved characters)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    api_base: str, *, app_id: str, redirect_uri: str, scope: str, state: str, challenge: str
) -> str:
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{accounts_url(api_base)}{AUTHORIZE_PATH}?{urlencode(query)}"


class TokenSet(BaseModel):
    """One answer of the token endpoint."""

    access_token: str = Field(repr=False)
    expires_in: float
    refresh_token: str | None = Field(default=None, repr=False)
    refresh_expires_in: float | None = None
    scope: str = ""


class UserSession(BaseModel):
    """A signed-in user as stored: the tokens, when they expire (epoch seconds), and who it is."""

    app_id: str
    api_base: str
    access_token: str = Field(repr=False)
    expires_at: float
    refresh_token: str | None = Field(default=None, repr=False)
    refresh_expires_at: float | None = None
    scope: str = ""
    open_id: str | None = None
    name: str | None = None

    def model_post_init(self, __context: Any) -> None:
        SECRETS.add(self.access_token, self.refresh_token)

    @classmethod
    def issued(cls, tokens: TokenSet, *, app_id: str, api_base: str, now: float) -> UserSession:
        return cls(
            app_id=app_id,
            api_base=api_base,
            access_token=tokens.access_token,
            expires_at=now + tokens.expires_in,
            refresh_token=tokens.refresh_token,
            refresh_expires_at=now + tokens.refresh_expires_in if tokens.refresh_expires_in else None,
            scope=tokens.scope,
        )

    def renewed(self, tokens: TokenSet, now: float) -> UserSession:
        """After a refresh: new tokens, the same user. A refresh answer without a refresh token
        leaves none (the old one is spent)."""
        fresh = UserSession.issued(tokens, app_id=self.app_id, api_base=self.api_base, now=now)
        return fresh.model_copy(update={"open_id": self.open_id, "name": self.name})

    def who(self) -> str:
        """``Ada (ou_ab****)``: the open_id masked like a secret."""
        masked = mask(self.open_id) if self.open_id else "open_id unknown"
        return f"{self.name} ({masked})" if self.name else masked

    def describe(self, now: float | None = None) -> str:
        """Who is signed in and until when (no token)."""
        now = time.time() if now is None else now
        parts = [f"signed in as {self.who()}"]
        left = self.expires_at - now
        parts.append(f"access token expires {_when(self.expires_at)}" + (" (expired)" if left <= 0 else ""))
        if self.refresh_token and self.refresh_expires_at:
            parts.append(f"sign-in lasts until {_when(self.refresh_expires_at)}")
        elif not self.refresh_token:
            parts.append("no refresh token (the scope lacked offline_access)")
        return "; ".join(parts)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def session_key(app_id: str, api_base: str) -> str:
    """The store key of a sign-in: one per app and host."""
    return f"feishu:{app_id}@{urlsplit(api_base).netloc or api_base}"


class OAuthClient:
    """The token and user_info endpoints, through the one HTTP call path (rate limit, retries)."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        api_base: str,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.api_base = api_base
        self.api = ApiClient(
            provider="feishu", base_url=api_base, transport=transport, limiter=RateLimiter(RATES), retry=retry
        )
        self.token_requests = 0  # how many token requests were sent (tests: one refresh, not twenty)

    async def aclose(self) -> None:
        await self.api.aclose()

    async def exchange(self, code: str, *, redirect_uri: str, verifier: str) -> TokenSet:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "client_id": self.app_id,
                "client_secret": self._secret,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {
                "grant_type": "refresh_token",
                "client_id": self.app_id,
                "client_secret": self._secret,
                "refresh_token": refresh_token,
            }
        )

    async def _token(self, body: dict[str, str]) -> TokenSet:
        self.token_requests += 1
        try:
            result: TokenSet = await self.api.call(
                "POST",
                TOKEN_PATH,
                api="oauth.token",
                json=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                parse=_parse_token,
                idempotent=False,  # a code and a refresh token are single-use: never sent twice blindly
            )
        except ProviderError as exc:
            if exc.kind != "unknown_outcome":
                raise
            raise ProviderError(
                "Feishu did not answer the sign-in token request (it may or may not have used the code or "
                "refresh token); call the tool again, and if Feishu then says the token was used, run "
                "`anytable login feishu`.",
                kind="unknown_outcome",
                provider="feishu",
                code=exc.code,
                request_id=exc.request_id,
                status=exc.status,
            ) from None
        return result

    async def user_info(self, access_token: str) -> dict[str, Any]:
        def parse(response: httpx.Response) -> dict[str, Any]:
            body = json_body(response)
            if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != 0:
                code = body.get("code") if isinstance(body, dict) else None
                raise ProviderError(
                    f"Feishu did not say who signed in (user_info answered HTTP {response.status_code}).",
                    provider="feishu",
                    code=code if isinstance(code, int) else None,
                    status=response.status_code,
                    kind="transient" if response.status_code >= 500 else "fatal",
                )
            data = body.get("data")
            return data if isinstance(data, dict) else {}

        info: dict[str, Any] = await self.api.call(
            "GET",
            USER_INFO_PATH,
            api="authen.user_info",
            headers={"Authorization": f"Bearer {access_token}"},
            parse=parse,
        )
        return info


def _parse_token(response: httpx.Response) -> TokenSet:
    body = json_body(response)
    status = response.status_code
    payload = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    code = body.get("code") if isinstance(body, dict) else None
    if status == 429 or code == 99991400:
        raise ProviderError(
            "Feishu is throttling sign-in requests.", kind="throttle", provider="feishu", code=99991400
        )
    if isinstance(payload, dict) and status == 200 and code in (0, None) and payload.get("access_token"):
        token = payload["access_token"]
        refresh = payload.get("refresh_token")
        SECRETS.add(token, refresh if isinstance(refresh, str) else None)
        expires = payload.get("expires_in")
        refresh_expires = payload.get("refresh_token_expires_in")
        return TokenSet(
            access_token=str(token),
            expires_in=float(expires) if isinstance(expires, int | float) and expires > 0 else 7200.0,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            refresh_expires_in=float(refresh_expires) if isinstance(refresh_expires, int | float) else None,
            scope=str(payload.get("scope") or ""),
        )
    if not isinstance(body, dict):
        raise ProviderError(
            f"Feishu's token endpoint answered HTTP {status} without a result; check FEISHU_DOMAIN.",
            kind="unknown_outcome" if status >= 500 else "fatal",
            provider="feishu",
            status=status,
        )
    described = body.get("error_description") or body.get("msg") or body.get("error") or "refused"
    text = TOKEN_ERRORS.get(code, "") if isinstance(code, int) else ""
    if not text:
        text = f"Feishu refused the sign-in token request: {described}."
    return_kind = "unknown_outcome" if code == 20050 or status >= 500 else "fatal"
    raise ProviderError(
        text,
        kind=return_kind,
        provider="feishu",
        code=code if isinstance(code, int) else None,
        status=status,
    )
