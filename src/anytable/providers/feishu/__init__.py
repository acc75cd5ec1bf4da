"""The ``feishu`` provider: Feishu and Lark Bitable (the same API on open.feishu.cn and
open.larksuite.com, or a private deployment's host). Enabled by FEISHU_APP_ID and FEISHU_APP_SECRET.

``provider`` (the Provider), ``api`` (endpoints, one call path), ``errors``, ``values``, ``fields``,
``filters``, ``urls``; the feishu_* tool group's work in ``admin`` (endpoints in ``admin_api``,
view and form settings in ``admin_views``), ``roles`` and ``viewfilter``.
"""

from __future__ import annotations

from anytable.providers.feishu.api import FeishuApi
from anytable.providers.feishu.provider import FeishuProvider

__all__ = ["FeishuApi", "FeishuProvider"]
