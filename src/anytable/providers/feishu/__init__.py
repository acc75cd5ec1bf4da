"""The ``feishu`` provider: Feishu and Lark Bitable (the same API on open.feishu.cn and
open.larksuite.com, or a private deployment's host)."""

from __future__ import annotations

import httpx

from anytable.config import Settings
from anytable.errors import ConfigError
from anytable.masking import mask
from anytable.providers.feishu.api import FeishuClient
from anytable.providers.feishu.provider import USER_ID_TYPES, FeishuProvider
from anytable.providers.feishu.urls import api_base_url, parse_url
from anytable.providers.registry import ProviderSpec


def _user_id_type(settings: Settings) -> str:
    value = (settings.feishu_user_id_type or "open_id").strip()
    if value not in USER_ID_TYPES:
        raise ConfigError(
            f"FEISHU_USER_ID_TYPE={value!r} is not a Feishu user id type; use {', '.join(USER_ID_TYPES)}."
        )
    return value


def build(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FeishuProvider:
    assert settings.feishu_app_id and settings.feishu_app_secret
    client = FeishuClient(
        app_id=settings.feishu_app_id,
        app_secret=settings.feishu_app_secret,
        base_url=api_base_url(settings.feishu_domain),
        user_id_type=_user_id_type(settings),
        transport=transport,
    )
    return FeishuProvider(client, app_token=settings.feishu_app_token)


def masked_credentials(settings: Settings) -> dict[str, str]:
    out = {
        "FEISHU_APP_ID": settings.feishu_app_id or "",
        "FEISHU_APP_SECRET": mask(settings.feishu_app_secret),
        "FEISHU_DOMAIN": settings.feishu_domain,
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

__all__ = ["SPEC", "FeishuClient", "FeishuProvider", "build"]
