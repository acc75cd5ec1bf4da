"""list_providers."""

from __future__ import annotations

from typing import Any

from anytable.core.service import Anytable
from anytable.schemas.outputs import ProvidersOut
from anytable.tools.toolset import Tool, Toolset


async def list_providers(svc: Anytable) -> dict[str, Any]:
    return svc.list_providers()


TOOLSET = Toolset(
    "providers",
    (
        Tool(
            list_providers,
            ProvidersOut,
            "Providers: enabled, capabilities, masked credentials.",
            kind="read",
        ),
    ),
)
