"""Who the server is to DingTalk: the app's access token and the operator (a unionId).

- Access token: ``POST /v1.0/oauth2/accessToken {appKey, appSecret}`` -> ``{accessToken, expireIn}``
  (docs/provider-api-notes.md §1.1 [SDK]); kept in a :class:`TokenCache` until shortly before it expires,
  fetched again then, or once when DingTalk refuses it. It goes in ``x-acs-dingtalk-access-token``.
- Operator: every notable call carries ``operatorId=<unionId>`` (§1.0 [SDK]). It is
  ``DINGTALK_OPERATOR_ID``; or ``DINGTALK_USER_ID`` looked up once as the DingTalk skill describes
  (docs/reference/dingtalk-ai-table-skill.txt [3P]): ``GET {oapi}/gettoken?appkey=&appsecret=`` for a legacy token
  (the v1.0 token is not valid there), then ``POST {oapi}/topapi/v2/user/get?access_token=``
  ``{"userid"}`` -> ``result.unionid``, or ``result.union_id`` where ``unionid`` is empty.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from anytable.config import Settings
from anytable.errors import ConfigError, ProviderError
from anytable.providers.dingtalk.errors import PROVIDER, Call, api_parser, legacy_parser
from anytable.providers.http import ApiClient
from anytable.providers.tokens import TokenCache

log = logging.getLogger("anytable.dingtalk")

TOKEN_PATH = "/v1.0/oauth2/accessToken"
TOKEN_HEADER = "x-acs-dingtalk-access-token"
DEFAULT_LIFETIME = 7200.0  # "typically valid for 7,200 seconds" (§1.1 [DOC])

MISSING_OPERATOR = (
    "DingTalk needs to know which user the server acts as: set DINGTALK_OPERATOR_ID to that user's unionId, "
    "or DINGTALK_USER_ID to their userId (anytable then looks the unionId up), and restart the server."
)


class DingTalkAuth:
    def __init__(self, api: ApiClient, settings: Settings) -> None:
        self.api = api
        self.app_key = settings.dingtalk_app_key or ""
        self.app_secret = settings.dingtalk_app_secret or ""
        self.oapi_url = settings.dingtalk_oapi_url.rstrip("/")
        self.tokens = TokenCache(self._fetch_token)
        self.legacy_tokens = TokenCache(self._fetch_legacy_token)
        self._operator: str | None = settings.dingtalk_operator_id
        self._user_id: str | None = settings.dingtalk_user_id
        self._lock = anyio.Lock()

    # ------------------------------------------------------------------------ access token
    async def _fetch_token(self) -> tuple[str, float]:
        body = await self.api.call(
            "POST",
            TOKEN_PATH,
            api=f"POST {TOKEN_PATH}",
            json={"appKey": self.app_key, "appSecret": self.app_secret},
            parse=api_parser(Call(subject="the request for an access token")),
        )
        token = body.get("accessToken")
        if not isinstance(token, str) or not token:
            raise ProviderError(
                "DingTalk gave no access token; check DINGTALK_APP_KEY and DINGTALK_APP_SECRET.",
                provider=PROVIDER,
            )
        return token, _lifetime(body.get("expireIn"))

    def headers(self) -> tuple[Callable[[], Awaitable[dict[str, str]]], Callable[[], Awaitable[None]]]:
        """``auth`` and ``on_auth_error`` for one ``ApiClient.call``: the second forgets exactly the
        token the first gave, so that calls failing together fetch a new token once."""
        used: list[str] = []

        async def auth() -> dict[str, str]:
            token = await self.tokens.get()
            used.append(token)
            return {TOKEN_HEADER: token}

        async def refresh() -> None:
            self.tokens.invalidate(used[-1] if used else None)

        return auth, refresh

    # ------------------------------------------------------------------------ operator
    async def operator(self) -> str:
        """The unionId every notable call carries as ``operatorId`` (looked up once)."""
        if self._operator:
            return self._operator
        if not self._user_id:
            raise ConfigError(MISSING_OPERATOR)
        async with self._lock:
            if not self._operator:
                self._operator = await self._union_id(self._user_id)
                log.info("DINGTALK_USER_ID resolved to a unionId; it is the operator from now on")
        return self._operator

    async def _fetch_legacy_token(self) -> tuple[str, float]:
        body = await self.api.call(
            "GET",
            f"{self.oapi_url}/gettoken",
            api="GET /gettoken",
            params={"appkey": self.app_key, "appsecret": self.app_secret},
            parse=legacy_parser("fetching a legacy access token to look DINGTALK_USER_ID up"),
        )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderError(
                "DingTalk gave no legacy access token; check DINGTALK_APP_KEY and DINGTALK_APP_SECRET.",
                provider=PROVIDER,
            )
        return token, _lifetime(body.get("expires_in"))

    async def _union_id(self, user_id: str) -> str:
        token = await self.legacy_tokens.get()
        body = await self.api.call(
            "POST",
            f"{self.oapi_url}/topapi/v2/user/get",
            api="POST /topapi/v2/user/get",
            params={"access_token": token},
            json={"userid": user_id},
            parse=legacy_parser("looking up the unionId of DINGTALK_USER_ID"),
        )
        result: Any = body.get("result")
        result = result if isinstance(result, dict) else {}
        for key in ("unionid", "union_id"):  # unionid may be empty in exclusive-account orgs (skill)
            value = result.get(key)
            if isinstance(value, str) and value:
                return value
        raise ConfigError(
            "DingTalk returned no unionId for the user in DINGTALK_USER_ID; set DINGTALK_OPERATOR_ID to the "
            "user's unionId instead."
        )


def _lifetime(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    return value if value > 0 else DEFAULT_LIFETIME
