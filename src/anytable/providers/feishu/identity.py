"""Which identity the Feishu provider acts as (FEISHU_AUTH), and the user's tokens as it goes.

``tenant``: the app's tenant_access_token. ``user``: the signed-in user's user_access_token (see
``anytable login feishu``); nobody signed in is an error saying to sign in. ``auto`` (default): the
user when someone is signed in for this app and host, else the app.

The user's token is served through the client's one :class:`~anytable.providers.tokens.TokenCache`
(single-flight: one fetch at a time, the other calls wait for it). A fetch here reads the stored
sign-in (another process may have refreshed it) and refreshes it when it has less than
``REFRESH_MARGIN`` left or Feishu refused it (99991668/99991677: the client calls :meth:`reject`).
A refresh token is single-use: one refused for good is remembered and never sent again, and a
refusal because it was already used is checked against the store first (another process that
shares the sign-in may have refreshed it; its new tokens are then used).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import httpx

from anytable.config import Settings
from anytable.credstore import CredentialStore, open_store
from anytable.errors import ConfigError, ProviderError

from .oauth import REFRESH_REFUSED, SIGN_IN_AGAIN, OAuthClient, UserSession, session_key
from .urls import api_base_url

MODES = ("auto", "user", "tenant")
REFRESH_MARGIN = 300.0  # refresh a user token with less than 5 minutes left


def auth_mode(settings: Settings) -> str:
    """FEISHU_AUTH, checked."""
    value = (settings.feishu_auth or "auto").strip().lower()
    if value not in MODES:
        raise ConfigError(
            f"FEISHU_AUTH={settings.feishu_auth!r} is not understood: use user (act as the user signed in with "
            "`anytable login feishu`), tenant (act as the app) or auto (the user when signed in, else the app)."
        )
    return value


def user_identity(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> UserIdentity:
    """The user side of FEISHU_AUTH (sign-in storage and refresh) for the configured app and host."""
    assert settings.feishu_app_id and settings.feishu_app_secret
    oauth = OAuthClient(
        app_id=settings.feishu_app_id,
        app_secret=settings.feishu_app_secret,
        api_base=api_base_url(settings.feishu_domain),
        transport=transport,
    )
    return UserIdentity(mode=auth_mode(settings), oauth=oauth, store=open_store(settings.token_store))


class SignInRequired(ConfigError):
    """There is no usable sign-in: the message says to run ``anytable login feishu``."""


class UserIdentity:
    def __init__(
        self,
        *,
        mode: str,
        oauth: OAuthClient,
        store: CredentialStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mode = mode
        self.oauth = oauth
        self.store = store
        self.key = session_key(oauth.app_id, oauth.api_base)
        self._clock = clock
        self._rejected: set[str] = set()  # access tokens Feishu refused
        self._spent: dict[str, str] = {}  # refresh tokens refused for good (never sent again) -> why
        self.session: UserSession | None = None  # the sign-in last read (who list_providers shows)
        self.refreshes = 0

    # ------------------------------------------------------------------ store
    def load(self) -> UserSession | None:
        """The stored sign-in of this app and host (blocking: call through a thread when async)."""
        raw = self.store.get(self.key)
        if raw is None:
            return None
        try:
            return UserSession.model_validate_json(raw)
        except ValueError:
            return None  # unreadable: as if nobody were signed in (login writes a new one)

    def save(self, session: UserSession) -> None:
        self.store.put(self.key, session.model_dump_json())

    def forget(self) -> bool:
        return self.store.delete(self.key)

    # ------------------------------------------------------------------ for list_providers / doctor
    @property
    def in_use(self) -> str:
        """``user`` or ``tenant``: the identity calls are made as (as far as last known)."""
        if self.mode == "tenant":
            return "tenant"
        return "user" if self.mode == "user" or self.session is not None else "tenant"

    def describe(self) -> str:
        if self.mode == "tenant":
            return "tenant (the app's tenant_access_token)"
        if self.session is None:
            if self.mode == "user":
                return "user, but nobody is signed in: run `anytable login feishu`"
            return "tenant (nobody signed in; `anytable login feishu` to act as yourself)"
        return f"user: {self.session.describe(self._clock())}"

    # ------------------------------------------------------------------ tokens
    def reject(self, token: str | None) -> None:
        """Feishu refused ``token`` (99991668/99991677): the next fetch refreshes it."""
        if token:
            self._rejected.add(token)

    async def token(self) -> tuple[str, float] | None:
        """The user's access token and its lifetime left, refreshed when due; None when calls go
        as the app (``tenant``, or ``auto`` with nobody signed in). Called by the TokenCache only,
        so one fetch runs at a time."""
        if self.mode == "tenant":
            return None
        session = await anyio.to_thread.run_sync(self.load)
        self.session = session
        if session is None:
            if self.mode == "user":
                raise SignInRequired(
                    "FEISHU_AUTH=user, but nobody is signed in to Feishu for app "
                    f"{self.oauth.app_id}: run `anytable login feishu` (or set FEISHU_AUTH=auto to act as the app)."
                )
            return None
        now = self._clock()
        if session.access_token not in self._rejected and session.expires_at - now > REFRESH_MARGIN:
            return session.access_token, session.expires_at - now
        return await self._refresh(session)

    async def _refresh(self, session: UserSession) -> tuple[str, float]:
        now = self._clock()
        refresh = session.refresh_token
        if refresh in self._spent:
            raise SignInRequired(self._spent[refresh])
        if not refresh:
            raise SignInRequired(_expired(session, "there is no refresh token"))
        if session.refresh_expires_at is not None and session.refresh_expires_at <= now:
            raise SignInRequired(_expired(session, "the refresh token has expired"))
        try:
            tokens = await self.oauth.refresh(refresh)
        except ProviderError as exc:
            if exc.code not in REFRESH_REFUSED:
                raise  # not a verdict on the refresh token (network, 5xx): it may be tried again
            self._spent[refresh] = f"{exc.message} (app {self.oauth.app_id})"
            latest = await anyio.to_thread.run_sync(self.load)
            if latest is not None and latest.refresh_token != refresh:
                # Another process refreshed it first (a refresh token is single-use): use its tokens.
                self.session = latest
                if latest.access_token not in self._rejected and latest.expires_at - now > 0:
                    return latest.access_token, latest.expires_at - now
                return await self._refresh(latest)
            raise SignInRequired(self._spent[refresh]) from None
        fresh = session.renewed(tokens, self._clock())
        await anyio.to_thread.run_sync(self.save, fresh)
        self.session = fresh
        self.refreshes += 1
        return fresh.access_token, fresh.expires_at - self._clock()


def _expired(session: UserSession, why: str) -> str:
    return f"The Feishu sign-in of {session.who()} cannot be renewed ({why}): {SIGN_IN_AGAIN}."
