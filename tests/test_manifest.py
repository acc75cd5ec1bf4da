"""manifest.json (MCPB desktop bundle) stays true to the server: its tools and every variable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mcp import Client

from anytable.config import ENV_VARS, SECRET_VARS, Settings
from anytable.server import build_server

pytestmark = pytest.mark.anyio
MANIFEST_PATH = Path(__file__).parents[1] / "manifest.json"
MANIFEST = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
NOT_IN_BUNDLE = {
    "ANYTABLE_LOCAL_URL",  # PostgreSQL needs the postgres extra, which the bundle does not carry
    "ANYTABLE_LOCAL_POOL_SIZE",  # likewise
    "DINGTALK_API_URL",
    "DINGTALK_OAPI_URL",
    "ANYTABLE_PROVIDER",
    "ANYTABLE_LOG_LEVEL",
    "FEISHU_USER_ID_TYPE",
    "ANYTABLE_HTTP_TOKEN",  # HTTP serving only; a bundle speaks stdio
    "ANYTABLE_ALLOWED_HOSTS",
    "FEISHU_REDIRECT_PORT",  # for `anytable login feishu`, which the bundle does not run
    "ANYTABLE_TOKEN_STORE",
    "ANYTABLE_CALL_TIMEOUT",  # a tuning knob with a safe default, like the log level
}


async def test_manifest_tools_equal_the_servers(tmp_path: Path) -> None:
    """ANYTABLE_UPDATE_SNAPSHOTS=1 rewrites the manifest's tool list, as it does the tool snapshots."""
    server, _ = build_server(Settings(local_path=str(tmp_path / "m.sqlite")))
    async with Client(server) as client:
        tools = [{"name": t.name, "description": t.description} for t in (await client.list_tools()).tools]
    if os.environ.get("ANYTABLE_UPDATE_SNAPSHOTS") == "1":
        MANIFEST["tools"] = tools
        MANIFEST_PATH.write_text(json.dumps(MANIFEST, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert MANIFEST["tools"] == tools


def test_every_variable_is_a_user_config_entry_and_secrets_are_sensitive() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    config = MANIFEST["user_config"]
    for var, attr in ENV_VARS.items():
        if var in NOT_IN_BUNDLE:
            continue
        key = "local_path" if attr == "local_path" else attr
        assert env[var] == f"${{user_config.{key}}}", var
        assert config[key]["required"] is False
        assert config[key].get("sensitive", False) is (var in SECRET_VARS), var


def test_version_matches_the_package() -> None:
    from anytable import __version__

    assert MANIFEST["version"] == __version__
