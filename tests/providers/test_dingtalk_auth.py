"""Who the server is to DingTalk: the access token (cached, refreshed on expiry or refusal, never per
call) and the operator (DINGTALK_OPERATOR_ID, or DINGTALK_USER_ID looked up once)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.providers.dingtalk_harness import (
    ADA,
    BASE_ID,
    BOB,
    emulator,
    make_emulator,
    numbers_table,
    on_request,
    provider,
    rows,
    session,
    stored,
)

pytestmark = pytest.mark.anyio

TOKEN = r"/v1.0/oauth2/accessToken$"


async def test_token_is_fetched_once_for_many_calls(tmp_path: Path) -> None:
    async with session(tmp_path) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(250))
        await h.all_records("items")
        await h.call("describe_table", table="items")
        assert emulator(h).count("POST", TOKEN) == 1
        assert provider(h).api.auth.tokens.fetches == 1
        # every notable call carried the token and the operator
        assert emulator(h).count("GET", r"/sheets") >= 2


@pytest.mark.parametrize("status", [400, 401])
async def test_token_expiring_mid_job_is_fetched_again_once(tmp_path: Path, status: int) -> None:
    emu = make_emulator(expired_token_status=status)
    inserts = 0

    async def expire_before_second_batch(request: httpx.Request) -> None:
        nonlocal inserts
        if request.method == "POST" and request.url.path.endswith("/records"):
            inserts += 1
            if inserts == 2:
                emu.clock.advance(7300)  # the token DingTalk gave has expired; ours still looks fresh

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        on_request(emu, expire_before_second_batch)
        created = await h.call("create_records", table="items", records=rows(250))
        assert created["created"] == 250
        records = stored(h)
        assert [int(r["fields"]["n"]) for r in records] == list(range(250))  # each once, in order
        assert created["ids"] == [r["id"] for r in records]
        assert emu.count("POST", TOKEN) == 2  # fetched again once, not per call
        assert emu.count("POST", r"/records$") == 4  # the refused batch was sent again, once


async def test_token_refused_twice_is_a_clear_error(tmp_path: Path) -> None:
    emu = make_emulator()

    async def refuse_every_token(request: httpx.Request) -> httpx.Response | None:
        if "/notable/" in request.url.path:
            return httpx.Response(
                400,
                json={"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "R1"},
            )
        return None

    async with session(tmp_path, emu) as h:
        on_request(emu, refuse_every_token)
        message = await h.fails("list_tables")
        assert "DINGTALK_APP_KEY" in message and "InvalidAuthentication" in message and "R1" in message
        assert emu.count("POST", TOKEN) == 2  # the first token, and one new one


async def test_wrong_app_secret(tmp_path: Path) -> None:
    async with session(tmp_path, DINGTALK_APP_SECRET="dingWRONGsecret0000") as h:
        message = await h.fails("list_tables")
        assert "DINGTALK_APP_KEY and DINGTALK_APP_SECRET" in message
        assert "dingWRONGsecret0000" not in message


async def test_operator_id_goes_on_every_call(tmp_path: Path) -> None:
    seen: list[str | None] = []
    emu = make_emulator()

    async def record_operator(request: httpx.Request) -> None:
        if "/notable/" in request.url.path:
            seen.append(request.url.params.get("operatorId"))

    on_request(emu, record_operator)
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(3))
        await h.all_records("items")
    assert seen and set(seen) == {ADA[1]}


async def test_user_id_is_resolved_once_to_a_union_id(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu, DINGTALK_OPERATOR_ID="", DINGTALK_USER_ID=BOB[0]) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(2))
        await h.call("list_tables")
        assert emu.count("GET", r"^/gettoken$") == 1
        assert emu.count("POST", r"^/topapi/v2/user/get$") == 1
        assert {r["createdBy"]["unionId"] for r in stored(h)} == {BOB[1]}  # acting as Bob


async def test_union_id_fallback_when_unionid_is_empty(tmp_path: Path) -> None:
    emu = make_emulator(empty_unionid=True)  # exclusive-account orgs: only union_id is filled (skill)
    async with session(tmp_path, emu, DINGTALK_OPERATOR_ID="", DINGTALK_USER_ID=ADA[0]) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(1))
        assert stored(h)[0]["createdBy"] == {"unionId": ADA[1]}


async def test_unknown_user_id(tmp_path: Path) -> None:
    async with session(tmp_path, DINGTALK_OPERATOR_ID="", DINGTALK_USER_ID="nobody42") as h:
        message = await h.fails("list_tables")
        assert "DINGTALK_USER_ID" in message and "DINGTALK_OPERATOR_ID" in message


async def test_missing_operator_names_both_variables(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu, DINGTALK_OPERATOR_ID="") as h:
        listed = await h.call("list_providers")
        entry = next(p for p in listed["providers"] if p["id"] == "dingtalk")
        assert entry["enabled"] is True
        message = await h.fails("list_tables")
        assert "DINGTALK_OPERATOR_ID" in message and "DINGTALK_USER_ID" in message
        assert not [r for r in emu.requests if "/notable/" in r[1]]  # nothing was sent


async def test_a_user_id_given_as_operator_id(tmp_path: Path) -> None:
    async with session(tmp_path, DINGTALK_OPERATOR_ID=ADA[0]) as h:  # a userId, not a unionId
        message = await h.fails("list_tables")
        assert "unionId" in message and "DINGTALK_USER_ID" in message and "paramError-operatorId" in message


async def test_operator_who_cannot_see_the_base(tmp_path: Path) -> None:
    emu = make_emulator()
    emu.add_user("carol01", "unionCarol03", "Carol")
    async with session(tmp_path, emu, DINGTALK_OPERATOR_ID="unionCarol03") as h:
        message = await h.fails("list_tables")
        assert BASE_ID in message and "member" in message and "invalidRequest.document.notFound" in message
