"""The ``feishu`` provider: Feishu and Lark Bitable (the same API on open.feishu.cn and
open.larksuite.com, or a private deployment's host)."""

from __future__ import annotations

import httpx

from anytable.config import Settings
from anytable.credstore import open_store
from anytable.errors import ConfigError
from anytable.masking import mask
from anytable.providers.feishu.client import FeishuClient
from anytable.providers.feishu.identity import MODES, UserIdentity
from anytable.providers.feishu.links import api_base_url, parse_url
from anytable.providers.feishu.oauth import OAuthClient
from anytable.providers.feishu.provider import USER_ID_TYPES, FeishuProvider
from anytable.providers.registry import ProviderSpec


def _user_id_type(settings: Settings) -> str:
    value = (settings.feishu_user_id_type or "open_id").strip()
    if value not in USER_ID_TYPES:
        raise ConfigError(
            f"FEISHU_USER_ID_TYPE={value!r} is not a Feishu user id type; use {', '.join(USER_ID_TYPES)}."
        )
    return value


def auth_mode(settings: Settings) -> str:
    value = (settings.feishu_auth or "auto").strip().lower()
    if value not in MODES:
        raise ConfigError(
            f"FEISHU_AUTH={settings.feishu_auth!r} is not understood: use user (act as the user signed in with "
            "`anytable login feishu`), tenant (act as the app) or auto (the user when signed in, else the app)."
        )
    return value


def identity(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> UserIdentity:
    """The user side of FEISHU_AUTH (sign-in storage and refresh) for this app and host."""
    assert settings.feishu_app_id and settings.feishu_app_secret
    oauth = OAuthClient(
        app_id=settings.feishu_app_id,
        app_secret=settings.feishu_app_secret,
        api_base=api_base_url(settings.feishu_domain),
        transport=transport,
    )
    return UserIdentity(mode=auth_mode(settings), oauth=oauth, store=open_store(settings.token_store))


def build(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FeishuProvider:
    assert settings.feishu_app_id and settings.feishu_app_secret
    user = None
    if auth_mode(settings) != "tenant":
        user = identity(settings, transport)
        user.session = user.load()  # who list_providers shows before the first call
    client = FeishuClient(
        app_id=settings.feishu_app_id,
        app_secret=settings.feishu_app_secret,
        base_url=api_base_url(settings.feishu_domain),
        user_id_type=_user_id_type(settings),
        transport=transport,
        identity=user,
    )
    return FeishuProvider(client, app_token=settings.feishu_app_token)


def masked_credentials(settings: Settings) -> dict[str, str]:
    out = {
        "FEISHU_APP_ID": settings.feishu_app_id or "",
        "FEISHU_APP_SECRET": mask(settings.feishu_app_secret),
        "FEISHU_DOMAIN": settings.feishu_domain,
        "FEISHU_AUTH": settings.feishu_auth,
    }
    if settings.feishu_app_token:
        out["FEISHU_APP_TOKEN"] = settings.feishu_app_token
    return out


SPEC = ProviderSpec(
    id="feishu",
    title="Feishu/Lark",
    required_env=("FEISHU_APP_ID", "FEISHU_APP_SECRET"),
    enabled=lambda settings: bool(settings.feishu_app_id and settings.feishu_app_secret),
    build=build,
    capabilities=FeishuProvider.capabilities,
    parse_url=parse_url,
    masked_credentials=masked_credentials,
)

__all__ = ["SPEC", "FeishuClient", "FeishuProvider", "build", "identity"]
