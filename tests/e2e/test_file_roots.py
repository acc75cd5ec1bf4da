"""Path confinement through the real MCP client: the client's roots when it declares them (asked
with roots/list), else ANYTABLE_FILE_ROOTS; `..`, paths elsewhere, links leading out and no roots
at all are refused with an error naming the allowed folders and how to set them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ListRootsResult, Root

from anytable.config import Settings
from anytable.server import build_server

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def session(tmp_path: Path, env: dict[str, str], roots: list[Path] | None) -> AsyncIterator[Any]:
    settings = Settings.from_env({"ANYTABLE_LOCAL_PATH": str(tmp_path / "local.sqlite"), **env})
    server, _ = build_server(settings)
    asked: list[int] = []

    async def list_roots(context: Any) -> ListRootsResult:
        asked.append(1)
        return ListRootsResult(roots=[Root(uri=p.as_uri(), name=p.name) for p in roots or []])

    kwargs: dict[str, Any] = {"list_roots_callback": list_roots} if roots is not None else {}
    async with Client(server, raise_exceptions=True, **kwargs) as client:

        async def call(tool: str, **args: Any) -> tuple[bool, Any]:
            result = await client.call_tool(tool, args)
            text = "".join(getattr(c, "text", "") for c in result.content)
            return bool(result.is_error), (text if result.is_error else json.loads(text))

        await call("create_table", name="t", fields=[{"name": "title", "type": "text"}])
        await call("create_records", table="t", records=[{"title": "一"}, {"title": "二"}])
        call.asked = asked  # type: ignore[attr-defined]
        yield call


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    allowed = tmp_path / "allowed"
    client_root = tmp_path / "client_root"
    outside = tmp_path / "outside"
    for folder in (allowed, client_root, outside):
        folder.mkdir()
    (allowed / "link_out").symlink_to(outside)
    (allowed / "secret.csv").symlink_to(outside / "secret.csv")
    (outside / "secret.csv").write_text("title\nleaked\n", encoding="utf-8")
    return {"allowed": allowed, "client_root": client_root, "outside": outside}


async def test_env_roots_without_client_roots(tmp_path: Path, layout: dict[str, Path]) -> None:
    allowed, outside = layout["allowed"], layout["outside"]
    async with session(tmp_path, {"ANYTABLE_FILE_ROOTS": str(allowed)}, roots=None) as call:
        error, out = await call("export_records", table="t", path="a.csv")
        assert not error and out["path"] == str(allowed / "a.csv") and out["records"] == 2
        refused = [
            ("export_records", {"path": "../outside/b.csv"}, "'..'"),
            ("export_records", {"path": str(outside / "b.csv")}, "outside the allowed folders"),
            ("export_records", {"path": "link_out/b.csv"}, "a link leads out"),
            ("import_records", {"path": "secret.csv"}, "a link leads out"),
            ("export_records", {"path": "nofolder/b.csv"}, "does not exist"),
            ("download_attachments", {"record_id": "r", "field": "title", "dir": str(outside)}, "outside"),
        ]
        for tool, args, expected in refused:
            error, message = await call(tool, table="t", **args)
            assert error and expected in message, message
            assert str(allowed) in message and "ANYTABLE_FILE_ROOTS" in message, message
        assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]  # nothing written outside
        error, out = await call("query_records", table="t")
        assert len(out["records"]) == 2  # nothing imported from the link


async def test_client_roots_win_over_env(tmp_path: Path, layout: dict[str, Path]) -> None:
    allowed, client_root = layout["allowed"], layout["client_root"]
    env = {"ANYTABLE_FILE_ROOTS": str(allowed)}
    async with session(tmp_path, env, roots=[client_root]) as call:
        error, out = await call("export_records", table="t", path="a.jsonl")
        assert not error and out["path"] == str(client_root / "a.jsonl")
        assert call.asked  # the server asked the client with roots/list
        error, message = await call("export_records", table="t", path=str(allowed / "b.csv"))
        assert error and "outside the allowed folders" in message and "client roots" in message
        assert str(client_root) in message
        error, out = await call("import_records", table="t", path="a.jsonl")
        assert not error and out["created"] == 2


async def test_no_roots_at_all(tmp_path: Path) -> None:
    async with session(tmp_path, {}, roots=[]) as call:  # declares roots but sends none
        error, message = await call("export_records", table="t", path=str(tmp_path / "a.csv"))
        assert error and "no folder is allowed" in message and "ANYTABLE_FILE_ROOTS" in message
    assert not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_client_roots_over_stdio(tmp_path: Path, mode: str) -> None:
    """The roots request crosses a real transport: mid-call (2025-11-25) or as an input-required
    round (2026-07-28)."""
    import sys

    import anyio
    from mcp import StdioServerParameters

    from tests.e2e.test_transports import server_env

    root = tmp_path / "client_root"
    root.mkdir()

    async def list_roots(context: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=root.as_uri(), name="root")])

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "anytable", "serve"], env=server_env(tmp_path)
    )
    with anyio.fail_after(60):
        async with Client(params, mode=mode, list_roots_callback=list_roots) as client:  # type: ignore[arg-type]
            await client.call_tool(
                "create_table", {"name": "t", "fields": [{"name": "title", "type": "text"}]}
            )
            await client.call_tool("create_records", {"table": "t", "records": [{"title": "一"}]})
            result = await client.call_tool("export_records", {"table": "t", "path": "t.csv"})
            assert not result.is_error, result.content
            assert result.structured_content["path"] == str(root.resolve() / "t.csv")
            refused = await client.call_tool(
                "export_records", {"table": "t", "path": str(tmp_path / "x.csv")}
            )
            assert refused.is_error and "outside the allowed folders" in refused.content[0].text
    assert (root / "t.csv").read_text(encoding="utf-8-sig") == "title\n一\n"
