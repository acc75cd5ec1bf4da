"""Which providers exist, which are enabled, and how to build them from the settings.

A provider's class is its descriptor (``anytable.providers.base.Provider``): it says which
variables enable it, how it is built, its masked credentials and its share links. A provider is
enabled when its credentials are present; ``local`` always is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import httpx

from anytable.config import Settings
from anytable.providers.base import Provider

TransportFactory = Callable[[str], httpx.AsyncBaseTransport | None]  # provider id -> transport (tests)

PROVIDER_CLASSES = {
    "local": "anytable.providers.local:LocalProvider",
    "dingtalk": "anytable.providers.dingtalk:DingTalkProvider",
    "feishu": "anytable.providers.feishu:FeishuProvider",
    "gptbots": "anytable.providers.gptbots:GPTBotsProvider",
}


def provider_classes() -> dict[str, type[Provider]]:
    """Every provider this build has (a provider whose package is missing is left out)."""
    classes: dict[str, type[Provider]] = {}
    for pid, where in PROVIDER_CLASSES.items():
        module, name = where.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        cls: type[Provider] = getattr(mod, name)
        classes[pid] = cls
    return classes


def build_providers(settings: Settings, transports: TransportFactory | None = None) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for pid, cls in provider_classes().items():
        if cls.enabled(settings):
            providers[pid] = cls.from_settings(settings, transports(pid) if transports else None)
    return providers
