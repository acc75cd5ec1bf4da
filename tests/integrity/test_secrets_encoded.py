"""A secret is masked in every encoded form it can take (raw, percent-encoded, JSON-escaped,
base64 of id:secret), also when a service echoes the request in its error (issue 11)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from anytable.config import Settings
from anytable.masking import ScrubbingFormatter, scrub
from tests.harness import serve
from tests.providers.dingtalk_harness import ADA, APP_KEY, env, make_emulator, on_request

pytestmark = pytest.mark.anyio

NASTY = 'Ab+c/d=e"f\\g h-0123456789xyz'


def forms(secret: str, user: str) -> list[str]:
    pair = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(json.dumps(secret))[1:-1],
        pair,
        pair.rstrip("="),
    ]


def test_every_encoded_form_is_masked() -> None:
    Settings(dingtalk_app_key="dingkey01", dingtalk_app_secret=NASTY)
    for form in forms(NASTY, "dingkey01"):
        out = scrub(f"echo [{form}] end")
        assert form not in out and "****" in out, (form, out)
    # an unregistered secret after a secret-looking parameter, percent-encoded
    assert "Zz%2Bsecret" not in scrub("GET /gettoken?appsecret=Zz%2Bsecretvalue99")


async def test_dingtalk_secret_echoed_in_every_form_never_reaches_the_agent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = make_emulator()
    emu.apps = {APP_KEY: NASTY}

    async def echo(request: httpx.Request) -> httpx.Response | None:
        # A gateway that quotes the whole request (URL, body) back in its error.
        if request.url.path.endswith("/gettoken") or request.url.path.endswith("/accessToken"):
            text = f"{request.url} {request.content.decode()} {request.url.query.decode()}"
            return httpx.Response(
                400,
                json={"code": "Forbidden.AccessDenied", "message": text, "errcode": 40089, "errmsg": text},
            )
        return None

    on_request(emu, echo)
    variables = {**env(DINGTALK_APP_SECRET=NASTY), "DINGTALK_USER_ID": ADA[0]}
    variables.pop("DINGTALK_OPERATOR_ID")
    async with serve("dingtalk", variables, tmp_path, emulator=emu) as h:
        result = await h.client.call_tool("list_tables", h.args())
    fmt = ScrubbingFormatter()  # what the server's stderr handler writes
    seen = "".join(getattr(c, "text", "") for c in result.content)
    seen += "\n".join(fmt.format(r) for r in caplog.records)
    assert result.is_error
    for form in forms(NASTY, APP_KEY):
        assert form not in seen, form
