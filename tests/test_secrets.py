"""No secret ever leaves the server: not in a tool result, an error, a log line or a traceback.

One server with every provider enabled (each on its emulator) goes through a session of reads,
writes, bad input, provider faults, an expired token and an unexpected crash. Every app secret,
API key and access token the emulators issued is then looked for in everything that left.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from anytable.config import Settings
from anytable.masking import ScrubbingFormatter
from anytable.server import build_server
from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu.oauth import FeishuOAuth
from tests.providers import dingtalk_harness, feishu_harness, feishu_user_harness, gptbots_harness

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("feishu_auth", ["tenant", "user"])
async def test_no_secret_leaves_the_server(tmp_path: Path, feishu_auth: str) -> None:
    dingtalk = dingtalk_harness.make_emulator()
    feishu = feishu_harness.emulator()
    gptbots = gptbots_harness.emulator()
    # As the user: signed in (tokens in a sign-in file), the base shared with them; the tokens are
    # refreshed once the clock moves on, and a revoked sign-in fails with its own message.
    oauth = FeishuOAuth(feishu)
    oauth.share(feishu_harness.APP_TOKEN, feishu_user_harness.ADA)
    store = tmp_path / "credentials.json"
    if feishu_auth == "user":
        feishu_user_harness.store_session(oauth, store)
    emulators = {"dingtalk": dingtalk, "feishu": feishu, "gptbots": gptbots}
    env = {
        **dingtalk_harness.env(),
        **feishu_harness.env(),
        **gptbots_harness.env(),
        "ANYTABLE_LOCAL_PATH": str(tmp_path / "s.sqlite"),
        "ANYTABLE_TIMEZONE": "Asia/Shanghai",
        "FEISHU_AUTH": feishu_auth,
        "ANYTABLE_TOKEN_STORE": str(store),
    }
    secrets = {dingtalk_harness.APP_SECRET, feishu_harness.APP_SECRET, gptbots_harness.KEY}

    def transports(pid: str) -> httpx.AsyncBaseTransport | None:
        return EmulatorTransport(emulators[pid]) if pid in emulators else None

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    seen: list[str] = []
    server, svc = build_server(Settings.from_env(env), transports)
    try:
        async with Client(server) as client:

            async def call(tool: str, **args: Any) -> Any:
                result = await client.call_tool(tool, args)
                seen.append("".join(getattr(c, "text", "") for c in result.content))
                seen.append(json.dumps(result.structured_content))
                return result

            providers = (await call("list_providers")).structured_content["providers"]
            shown = {p["id"]: p["credentials"] for p in providers}
            assert shown["feishu"]["FEISHU_APP_SECRET"] == feishu_harness.APP_SECRET[:4] + "****"
            assert shown["gptbots"]["GPTBOTS_API_KEY"] == gptbots_harness.KEY[:4] + "****"
            for pid in ("dingtalk", "feishu", "gptbots"):
                fields = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
                await call("create_table", provider=pid, name=f"secret_{pid}", fields=fields)
                await call(
                    "create_records", provider=pid, table=f"secret_{pid}", records=[{"title": "a", "n": 1}]
                )
                await call("query_records", provider=pid, table=f"secret_{pid}")
                bad = await call("create_records", provider=pid, table=f"secret_{pid}", records=[{"n": "x"}])
                assert bad.is_error
                emulators[pid].faults.add("transient")
                emulators[pid].faults.add("throttle")
                await call("query_records", provider=pid, table=f"secret_{pid}")
            # Expired tokens are fetched again; the new ones must not leak either.
            dingtalk.clock.advance(8000)
            feishu.clock.advance(8000)
            await call("list_tables", provider="dingtalk")
            await call("list_tables", provider="feishu")
            if feishu_auth == "user":
                listed = (await call("list_providers")).structured_content["providers"]
                identity = next(p for p in listed if p["id"] == "feishu")["credentials"]["FEISHU_AUTH"]
                assert "signed in as Ada" in identity
                assert oauth.token_calls == ["refresh_token"]
                oauth.revoke(feishu_user_harness.ADA)
                feishu.clock.advance(8000)
                revoked = await call("list_tables", provider="feishu")
                assert revoked.is_error and "anytable login feishu" in revoked.content[0].text
            # A crash whose message carries the secret: the tool error and the logged traceback are scrubbed.
            local = svc.providers["local"]

            async def crash(base: str) -> Any:
                raise RuntimeError(f"boom with {feishu_harness.APP_SECRET} inside")

            local.list_tables = crash  # type: ignore[method-assign]
            crashed = await call("list_tables", provider="local")
            assert crashed.is_error and "boom with feis****" in crashed.content[0].text
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)

    secrets |= set(dingtalk.tokens) | set(dingtalk.legacy_tokens) | set(feishu.tokens) | oauth.secrets()
    if feishu_auth == "user":
        assert len(oauth.access) == 2 and len(oauth.refresh_tokens) == 2  # signed in, then refreshed
    assert len(secrets) >= 5  # the app secrets and key, and at least one token per token provider
    logged = stream.getvalue()
    assert "Traceback" in logged  # the crash was logged with its traceback...
    for secret in secrets:
        for text in [*seen, logged]:
            assert secret not in text  # ...and nothing anywhere shows a secret whole
    assert "feis****" in logged
