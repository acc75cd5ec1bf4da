"""The ``local`` provider: an embedded table store that needs no account.

SQLite by default (one file, ANYTABLE_LOCAL_PATH); PostgreSQL when ANYTABLE_LOCAL_URL is set, for a
store shared by a team or by several server replicas.
"""

from __future__ import annotations

import httpx

from anytable.config import Settings
from anytable.errors import ConfigError
from anytable.masking import mask_url
from anytable.providers.local.backend import Backend
from anytable.providers.local.provider import LocalProvider
from anytable.providers.local.sqlite import SqliteBackend
from anytable.providers.registry import ProviderSpec


def backend(settings: Settings) -> Backend:
    """PostgreSQL when ANYTABLE_LOCAL_URL is set, else the SQLite file."""
    if not settings.local_url:
        return SqliteBackend(settings.local_db_path())
    try:
        from anytable.providers.local.postgres import PostgresBackend
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("psycopg"):
            raise ConfigError(
                "ANYTABLE_LOCAL_URL names a PostgreSQL store, which needs the postgres extra: "
                "pip install 'anytable-mcp[postgres]' (or unset ANYTABLE_LOCAL_URL to use SQLite)."
            ) from None
        raise
    return PostgresBackend(settings.local_url)


def _build(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> LocalProvider:
    return LocalProvider(backend(settings))


def _credentials(settings: Settings) -> dict[str, str]:
    if settings.local_url:
        return {"ANYTABLE_LOCAL_URL": mask_url(settings.local_url)}
    return {"ANYTABLE_LOCAL_PATH": str(settings.local_db_path())}


SPEC = ProviderSpec(
    id="local",
    title="local",
    required_env=(),
    enabled=lambda settings: True,
    build=_build,
    capabilities=LocalProvider.capabilities,
    masked_credentials=_credentials,
)

__all__ = ["SPEC", "LocalProvider"]
