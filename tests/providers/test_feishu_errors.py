"""Every Feishu error code becomes a message that says what to do, with Feishu's code and log id."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.errors import ProviderError
from anytable.providers.feishu.errors import MESSAGES, Where, check
from tests.harness import serve
from tests.providers.feishu_harness import emulator, env

pytestmark = pytest.mark.anyio

# Every code of the reference's 错误码 tables (docs/reference/feishu-bitable-v1-reference.txt) ...
REFERENCE = [
    1254000, 1254001, 1254002, 1254003, 1254004, 1254005, 1254006, 1254007, 1254008, 1254009, 1254010,
    1254012, 1254013, 1254014, 1254015, 1254016, 1254018, 1254019, 1254020, 1254021, 1254022, 1254023,
    1254024, 1254026, 1254027, 1254028, 1254029, 1254030, 1254031, 1254032, 1254033, 1254034, 1254036,
    1254037, 1254038, 1254039, 1254040, 1254041, 1254042, 1254043, 1254044, 1254045, 1254047, 1254048,
    1254049, 1254050, 1254060, 1254061, 1254062, 1254063, 1254064, 1254065, 1254066, 1254067, 1254068,
    1254069, 1254070, 1254072, 1254080, 1254081, 1254082, 1254083, 1254084, 1254085, 1254086, 1254087,
    1254088, 1254089, 1254090, 1254091, 1254092, 1254093, 1254094, 1254095, 1254096, 1254100, 1254101,
    1254102, 1254103, 1254104, 1254105, 1254106, 1254107, 1254108, 1254109, 1254110, 1254111, 1254130,
    1254200, 1254290, 1254291, 1254301, 1254302, 1254303, 1254304, 1254606, 1254607, 1255001, 1255002,
    1255003, 1255004, 1255005, 1255006, 1255040,
]  # fmt: skip
# ... and the gateway and token codes of docs/provider-api-notes.md §2.1-2.2.
GATEWAY = [
    99991400,
    99991661,
    99991663,
    99991668,
    99991671,
    99991677,
    99991672,
    99991676,
    99991543,
    99992402,
    10014,
]
RETRIED = {
    1254290: "throttle",
    99991400: "throttle",
    1254291: "transient",
    1254607: "transient",
    1254036: "transient",
    1255040: "unknown_outcome",
    1255001: "unknown_outcome",
    1255002: "unknown_outcome",
    1254002: "unknown_outcome",
    1254200: "unknown_outcome",
}
AUTH = {99991661, 99991663, 99991668, 99991671, 99991677}
# What a message may point the caller at: an argument, a tool, a setting, or "call again".
ACTIONS = re.compile(
    r"\b(base|table|field|fields|view|name|options|values?|where|sort|limit|record ids|records|type|"
    r"list_tables|describe_table|query_records|get_records|create_table|create_view|FEISHU_[A-Z_]+|"
    r"call the tool again|report it|file_token|delete|upload|permission|collaborator|scope|"
    r"id you passed|remove|leave them out|feishu_read|feishu_update|feishu_delete|members|role)\b"
)
WHERE = Where(base="bascnX", table="Tasks (tblX)", field="fldX", view="vewX")


def answer(status: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", "X-Tt-Logid": "LOG123", **headers},
    )


def test_every_documented_code_has_its_own_message() -> None:
    assert set(REFERENCE) | set(GATEWAY) <= set(MESSAGES)


@pytest.mark.parametrize("code", REFERENCE + GATEWAY)
def test_messages_say_what_to_do_with_code_and_log_id(code: int) -> None:
    status = 429 if code == 99991400 else 200
    with pytest.raises(ProviderError) as info:
        check(
            answer(
                status, {"code": code, "msg": "SomeFeishuName", "data": {}, "error": {"log_id": "LOG456"}}
            ),
            WHERE,
        )
    error = info.value
    text = str(error)
    assert text.endswith(f"(feishu code {code}, request id LOG456)"), text
    assert ACTIONS.search(error.message), text
    assert "SomeFeishuName" not in text  # our own words, not Feishu's bare name
    expected = RETRIED.get(code, "auth" if code in AUTH else "fatal")
    assert error.kind == expected, (code, error.kind)


@pytest.mark.parametrize(
    ("code", "must_say"),
    [
        (1254040, ["'bascnX'", "app_token", "/base/", "FEISHU_APP_ID", "collaborator"]),
        (1254041, ["'Tasks (tblX)'", "list_tables"]),
        (1254043, ["record ids", "get_records"]),
        (1254045, ["describe_table"]),
        (1254103, ["20,000"]),
        (1254027, ["file_token", "upload"]),
        (1254302, ["FEISHU_APP_ID", "edit"]),
        (99991672, ["bitable:app", "scope"]),
        (1254066, ["open_id", "FEISHU_USER_ID_TYPE"]),
    ],
)
def test_key_messages_name_the_argument(code: int, must_say: list[str]) -> None:
    with pytest.raises(ProviderError) as info:
        check(answer(200, {"code": code, "msg": "x", "data": {}}), WHERE)
    for words in must_say:
        assert words in str(info.value), str(info.value)
    assert "request id LOG123" in str(info.value)  # the X-Tt-Logid header when the body has none


def test_throttle_reads_the_reset_header() -> None:
    with pytest.raises(ProviderError) as info:
        check(
            answer(
                429,
                {"code": 99991400, "msg": "request trigger frequency limit"},
                **{"x-ogw-ratelimit-reset": "3"},
            ),
            WHERE,
        )
    assert info.value.kind == "throttle" and info.value.retry_after == 3.0


def test_validation_errors_name_the_parameter() -> None:
    body = {
        "code": 99992402,
        "msg": "field validation failed",
        "error": {"field_violations": [{"field": "page_size", "description": "too big"}]},
    }
    with pytest.raises(ProviderError) as info:
        check(answer(400, body), WHERE)
    assert "page_size: too big" in str(info.value)


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "unknown_outcome"), (503, "unknown_outcome"), (404, "fatal")]
)
def test_answers_without_a_feishu_body(status: int, kind: str) -> None:
    response = httpx.Response(status, content=b"Service Unavailable", headers={"content-type": "text/plain"})
    with pytest.raises(ProviderError) as info:
        check(response, WHERE)
    assert info.value.kind == kind
    if status == 404:
        assert "FEISHU_DOMAIN" in str(info.value)


def test_unknown_codes_still_say_something_useful() -> None:
    with pytest.raises(ProviderError) as info:
        check(answer(200, {"code": 1254999, "msg": "NewThing"}), WHERE)
    assert "NewThing" in str(info.value) and "describe_table" in str(info.value)


async def test_tool_errors_carry_the_message_and_the_log_id(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        await h.call("create_table", name="E", fields=[{"name": "title", "type": "text"}])
        message = await h.fails("delete_records", table="E", record_ids=["recMissing001"])
        assert "get_records" in message and re.search(r"feishu code 1254043, request id \w+", message)
        message = await h.fails("list_tables", base="bascnNotThere0001")
        assert "'bascnNotThere0001'" in message and "/base/" in message
