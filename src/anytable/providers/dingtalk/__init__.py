"""The ``dingtalk`` provider: DingTalk AI Table (Notable) open API v1.0.

Enabled by DINGTALK_APP_KEY and DINGTALK_APP_SECRET; the operator comes from DINGTALK_OPERATOR_ID
(a unionId) or DINGTALK_USER_ID (looked up); DINGTALK_BASE_ID is the default base (an id or an AI
table link); DINGTALK_API_URL / DINGTALK_OAPI_URL override the hosts.
"""

from __future__ import annotations

from anytable.providers.dingtalk.provider import DingTalkProvider, masked_credentials
from anytable.providers.dingtalk.urls import parse_url
from anytable.providers.registry import ProviderSpec

SPEC = ProviderSpec(
    id="dingtalk",
    title="DingTalk",
    required_env=("DINGTALK_APP_KEY", "DINGTALK_APP_SECRET"),
    enabled=lambda settings: bool(settings.dingtalk_app_key and settings.dingtalk_app_secret),
    build=lambda settings, transport: DingTalkProvider(settings, transport),
    capabilities=DingTalkProvider.capabilities,
    parse_url=parse_url,
    masked_credentials=masked_credentials,
)

__all__ = ["SPEC", "DingTalkProvider"]
