"""The ``local`` provider: an embedded SQLite table store that needs no account."""

from __future__ import annotations

from anytable.providers.local.store import LocalProvider
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
