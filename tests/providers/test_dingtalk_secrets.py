"""The app secret and the access tokens (v1.0 and legacy) never appear in a tool result, a tool
error or a log line, across a session with faults, token refreshes and errors that echo a token."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.masking import ScrubbingFormatter
from tests.providers.dingtalk_harness import (
    ADA,
    APP_KEY,
    APP_SECRET,
    make_emulator,
    on_request,
    rows,
    session,
)

pytestmark = pytest.mark.anyio


async def test_secrets_never_leave_the_server(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emu = make_emulator()
    seen: list[str] = []
    echo = {"on": False}

    async def echo_the_token(request: httpx.Request) -> httpx.Response | None:
        # A gateway that quotes the token it was given back in its error message.
        if echo["on"] and request.url.path.endswith("/records/list"):
            token = request.headers.get("x-acs-dingtalk-access-token", "")
            body = {
                "code": "invalidRequest.inputArgs.invalid",
                "message": f"bad request with {token}",
                "requestid": "R",
            }
            return httpx.Response(400, json=body)
        return None

    on_request(emu, echo_the_token)
    async with session(tmp_path, emu, DINGTALK_OPERATOR_ID="", DINGTALK_USER_ID=ADA[0]) as h:

        async def call(tool: str, **args: Any) -> Any:
            result = await h.client.call_tool(tool, h.args(**args))
            seen.append("".join(getattr(c, "text", "") for c in result.content))
            seen.append(json.dumps(result.structured_content, ensure_ascii=False))
            return result

        listed = await call("list_providers")
        creds = next(p for p in listed.structured_content["providers"] if p["id"] == "dingtalk")[
            "credentials"
        ]
        assert creds["DINGTALK_APP_SECRET"] == APP_SECRET[:4] + "****"
        assert creds["DINGTALK_APP_KEY"] == APP_KEY[:4] + "****"
        await call(
            "create_table",
            name="items",
            fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        )
        emu.faults.add("lost_response", match=r"POST .*/records$")
        emu.faults.add("transient", match=r"/records/list$")
        emu.faults.add("throttle", match=r"POST .*/records$")
        emu.clock.advance(7300)  # the token expires: fetched again mid-session
        created = await call("create_records", table="items", records=rows(230))
        assert not created.is_error and created.structured_content["created"] == 230
        await call("query_records", table="items", limit=500)
        assert (await call("create_records", table="items", records=[{"n": "many"}])).is_error
        assert (await call("list_tables", base="qnYnoSuchBase")).is_error
        echo["on"] = True
        echoed = await call("query_records", table="items")
        assert echoed.is_error and "bad request with" in echoed.content[0].text

    secrets = [APP_SECRET, *emu.tokens, *emu.legacy_tokens]
    assert len(emu.tokens) == 2 and len(emu.legacy_tokens) == 1  # the session did use them
    for text in seen:
        for secret in secrets:
            assert secret not in text
    scrubbing = ScrubbingFormatter("%(name)s %(message)s")
    for record in caplog.records:
        line = scrubbing.format(record)  # every log line leaves the process through this formatter
        raw = record.getMessage()
        for secret in secrets:
            assert secret not in line, line
            if record.name.startswith(("anytable.dingtalk", "anytable.http")):
                assert secret not in raw, raw  # the provider never even writes one
    assert any("retry" in r.getMessage() for r in caplog.records)  # the faults were logged
