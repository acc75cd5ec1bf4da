"""Feishu emulator: tenant_access_token issue, expiry and checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ..base import json_response, read_json
from .errors import FeishuError

if TYPE_CHECKING:
    pass


class AuthMixin:
    """Feishu emulator: tenant_access_token issue, expiry and checks (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ auth

    def _issue_token(self, app_id: str) -> tuple[str, int]:
        now = self.clock.now()
        current = self.current_token.get(app_id)
        if current and current in self.tokens:
            expires_at = self.tokens[current][1]
            if expires_at - now >= 1800:
                return current, round(expires_at - now)
        token = "t-" + "".join(self._rng.choice("0123456789abcdef") for _ in range(40))
        self.tokens[token] = (app_id, now + self.token_ttl)
        self.current_token[app_id] = token
        return token, self.token_ttl

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        logid = self._next_logid()
        app_id = body.get("app_id") if isinstance(body, dict) else None
        secret = body.get("app_secret") if isinstance(body, dict) else None
        if not isinstance(app_id, str) or self.credentials.get(app_id) != secret:
            # docs/provider-api-notes.md §2.1 [3P]: wrong credentials on this endpoint -> 10014.
            return json_response(
                400,
                {"code": 10014, "msg": "app secret invalid", "error": {"log_id": logid}},
                {"X-Tt-Logid": logid},
            )
        token, expire = self._issue_token(app_id)
        return json_response(
            200,
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire},
            {"X-Tt-Logid": logid},
        )

    def _authenticate(self, request: httpx.Request) -> str:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise FeishuError(
                99991661,
                "Missing access token for authorization. Please make a request with token attached.",
                status=400,
                gateway=True,
            )
        scheme, _, token = header.partition(" ")
        entry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None and self.oauth is not None and scheme.lower() == "bearer":
            user_app = self.oauth.authenticate(token.strip())  # a user access token (oauth.py)
            if user_app is not None:
                return str(user_app)
        if entry is None or entry[1] <= self.clock.now():
            raise FeishuError(
                99991663,
                "Invalid access token for authorization. Please make a request with token attached.",
                status=400,
                gateway=True,
            )
        return entry[0]
