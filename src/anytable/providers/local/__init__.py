"""The ``local`` provider: an embedded table store (SQLite by default) that needs no account."""

from __future__ import annotations

from anytable.providers.local.provider import LocalProvider
from anytable.providers.registry import ProviderSpec

SPEC = ProviderSpec(
    id="local",
    title="local",
    required_env=(),
    enabled=lambda settings: True,
    build=lambda settings, transport: LocalProvider(settings.local_db_path()),
    capabilities=LocalProvider.capabilities,
    masked_credentials=lambda settings: {"ANYTABLE_LOCAL_PATH": str(settings.local_db_path())},
)

__all__ = ["SPEC", "LocalProvider"]
