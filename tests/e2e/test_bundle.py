"""The desktop bundle as a host installs it: the packed .mcpb unpacked into an empty folder and
started exactly as its manifest says (``uv`` server type: the host's uv installs Python and the
dependencies from pyproject.toml), then driven over stdio by the official client.

CI packs the bundle and names it in ANYTABLE_BUNDLE (see .ci/run); without it this test is
skipped, since packing needs the MCPB CLI from npm and uv needs the package index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio
BUNDLE = os.environ.get("ANYTABLE_BUNDLE")


def substitute(value: str, dirname: Path, user_config: dict[str, str]) -> str:
    """What a host does to mcp_config: ``${__dirname}`` and ``${user_config.KEY}`` filled in."""
    value = value.replace("${__dirname}", str(dirname))
    return re.sub(r"\$\{user_config\.(\w+)\}", lambda m: user_config.get(m.group(1), ""), value)


@pytest.mark.skipif(not BUNDLE, reason="set ANYTABLE_BUNDLE to a packed .mcpb (CI does)")
async def test_the_packed_bundle_runs_as_its_manifest_says(tmp_path: Path) -> None:
    assert BUNDLE
    install = tmp_path / "extension"
    install.mkdir()
    with zipfile.ZipFile(BUNDLE) as archive:
        names = archive.namelist()
        archive.extractall(install)
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".ci/", ".venv/", "lib/", "server/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".sqlite")]
    manifest: dict[str, Any] = json.loads((install / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["server"]["type"] == "uv" and (install / "pyproject.toml").is_file()
    assert (install / manifest["icon"]).read_bytes().startswith(b"\x89PNG")
    assert (install / manifest["server"]["entry_point"]).is_file()

    config = manifest["server"]["mcp_config"]
    user_config = {"local_path": str(tmp_path / "data" / "tables.sqlite"), "timezone": "Asia/Shanghai"}
    command = shutil.which(substitute(config["command"], install, user_config))
    assert command, f"{config['command']} is not on PATH"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "UV_NATIVE_TLS", "SSL_CERT_FILE")}
    env.update({k: substitute(v, install, user_config) for k, v in config.get("env", {}).items()})
    params = StdioServerParameters(
        command=command,
        args=[substitute(a, install, user_config) for a in config["args"]],
        env=env,
        cwd=str(tmp_path),
    )
    with anyio.fail_after(300):  # the first start installs the dependencies
        async with Client(params, mode="legacy") as client:
            tools = (await client.list_tools()).tools
            providers = await client.call_tool("list_providers", {})
    assert [{"name": t.name, "description": t.description} for t in tools] == manifest["tools"]
    assert not providers.is_error
    enabled = [p["id"] for p in providers.structured_content["providers"] if p["enabled"]]
    assert enabled == ["local"]  # unset user_config entries enable nothing
