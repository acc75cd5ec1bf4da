"""Which providers exist, which are enabled, and how to build them from the settings.

Each provider package exposes a ``SPEC`` (:class:`ProviderSpec`). A provider is enabled when its
credentials are present; ``local`` always is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from anytable.config import Settings
from anytable.providers.base import Capabilities, Provider

TransportFactory = Callable[[str], httpx.AsyncBaseTransport | None]  # provider id -> transport (tests)


@dataclass(frozen=True)
class ProviderSpec:
    id: str
    title: str
    required_env: tuple[str, ...]  # variables that enable it (all needed)
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings, httpx.AsyncBaseTransport | None], Provider]
    capabilities: Capabilities
    parse_url: Callable[[str], tuple[str, str | None, str | None] | None] = lambda url: None
    masked_credentials: Callable[[Settings], dict[str, str]] = lambda s: {}


PROVIDER_MODULES = {
    "local": "anytable.providers.local",
    "dingtalk": "anytable.providers.dingtalk",
    "feishu": "anytable.providers.feishu",
    "gptbots": "anytable.providers.gptbots",
}


def provider_specs() -> dict[str, ProviderSpec]:
    """Every provider this build has (a provider whose package is missing is left out)."""
    specs: dict[str, ProviderSpec] = {}
    for pid, module in PROVIDER_MODULES.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        specs[pid] = mod.SPEC
    return specs


def build_providers(settings: Settings, transports: TransportFactory | None = None) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for pid, spec in provider_specs().items():
        if spec.enabled(settings):
            providers[pid] = spec.build(settings, transports(pid) if transports else None)
    return providers
