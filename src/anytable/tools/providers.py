"""list_providers."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult

from anytable.schemas.outputs import ProvidersOut
from anytable.server.registrar import Registrar
from anytable.server.results import run


def register(reg: Registrar) -> None:
    svc = reg.svc

    async def list_providers() -> Annotated[CallToolResult, ProvidersOut]:
        async def work() -> dict:
            return svc.list_providers()

        return await run("list_providers", work())

    reg.add(
        list_providers,
        "Providers: enabled, capabilities, masked credentials.",
        kind="read",
    )
