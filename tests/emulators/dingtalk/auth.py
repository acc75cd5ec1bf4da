"""DingTalk emulator: v1.0 access tokens, legacy tokens and the user lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import httpx

from ..base import json_response, read_json
from .errors import ApiError, LegacyError, _missing
from .state import Token

if TYPE_CHECKING:
    pass


class AuthMixin:
    """DingTalk emulator: v1.0 access tokens, legacy tokens and the user lookup (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ tokens

    def _issue(self, store: dict[str, Token], app_key: str) -> str:
        now = self.clock.now()
        for tok, entry in store.items():
            if entry.app_key == app_key and entry.expires_at > now:
                entry.expires_at = now + self.token_ttl  # same token, lifetime renewed [INF]
                return tok
        tok = self._hex_token()
        store[tok] = Token(app_key, now + self.token_ttl)
        return tok

    async def _access_token(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        if not isinstance(body, dict):
            raise _missing("body")
        app_key = body.get("appKey")
        if not app_key:
            raise _missing("appKey")
        if self.apps.get(app_key) is None or self.apps[app_key] != body.get("appSecret"):
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        return self._ok({"accessToken": self._issue(self.tokens, app_key), "expireIn": self.token_ttl})

    async def _legacy_gettoken(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        app_key, secret = q.get("appkey", ""), q.get("appsecret", "")
        if not app_key or self.apps.get(app_key) is None or self.apps[app_key] != secret:
            raise LegacyError(40089, "不合法的corpId或corpSecret")
        token = self._issue(self.legacy_tokens, app_key)
        return json_response(
            200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}
        )

    async def _legacy_user_get(self, request: httpx.Request) -> httpx.Response:
        body = read_json(request)
        if not isinstance(body, dict):
            form = parse_qs(request.content.decode("utf-8", "replace")) if request.content else {}
            body = {k: v[0] for k, v in form.items()}
        userid = body.get("userid") or request.url.params.get("userid")
        if not isinstance(userid, str) or not userid:
            raise LegacyError(40035, "不合法的参数")
        user = self.users.get(userid)
        if user is None:
            raise LegacyError(60121, "找不到该用户")
        empty = self.empty_unionid or user.unionid_empty
        result = {
            "userid": user.user_id,
            "unionid": "" if empty else user.union_id,
            "union_id": user.union_id,
            "name": user.name,
            "active": True,
            "admin": False,
            "boss": False,
            "dept_id_list": [1],
        }
        return json_response(
            200, {"errcode": 0, "errmsg": "ok", "result": result, "request_id": self._alnum(13).lower()}
        )
