"""The ``dingtalk`` provider: DingTalk AI Table (Notable) open API v1.0.

Enabled by DINGTALK_APP_KEY and DINGTALK_APP_SECRET; the operator comes from DINGTALK_OPERATOR_ID
(a unionId) or DINGTALK_USER_ID (looked up); DINGTALK_BASE_ID is the default base (an id or an AI
table link); DINGTALK_API_URL / DINGTALK_OAPI_URL override the hosts.

``provider`` (the Provider), ``api`` (endpoints, one call path), ``auth`` (token and operator),
``errors``, ``values``, ``fields``, ``filters``, ``urls``.
"""

from __future__ import annotations

from anytable.providers.dingtalk.provider import DingTalkProvider

__all__ = ["DingTalkProvider"]
