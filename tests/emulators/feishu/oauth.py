"""Feishu/Lark user sign-in for the Feishu emulator: the authorize page, the OAuth token endpoint,
user_info, user access tokens, and which bases each user can see.

Sources: docs/provider-api-notes.md §2.8 and the ``lark-oapi`` package (token endpoint, fields); the error
codes of the token page are as we know them [INF] (the client maps each to a message and reads
``error_description`` for any other).

Emulated
--------
* ``GET /open-apis/authen/v1/authorize`` (the accounts host; here the same emulator): ``client_id``
  must be a known app and ``redirect_uri`` one registered for it (:meth:`register_redirect`), else
  an HTML error page (HTTP 400, code 20029) and no redirect, as Feishu shows. With nobody signed in
  to the browser (:meth:`sign_in`), the login page (HTTP 200, no redirect). A signed-in user is
  redirected (302) to ``redirect_uri?code=...&state=...``; one who declines (``decline = True``) to
  ``redirect_uri?error=access_denied&state=...``. ``code_challenge_method`` is ``S256`` or ``plain``.
  A code lives 5 minutes and is single-use.
* ``POST /open-apis/authen/v2/oauth/token`` (JSON; 50 requests/s): ``authorization_code`` checks the
  client (20002), the code (unknown 20003, expired 20004, used 20065, another app's 20024), the
  redirect_uri (20071) and the PKCE verifier (20049); ``refresh_token`` checks the refresh token
  (unknown 20026, expired 20037, revoked 20064, already used 20073) and spends it: a refresh token
  is single-use. Errors are ``{code, error, error_description}`` with HTTP 400 (401 for the client).
  A refresh token is issued only with the ``offline_access`` scope.
* Faults (``emu.faults``) reach the token endpoint too: a plain HTTP 500, a throttle (429), or a
  lost answer after the code or refresh token was spent.
* ``GET /open-apis/authen/v1/user_info`` with a user token: the user (``data``: name, open_id, ...).
* User access tokens (``u-...``) live ``access_ttl`` seconds; an expired one -> 99991677, an
  unknown one -> 99991668 (docs/provider-api-notes.md §2.2). A user sees only the bases shared with them
  (:meth:`share`); any other base answers 1254302 Permission denied with the route's HTTP status.

Hooked into :class:`~tests.emulators.feishu.emulator.FeishuEmulator` through its ``oauth`` attribute
(``FeishuOAuth(emu)`` sets it): ``dispatch`` (these endpoints), ``authenticate`` (user tokens) and
``check_access`` (bases).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from ..base import LostResponse, json_response, read_json
from .errors import FeishuError

if TYPE_CHECKING:
    from .emulator import FeishuEmulator

AUTHORIZE_PATH = "/open-apis/authen/v1/authorize"
TOKEN_PATH = "/open-apis/authen/v2/oauth/token"
USER_INFO_PATH = "/open-apis/authen/v1/user_info"

TOKEN_ERRORS: dict[int, tuple[int, str, str]] = {  # code -> (HTTP status, error, error_description)
    20001: (400, "invalid_request", "The request is missing a required parameter."),
    20002: (401, "invalid_client", "The client secret is invalid."),
    20003: (400, "invalid_grant", "The authorization code is not found."),
    20004: (400, "invalid_grant", "The authorization code has expired."),
    20024: (400, "invalid_grant", "The authorization code does not belong to this client."),
    20026: (400, "invalid_grant", "The refresh token is invalid."),
    20036: (400, "unsupported_grant_type", "The grant type is not supported."),
    20037: (400, "invalid_grant", "The refresh token has expired."),
    20049: (400, "invalid_grant", "PKCE verification failed: the code_verifier does not match."),
    20064: (400, "invalid_grant", "The refresh token has been revoked."),
    20065: (400, "invalid_grant", "The authorization code has been used."),
    20071: (400, "invalid_grant", "The redirect_uri does not match the authorization request."),
    20073: (400, "invalid_grant", "The refresh token has been used."),
}


@dataclass
class Grant:
    app_id: str
    open_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    app_id: str
    open_id: str
    scope: str
    expires_at: float
    used: bool = False
    revoked: bool = False


class FeishuOAuth:
    def __init__(
        self,
        emu: FeishuEmulator,
        *,
        access_ttl: int = 7200,
        refresh_ttl: int = 30 * 86400,
        code_ttl: int = 300,
    ) -> None:
        self.emu = emu
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.code_ttl = code_ttl
        self.redirect_uris: dict[str, set[str]] = {}
        self.browser_user: str | None = None  # open_id signed in to the browser's Feishu session
        self.decline = False
        self.codes: dict[str, Grant] = {}
        self.access: dict[str, tuple[str, str, float]] = {}  # token -> (app_id, open_id, expires_at)
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.visible: dict[str, set[str]] = {}  # open_id -> app_tokens the user can see
        self.token_calls: list[str] = []  # grant_type of every token request received
        emu.oauth = self

    # ------------------------------------------------------------------ test helpers
    def register_redirect(self, uri: str, app_id: str | None = None) -> None:
        self.redirect_uris.setdefault(app_id or self.emu.app_id, set()).add(uri)

    def sign_in(self, open_id: str) -> None:
        """The browser's user (must be a user of the tenant: ``emu.add_user``)."""
        assert open_id in self.emu.users, f"add_user({open_id!r}) first"
        self.browser_user = open_id

    def share(self, app_token: str, *open_ids: str) -> None:
        for open_id in open_ids:
            self.visible.setdefault(open_id, set()).add(app_token)

    def revoke(self, open_id: str) -> None:
        """The user (or an admin) withdraws the sign-in: every refresh token of theirs is revoked."""
        for entry in self.refresh_tokens.values():
            if entry.open_id == open_id:
                entry.revoked = True

    def issue(
        self, open_id: str, *, app_id: str | None = None, scope: str = "bitable:app offline_access"
    ) -> dict[str, Any]:
        """A token answer for ``open_id`` without the browser (as after a sign-in)."""
        return self._issue(app_id or self.emu.app_id, open_id, scope)

    # ------------------------------------------------------------------ hooks of FeishuEmulator
    async def dispatch(self, request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == AUTHORIZE_PATH and request.method == "GET":
            return self._authorize(request)
        if path == TOKEN_PATH and request.method == "POST":
            if not self.emu.limiter.allow("oauth.token", 50):
                return self.emu._throttled(50, self.emu.limiter.retry_after("oauth.token"))
            fault = self.emu.faults.draw(request.method, path, True)
            if fault == "transient":
                return httpx.Response(
                    500, content=b"Internal Server Error", headers={"content-type": "text/plain"}
                )
            if fault == "throttle":
                return self.emu._throttled(50, 1)
            answer = self._token(request)
            if fault == "lost_response":
                raise LostResponse()  # the code or refresh token was spent, the answer lost
            return answer
        if path == USER_INFO_PATH and request.method == "GET":
            return self._user_info(request)
        return None

    def authenticate(self, token: str) -> str | None:
        """The app_id of a user access token; None when ``token`` is not one. Raises the gateway's
        errors for an expired (99991677) or unknown user token (99991668)."""
        entry = self.access.get(token)
        if entry is None:
            if token.startswith("u-"):
                raise FeishuError(
                    99991668, "Invalid access token for authorization. Please make a request with token attached.",
                    status=400, gateway=True,
                )  # fmt: skip
            return None
        if entry[2] <= self.emu.clock.now():
            raise FeishuError(99991677, "user access token expired", status=400, gateway=True)
        return entry[0]

    def check_access(self, request: httpx.Request, params: dict[str, str]) -> None:
        """A user token may only reach the bases shared with the user (1254302 otherwise)."""
        app_token = params.get("app_token")
        user = self.user_of(request)
        if app_token is None or user is None:
            return
        if app_token not in self.visible.get(user, set()):
            raise FeishuError(1254302, "Permission denied.")

    def user_of(self, request: httpx.Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        entry = self.access.get(token.strip()) if scheme.lower() == "bearer" else None
        return entry[1] if entry else None

    # ------------------------------------------------------------------ endpoints
    def _authorize(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        app_id = q.get("client_id", "")
        redirect = q.get("redirect_uri", "")
        if app_id not in self.emu.credentials or redirect not in self.redirect_uris.get(app_id, set()):
            return _html(
                400, "Error 20029: redirect_uri 请求不合法 (the redirect URI is not registered for this app)"
            )
        method = q.get("code_challenge_method") or ("S256" if q.get("code_challenge") else "")
        if method not in ("", "S256", "plain"):
            return _html(400, "Error 20001: invalid code_challenge_method")
        if self.browser_user is None:
            return _html(200, "Log in to Feishu")  # the user never finishes: no redirect
        state = q.get("state")
        if self.decline:
            return _redirect(redirect, {"error": "access_denied", **({"state": state} if state else {})})
        code = secrets.token_hex(16)
        self.codes[code] = Grant(
            app_id=app_id,
            open_id=self.browser_user,
            redirect_uri=redirect,
            challenge=q.get("code_challenge"),
            method=method,
            scope=q.get("scope", ""),
            expires_at=self.emu.clock.now() + self.code_ttl,
        )
        return _redirect(redirect, {"code": code, **({"state": state} if state else {})})

    def _token(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        grant_type = body.get("grant_type") if isinstance(body, dict) else None
        self.token_calls.append(str(grant_type))
        if not isinstance(body, dict) or not body.get("client_id") or not grant_type:
            return _token_error(20001)
        app_id = str(body["client_id"])
        if self.emu.credentials.get(app_id) != body.get("client_secret"):
            return _token_error(20002)
        now = self.emu.clock.now()
        if grant_type == "authorization_code":
            grant = self.codes.get(str(body.get("code", "")))
            if grant is None:
                return _token_error(20003)
            if grant.used:
                return _token_error(20065)
            if grant.expires_at <= now:
                return _token_error(20004)
            if grant.app_id != app_id:
                return _token_error(20024)
            if body.get("redirect_uri") != grant.redirect_uri:
                return _token_error(20071)
            if grant.challenge is not None:
                verifier = body.get("code_verifier")
                if not isinstance(verifier, str) or not verifier:
                    return _token_error(20049)
                expected = _s256(verifier) if grant.method == "S256" else verifier
                if not secrets.compare_digest(expected, grant.challenge):
                    return _token_error(20049)
            grant.used = True
            return json_response(200, {"code": 0, **self._issue(app_id, grant.open_id, grant.scope)})
        if grant_type == "refresh_token":
            entry = self.refresh_tokens.get(str(body.get("refresh_token", "")))
            if entry is None or entry.app_id != app_id:
                return _token_error(20026)
            if entry.revoked:
                return _token_error(20064)
            if entry.used:
                return _token_error(20073)
            if entry.expires_at <= now:
                return _token_error(20037)
            entry.used = True
            return json_response(200, {"code": 0, **self._issue(app_id, entry.open_id, entry.scope)})
        return _token_error(20036)

    def _user_info(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            app_id = self.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        except FeishuError as err:
            return json_response(err.status or 401, {"code": err.code, "msg": err.msg})
        user = self.users_open_id(token.strip()) if app_id else None
        if user is None:
            return json_response(401, {"code": 99991668, "msg": "Invalid access token for authorization."})
        u = self.emu.users[user]
        data = {
            "name": u.name,
            "en_name": getattr(u, "en_name", "") or u.name,
            "open_id": u.open_id,
            "union_id": getattr(u, "union_id", ""),
            "user_id": getattr(u, "user_id", ""),
            "tenant_key": "emulated-tenant",
        }
        return json_response(200, {"code": 0, "msg": "success", "data": data})

    def users_open_id(self, token: str) -> str | None:
        entry = self.access.get(token)
        return entry[1] if entry else None

    # ------------------------------------------------------------------ internals
    def _issue(self, app_id: str, open_id: str, scope: str) -> dict[str, Any]:
        now = self.emu.clock.now()
        access = "u-" + secrets.token_urlsafe(30)
        self.access[access] = (app_id, open_id, now + self.access_ttl)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_ttl,
            "token_type": "Bearer",
            "scope": scope,
        }
        if "offline_access" in scope.split():
            refresh = "ur-" + secrets.token_urlsafe(30)
            self.refresh_tokens[refresh] = RefreshToken(app_id, open_id, scope, now + self.refresh_ttl)
            answer["refresh_token"] = refresh
            answer["refresh_token_expires_in"] = self.refresh_ttl
        return answer

    def secrets(self) -> set[str]:
        """Every code and token issued (for the secret sweep)."""
        return set(self.codes) | set(self.access) | set(self.refresh_tokens)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _token_error(code: int) -> httpx.Response:
    status, error, description = TOKEN_ERRORS[code]
    return json_response(status, {"code": code, "error": error, "error_description": description})


def _html(status: int, text: str) -> httpx.Response:
    page = f"<!doctype html><html><body><p>{text}</p></body></html>".encode()
    return httpx.Response(status, content=page, headers={"content-type": "text/html; charset=utf-8"})


def _redirect(uri: str, query: dict[str, str]) -> httpx.Response:
    sep = "&" if urlsplit(uri).query else "?"
    return httpx.Response(302, headers={"location": uri + sep + urlencode(query)})


def callback_params(location: str) -> dict[str, str]:
    """The query of a redirect's Location (what the callback receives)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
