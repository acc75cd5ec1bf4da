"""One harness per provider, so the contract suite runs the same scenarios over each.

A harness builds the server the way a user would run it (Settings from the provider's
environment variables), with the provider's HTTP going in-process to its emulator, and drives it
through the official MCP client. Each provider module adds its harness to ``HARNESSES``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from anytable.config import Settings
from anytable.core.service import Anytable
from anytable.server import build_server
from tests.emulators.base import EmulatorBase, EmulatorTransport

TZ = "Asia/Shanghai"


class ToolFailed(Exception):
    """A tool answered isError: true; ``str()`` is the message the agent saw."""


@dataclass
class Harness:
    provider: str
    client: Client
    svc: Anytable
    base: str | None
    emulator: EmulatorBase | None = None
    extra_args: dict[str, Any] = field(default_factory=dict)
    progress: list[tuple[float, float | None, str | None]] = field(default_factory=list)
    users: list[str] = field(default_factory=lambda: ["u_ada", "u_bob"])  # user ids the provider knows

    @property
    def caps(self) -> dict[str, Any]:
        return self.svc.providers[self.provider].capabilities.model_dump()

    def supports_type(self, type_: str) -> bool:
        return type_ in self.caps["field_types"]

    def args(self, **kwargs: Any) -> dict[str, Any]:
        out = {"provider": self.provider, **self.extra_args}
        if self.base is not None:
            out["base"] = self.base
        out.update({k: v for k, v in kwargs.items() if v is not None})
        return out

    async def call(self, tool: str, **kwargs: Any) -> dict[str, Any]:
        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            self.progress.append((done, total, message))

        result = await self.client.call_tool(tool, self.args(**kwargs), progress_callback=on_progress)
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise ToolFailed(text)
        assert result.structured_content is not None, text
        # The text form is the same data, compact.
        assert json.loads(text) == result.structured_content
        return result.structured_content

    async def fails(self, tool: str, **kwargs: Any) -> str:
        try:
            await self.call(tool, **kwargs)
        except ToolFailed as exc:
            return str(exc)
        raise AssertionError(f"{tool} was expected to fail")

    async def all_records(self, table: str, **query: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await self.call("query_records", table=table, limit=500, cursor=cursor, **query)
            out.extend(page["records"])
            cursor = page["next_cursor"]
            if cursor is None:
                return out


HarnessFactory = Callable[[Path], Any]  # tmp_path -> async context manager yielding Harness
HARNESSES: dict[str, HarnessFactory] = {}


def register(name: str) -> Callable[[HarnessFactory], HarnessFactory]:
    def deco(factory: HarnessFactory) -> HarnessFactory:
        HARNESSES[name] = factory
        return factory

    return deco


@asynccontextmanager
async def serve(
    provider: str,
    env: dict[str, str],
    tmp_path: Path,
    *,
    emulator: EmulatorBase | None = None,
    base: str | None = None,
    extra_args: dict[str, Any] | None = None,
    users: list[str] | None = None,
) -> AsyncIterator[Harness]:
    """A server built from ``env`` whose HTTP goes to ``emulator``, and an MCP client on it."""
    settings = Settings.from_env(
        {"ANYTABLE_LOCAL_PATH": str(tmp_path / "local.sqlite"), "ANYTABLE_TIMEZONE": TZ, **env}
    )

    def transports(pid: str) -> httpx.AsyncBaseTransport | None:
        return EmulatorTransport(emulator) if emulator is not None and pid == provider else None

    server, svc = build_server(settings, transports)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(Client(server, raise_exceptions=True))
        harness = Harness(provider, client, svc, base, emulator, extra_args or {})
        if users:
            harness.users = users
        yield harness


@register("local")
def local_harness(tmp_path: Path) -> Any:
    return serve("local", {}, tmp_path, base="contract")


@register("local-postgres")
@asynccontextmanager
async def local_postgres_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """``local`` with its store on PostgreSQL (ANYTABLE_LOCAL_URL): the same contract as on SQLite."""
    from tests.pg import fresh_store

    async with (
        fresh_store() as url,
        serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path, base="contract") as h,
    ):
        yield h
