"""The ``gptbots`` provider: a GPTBots agent's database (enabled by GPTBOTS_API_KEY)."""

from __future__ import annotations

import httpx

from anytable.config import Settings
from anytable.providers.gptbots.provider import GPTBotsProvider
from anytable.providers.registry import ProviderSpec


def build(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> GPTBotsProvider:
    assert settings.gptbots_api_key is not None
    return GPTBotsProvider(
        key=settings.gptbots_api_key,
        endpoint=settings.gptbots_endpoint,
        agent_id=settings.gptbots_agent_id,
        tz=settings.tz(),
        transport=transport,
    )


SPEC = ProviderSpec(
    id="gptbots",
    title="GPTBots",
    required_env=("GPTBOTS_API_KEY",),
    enabled=lambda settings: bool(settings.gptbots_api_key),
    build=build,
    capabilities=GPTBotsProvider.capabilities,
    masked_credentials=lambda settings: {"GPTBOTS_API_KEY": "not set"},
)

__all__ = ["SPEC", "GPTBotsProvider"]
