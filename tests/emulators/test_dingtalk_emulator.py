"""The DingTalk emulator answers as docs/provider-api-notes.md section 1 and the DingTalk pages say."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.emulators.base import EmulatorTransport
from tests.emulators.dingtalk import DingTalkEmulator

pytestmark = pytest.mark.anyio

API = "https://api.dingtalk.com"
OAPI = "https://oapi.dingtalk.com"
KEY, SECRET = "dingkey", "dingsecret"
BASE = "qnYbase0001"
ALICE, BOB, CAROL = "unionAlice", "unionBob", "unionCarol"
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
CST = timezone(timedelta(hours=8))

FIELDS = [
    {"name": "Title", "type": "text"},
    {"name": "Count", "type": "number"},
    {"name": "Status", "type": "singleSelect", "property": {"choices": [{"name": "todo"}, {"name": "done"}]}},
    {"name": "Tags", "type": "multipleSelect", "property": {"choices": [{"name": "a"}, {"name": "b"}]}},
    {"name": "Due", "type": "date", "property": {"formatter": "YYYY-MM-DD HH:mm"}},
    {"name": "Owner", "type": "user"},
    {"name": "Dept", "type": "department"},
    {"name": "Site", "type": "url"},
    {"name": "Files", "type": "attachment"},
    {"name": "Done", "type": "checkbox"},
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_emu(**kw: Any) -> DingTalkEmulator:
    emu = DingTalkEmulator(app_key=KEY, app_secret=SECRET, **kw)
    emu.add_user("alice01", ALICE, "Alice")
    emu.add_user("bob01", BOB, "Bob")
    emu.add_user("carol01", CAROL, "Carol")
    emu.add_base(BASE, name="Plans", members=[ALICE, BOB])
    return emu


@pytest.fixture
def emu() -> DingTalkEmulator:
    return make_emu()


def client(emu: DingTalkEmulator, base_url: str = API) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=EmulatorTransport(emu), base_url=base_url)


async def get_token(c: httpx.AsyncClient) -> str:
    r = await c.post("/v1.0/oauth2/accessToken", json={"appKey": KEY, "appSecret": SECRET})
    assert r.status_code == 200, r.text
    assert r.json()["expireIn"] == 7200
    return r.json()["accessToken"]


@pytest.fixture
async def c(emu: DingTalkEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client(emu) as cl:
        cl.headers["x-acs-dingtalk-access-token"] = await get_token(cl)
        cl.params = cl.params.set("operatorId", ALICE)
        yield cl


@pytest.fixture
async def sheet(c: httpx.AsyncClient) -> str:
    r = await c.post(f"/v1.0/notable/bases/{BASE}/sheets", json={"name": "Tasks", "fields": FIELDS})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def rec_path(sheet: str, suffix: str = "") -> str:
    return f"/v1.0/notable/bases/{BASE}/sheets/{sheet}/records{suffix}"


async def insert(c: httpx.AsyncClient, sheet: str, *rows: dict[str, Any], **params: str) -> list[str]:
    r = await c.post(rec_path(sheet), params=params or None, json={"records": [{"fields": f} for f in rows]})
    assert r.status_code == 200, r.text
    return [v["id"] for v in r.json()["value"]]


async def list_all(c: httpx.AsyncClient, sheet: str, **body: Any) -> list[dict[str, Any]]:
    r = await c.post(rec_path(sheet, "/list"), json=body)
    assert r.status_code == 200, r.text
    return r.json()["records"]


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message", "requestid"}
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    assert REQUEST_ID.match(body["requestid"])
    return body


# ---------------------------------------------------------------- tokens and auth


async def test_token_flow_and_expiry(emu: DingTalkEmulator) -> None:
    async with client(emu) as cl:
        r = await cl.post("/v1.0/oauth2/accessToken", json={"appKey": KEY, "appSecret": "wrong"})
        assert_error(r, 400, "invalidClientIdOrSecret")
        r = await cl.post("/v1.0/oauth2/accessToken", json={"appSecret": SECRET})
        assert_error(r, 400, "MissingappKey")
        token = await get_token(cl)
        assert await get_token(cl) == token  # same token while valid
        url = f"/v1.0/notable/bases/{BASE}/sheets"
        ok = await cl.get(url, params={"operatorId": ALICE}, headers={"x-acs-dingtalk-access-token": token})
        assert ok.status_code == 200 and ok.json() == {"value": []}
        # missing / unknown token
        assert_error(await cl.get(url, params={"operatorId": ALICE}), 400, "InvalidAuthentication")
        r = await cl.get(url, params={"operatorId": ALICE}, headers={"x-acs-dingtalk-access-token": "nope"})
        assert_error(r, 400, "InvalidAuthentication")
        # expiry after the documented 7200 s
        emu.clock.advance(7199)
        r = await cl.get(url, params={"operatorId": ALICE}, headers={"x-acs-dingtalk-access-token": token})
        assert r.status_code == 200
        emu.clock.advance(7201)
        r = await cl.get(url, params={"operatorId": ALICE}, headers={"x-acs-dingtalk-access-token": token})
        assert_error(r, 400, "InvalidAuthentication")
        fresh = await get_token(cl)
        assert fresh != token
        r = await cl.get(url, params={"operatorId": ALICE}, headers={"x-acs-dingtalk-access-token": fresh})
        assert r.status_code == 200


async def test_expired_token_status_401_option() -> None:
    emu = make_emu(expired_token_status=401)
    async with client(emu) as cl:
        token = await get_token(cl)
        emu.clock.advance(7300)
        r = await cl.get(
            f"/v1.0/notable/bases/{BASE}/sheets",
            params={"operatorId": ALICE},
            headers={"x-acs-dingtalk-access-token": token},
        )
        assert_error(r, 401, "InvalidAuthentication")


async def test_legacy_user_lookup_and_token_separation(emu: DingTalkEmulator) -> None:
    async with client(emu, OAPI) as oapi, client(emu) as api:
        r = await oapi.get("/gettoken", params={"appkey": KEY, "appsecret": "bad"})
        assert r.status_code == 200 and r.json()["errcode"] == 40089
        r = await oapi.get("/gettoken", params={"appkey": KEY, "appsecret": SECRET})
        body = r.json()
        assert body["errcode"] == 0 and body["expires_in"] == 7200
        legacy = body["access_token"]
        r = await oapi.post("/topapi/v2/user/get", params={"access_token": legacy}, json={"userid": "bob01"})
        body = r.json()
        assert body["errcode"] == 0
        assert body["result"]["unionid"] == BOB and body["result"]["union_id"] == BOB
        r = await oapi.post("/topapi/v2/user/get", params={"access_token": legacy}, json={"userid": "zed"})
        assert r.status_code == 200 and r.json()["errcode"] == 60121
        # the v1.0 token is not valid on oapi, and the legacy token is not valid on api
        v1 = await get_token(api)
        r = await oapi.post("/topapi/v2/user/get", params={"access_token": v1}, json={"userid": "bob01"})
        assert r.json()["errcode"] == 40014 and "errmsg" in r.json()
        r = await api.get(
            f"/v1.0/notable/bases/{BASE}/sheets",
            params={"operatorId": ALICE},
            headers={"x-acs-dingtalk-access-token": legacy},
        )
        assert_error(r, 400, "InvalidAuthentication")
        emu.clock.advance(7300)
        r = await oapi.post("/topapi/v2/user/get", params={"access_token": legacy}, json={"userid": "bob01"})
        assert r.json()["errcode"] == 40014


async def test_legacy_empty_unionid_option() -> None:
    emu = make_emu(empty_unionid=True)
    async with client(emu, OAPI) as oapi:
        token = (await oapi.get("/gettoken", params={"appkey": KEY, "appsecret": SECRET})).json()[
            "access_token"
        ]
        r = await oapi.post("/topapi/v2/user/get", params={"access_token": token}, json={"userid": "alice01"})
        result = r.json()["result"]
        assert result["unionid"] == "" and result["union_id"] == ALICE


async def test_operator_checks(emu: DingTalkEmulator, c: httpx.AsyncClient) -> None:
    url = f"/v1.0/notable/bases/{BASE}/sheets"
    c.params = httpx.QueryParams()
    assert_error(await c.get(url), 400, "MissingoperatorId")
    assert_error(await c.get(url, params={"operatorId": "alice01"}), 400, "paramError-operatorId")
    body = assert_error(
        await c.get(url, params={"operatorId": CAROL}), 404, "invalidRequest.document.notFound"
    )
    assert "operatorId has permission" in body["message"]
    r = await c.get("/v1.0/notable/bases/nope/sheets", params={"operatorId": ALICE})
    assert_error(r, 404, "invalidRequest.document.notFound")
    assert (await c.get(url, params={"operatorId": BOB})).status_code == 200


async def test_unknown_path_and_method(c: httpx.AsyncClient, sheet: str) -> None:
    assert_error(await c.get("/v1.0/notable/nothing"), 404, "InvalidAction.NotFound")
    assert_error(await c.patch(f"/v1.0/notable/bases/{BASE}/sheets/{sheet}"), 404, "InvalidAction.NotFound")
    # no token needed to be told the API does not exist
    async with client(DingTalkEmulator()) as bare:
        assert_error(await bare.get("/v2.0/whatever"), 404, "InvalidAction.NotFound")


async def test_scope_and_document_state(emu: DingTalkEmulator) -> None:
    ro = make_emu(scopes=["Notable.Base.Read.All"])
    async with client(ro) as cl:
        cl.headers["x-acs-dingtalk-access-token"] = await get_token(cl)
        url = f"/v1.0/notable/bases/{BASE}/sheets"
        assert (await cl.get(url, params={"operatorId": ALICE})).status_code == 200
        r = await cl.post(url, params={"operatorId": ALICE}, json={"name": "x"})
        assert_error(r, 403, "Forbidden.AccessDenied.AccessTokenPermissionDenied")
    emu.set_base_state(BASE, "initializing")
    async with client(emu) as cl:
        cl.headers["x-acs-dingtalk-access-token"] = await get_token(cl)
        r = await cl.get(f"/v1.0/notable/bases/{BASE}/sheets", params={"operatorId": ALICE})
        assert_error(r, 400, "invalidRequest.document.stillInitializing")


# ---------------------------------------------------------------- sheets and fields


async def test_sheet_crud(c: httpx.AsyncClient) -> None:
    url = f"/v1.0/notable/bases/{BASE}/sheets"
    r = await c.post(url, json={"name": "项目"})
    assert r.status_code == 200
    sid = r.json()["id"]
    assert r.json() == {"id": sid, "name": "项目"} and re.fullmatch(r"[A-Za-z0-9]{7}", sid)
    assert_error(await c.post(url, json={"name": "项目"}), 400, "invalidRequest.inputArgs.invalid")
    assert_error(await c.post(url, json={}), 400, "Missingname")
    assert (await c.get(url)).json() == {"value": [{"id": sid, "name": "项目"}]}
    assert (await c.get(f"{url}/项目")).json() == {"id": sid, "name": "项目"}  # by name
    assert (await c.get(f"{url}/{sid}")).json() == {"id": sid, "name": "项目"}
    r = await c.put(f"{url}/{sid}", json={"name": "Projects"})
    assert r.json() == {"id": sid, "name": "Projects"}
    fields = (await c.get(f"{url}/{sid}/fields")).json()["value"]
    assert [f["type"] for f in fields] == ["text"]  # a sheet created without fields gets a primary field
    assert (await c.delete(f"{url}/Projects")).json() == {"success": True}
    assert_error(await c.get(f"{url}/{sid}"), 404, "invalidRequest.resource.notFound")
    assert_error(await c.delete(f"{url}/{sid}"), 404, "invalidRequest.resource.notFound")


async def test_field_crud(c: httpx.AsyncClient, sheet: str) -> None:
    url = f"/v1.0/notable/bases/{BASE}/sheets/{sheet}/fields"
    fields = (await c.get(url)).json()["value"]
    assert [f["name"] for f in fields] == [f["name"] for f in FIELDS]
    by_name = {f["name"]: f for f in fields}
    assert "property" not in by_name["Title"]
    assert by_name["Count"]["property"] == {"formatter": "INT"}
    assert by_name["Due"]["property"] == {"formatter": "YYYY-MM-DD HH:mm"}
    assert by_name["Owner"]["property"] == {"multiple": True}
    choices = by_name["Status"]["property"]["choices"]
    assert [ch["name"] for ch in choices] == ["todo", "done"] and all(ch["id"] for ch in choices)

    r = await c.post(url, json={"name": "Price", "type": "number", "property": {"formatter": "CNY_FLOAT"}})
    assert r.status_code == 200
    price = r.json()
    assert price["name"] == "Price" and price["type"] == "number"
    assert price["property"] == {"formatter": "CNY_FLOAT"}
    assert_error(
        await c.post(url, json={"name": "Price", "type": "text"}), 400, "invalidRequest.inputArgs.invalid"
    )
    assert_error(
        await c.post(url, json={"name": "X", "type": "currency"}), 400, "invalidRequest.inputArgs.invalid"
    )
    assert_error(await c.post(url, json={"name": "X"}), 400, "Missingtype")
    bad_fmt = {"name": "Y", "type": "number", "property": {"formatter": "ROMAN"}}
    assert_error(await c.post(url, json=bad_fmt), 400, "invalidRequest.inputArgs.invalid")

    # update: rename (by name), property change, type ignored
    r = await c.put(f"{url}/Price", json={"name": "Cost", "type": "text", "property": {"formatter": "USD"}})
    assert r.json() == {"id": price["id"]}
    cost = next(f for f in (await c.get(url)).json()["value"] if f["id"] == price["id"])
    assert cost == {"id": price["id"], "name": "Cost", "type": "number", "property": {"formatter": "USD"}}
    assert_error(await c.put(f"{url}/Cost", json={"property": {}}), 400, "Missingname")
    assert_error(await c.put(f"{url}/Cost", json={"name": "Title"}), 400, "invalidRequest.inputArgs.invalid")
    assert_error(await c.put(f"{url}/Nope", json={"name": "Z"}), 404, "invalidRequest.resource.notFound")

    # delete; the primary field cannot be deleted
    assert (await c.delete(f"{url}/{price['id']}")).json() == {"success": True}
    assert_error(await c.delete(f"{url}/Title"), 400, "invalidRequest.inputArgs.invalid")
    assert_error(await c.delete(f"{url}/Cost"), 404, "invalidRequest.resource.notFound")


async def test_select_choices_update_keeps_ids_and_drops_removed(c: httpx.AsyncClient, sheet: str) -> None:
    (rid,) = await insert(c, sheet, {"Title": "t", "Status": "todo", "Tags": ["a", "b"]})
    url = f"/v1.0/notable/bases/{BASE}/sheets/{sheet}/fields"
    before = {f["name"]: f for f in (await c.get(url)).json()["value"]}
    todo_id = before["Status"]["property"]["choices"][0]["id"]
    r = await c.put(
        f"{url}/Tags", json={"name": "Tags", "property": {"choices": [{"name": "a"}, {"name": "c"}]}}
    )
    assert r.status_code == 200
    rec = (await c.get(rec_path(sheet, f"/{rid}"))).json()
    assert [t["name"] for t in rec["fields"]["Tags"]] == ["a"]
    assert rec["fields"]["Status"] == {"id": todo_id, "name": "todo"}


# ---------------------------------------------------------------- records: values


async def test_record_value_formats(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    row = {
        "Title": "任务一",
        "Count": "12.50",
        "Status": "todo",
        "Tags": ["b", "a", "b"],
        "Due": "2023-12-20 03:00",
        "Owner": [{"unionId": BOB}],
        "Dept": [{"deptId": "123"}],
        "Site": {"text": "DingTalk", "link": "https://www.dingtalk.com"},
        "Files": [{"url": "https://x/y/report.pdf?sig=1", "size": 10, "type": "pdf"}],
        "Done": True,
    }
    (rid,) = await insert(c, sheet, row)
    assert re.fullmatch(r"[A-Za-z0-9]{10}", rid)
    rec = (await c.get(rec_path(sheet, f"/{rid}"))).json()
    assert set(rec) == {"id", "fields", "createdTime", "createdBy", "lastModifiedTime", "lastModifiedBy"}
    f = rec["fields"]
    assert f["Title"] == "任务一"
    assert f["Count"] == "12.5"  # numbers are read back as strings
    assert f["Status"]["name"] == "todo" and set(f["Status"]) == {"id", "name"}
    assert [t["name"] for t in f["Tags"]] == ["b", "a"]
    assert f["Due"] == int(datetime(2023, 12, 20, 3, 0, tzinfo=CST).timestamp() * 1000)
    assert f["Owner"] == [{"unionId": BOB}]
    assert f["Dept"] == [{"deptId": "123"}]
    assert f["Site"] == {"text": "DingTalk", "link": "https://www.dingtalk.com"}
    assert f["Files"] == [
        {"filename": "report.pdf", "size": 10, "type": "pdf", "url": "https://x/y/report.pdf?sig=1"}
    ]
    assert f["Done"] is True
    assert rec["createdBy"] == {"unionId": ALICE} == rec["lastModifiedBy"]
    assert rec["createdTime"] == rec["lastModifiedTime"]
    assert emu.records(BASE, sheet) == [rec]

    # more write forms: int ms, ISO strings, integer numbers; empty values are absent
    ids = await insert(
        c,
        sheet,
        {"Title": "b", "Count": 7, "Due": 1688601600000, "Done": False, "Tags": []},
        {"Title": "c", "Count": 3.0, "Due": "2024-01-02T00:00:00Z"},
        {"Title": "d", "Due": "2024/01/02"},
        {},
    )
    recs = {r["id"]: r for r in await list_all(c, sheet)}
    assert recs[ids[0]]["fields"] == {"Title": "b", "Count": "7", "Due": 1688601600000}
    assert recs[ids[1]]["fields"]["Count"] == "3"
    assert recs[ids[1]]["fields"]["Due"] == 1704153600000
    assert recs[ids[2]]["fields"]["Due"] == int(datetime(2024, 1, 2, tzinfo=CST).timestamp() * 1000)
    assert recs[ids[3]]["fields"] == {}


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"Title": 5}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Count": "12abc"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Count": True}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Status": "nope"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Tags": "a"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Tags": ["a", "zzz"]}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Due": "next tuesday"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Owner": [{"id": "bob01"}]}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Owner": [{"unionId": "stranger"}]}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Owner": ["bob01"]}, 500, "internalError"),
        ({"Site": "https://x.y"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Done": "yes"}, 400, "invalidRequest.inputArgs.invalid"),
        ({"Nope": "x"}, 404, "invalidRequest.resource.notFound"),
    ],
)
async def test_value_errors(
    emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str, fields: dict[str, Any], status: int, code: str
) -> None:
    r = await c.post(rec_path(sheet), json={"records": [{"fields": {"Title": "ok"}}, {"fields": fields}]})
    body = assert_error(r, status, code)
    if code == "invalidRequest.inputArgs.invalid" and "Nope" not in fields:
        assert "is invalid for field" in body["message"]
    assert emu.records(BASE, sheet) == []  # all or nothing


async def test_value_error_status_500_option() -> None:
    emu = make_emu(value_error_status=500)
    sid = emu.add_sheet(BASE, "T", [{"name": "N", "type": "number"}])
    async with client(emu) as cl:
        cl.headers["x-acs-dingtalk-access-token"] = await get_token(cl)
        r = await cl.post(
            rec_path(sid), params={"operatorId": ALICE}, json={"records": [{"fields": {"N": "x"}}]}
        )
        assert_error(r, 500, "internalError")


async def test_update_changes_only_named_fields(
    emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str
) -> None:
    (rid,) = await insert(c, sheet, {"Title": "a", "Count": 1, "Status": "todo"})
    created = (await c.get(rec_path(sheet, f"/{rid}"))).json()
    emu.clock.advance(5)
    r = await c.put(
        rec_path(sheet),
        params={"operatorId": BOB},
        json={"records": [{"id": rid, "fields": {"Count": 2, "Status": None}}]},
    )
    assert r.status_code == 200 and r.json() == {"value": [{"id": rid}]}
    rec = (await c.get(rec_path(sheet, f"/{rid}"))).json()
    assert rec["fields"] == {"Title": "a", "Count": "2"}
    assert rec["lastModifiedBy"] == {"unionId": BOB} and rec["createdBy"] == {"unionId": ALICE}
    assert rec["lastModifiedTime"] >= created["createdTime"] + 5000
    r = await c.put(rec_path(sheet), json={"records": [{"id": "missing123", "fields": {"Count": 3}}]})
    assert_error(r, 404, "invalidRequest.resource.notFound")
    assert_error(await c.get(rec_path(sheet, "/missing123")), 404, "invalidRequest.resource.notFound")


async def test_links_uni_and_bidirectional(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    url = f"/v1.0/notable/bases/{BASE}/sheets"
    other = (await c.post(url, json={"name": "People", "fields": [{"name": "Name", "type": "text"}]})).json()[
        "id"
    ]
    f_url = f"{url}/{sheet}/fields"
    r = await c.post(
        f_url, json={"name": "Ref", "type": "unidirectionalLink", "property": {"linkedSheetId": other}}
    )
    assert r.json()["property"] == {"multiple": True, "linkedSheetId": other}
    r = await c.post(
        f_url, json={"name": "Team", "type": "bidirectionalLink", "property": {"linkedSheetId": other}}
    )
    team = r.json()
    pair_id = team["property"]["linkedFieldId"]
    pair = next(f for f in (await c.get(f"{url}/{other}/fields")).json()["value"] if f["id"] == pair_id)
    assert pair["type"] == "bidirectionalLink" and pair["property"]["linkedFieldId"] == team["id"]
    p1, p2 = await insert(c, other, {"Name": "p1"}, {"Name": "p2"})
    (t1,) = await insert(
        c, sheet, {"Title": "t", "Ref": {"linkedRecordIds": [p1]}, "Team": {"linkedRecordIds": [p1, p2]}}
    )
    rec = (await c.get(rec_path(sheet, f"/{t1}"))).json()
    assert rec["fields"]["Ref"] == {"linkedRecordIds": [p1]}
    assert rec["fields"]["Team"] == {"linkedRecordIds": [p1, p2]}
    back = (await c.get(rec_path(other, f"/{p2}"))).json()
    assert back["fields"][pair["name"]] == {"linkedRecordIds": [t1]}
    bad = {"records": [{"fields": {"Ref": {"linkedRecordIds": ["zzzzzzzzzz"]}}}]}
    assert_error(await c.post(rec_path(sheet), json=bad), 400, "invalidRequest.inputArgs.invalid")
    assert_error(
        await c.post(rec_path(sheet), json={"records": [{"fields": {"Ref": [p1]}}]}),
        400,
        "invalidRequest.inputArgs.invalid",
    )
    # deleting a linked record drops it from link values on both kinds of link
    r = await c.post(rec_path(other, "/delete"), json={"recordIds": [p1]})
    assert r.json() == {"success": True}
    rec = (await c.get(rec_path(sheet, f"/{t1}"))).json()
    assert "Ref" not in rec["fields"] and rec["fields"]["Team"] == {"linkedRecordIds": [p2]}


# ---------------------------------------------------------------- batches, paging, delete


async def test_batch_caps(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    too_many = {"records": [{"fields": {"Title": str(i)}} for i in range(101)]}
    assert_error(await c.post(rec_path(sheet), json=too_many), 400, "invalidRequest.inputArgs.invalid")
    assert emu.records(BASE, sheet) == []
    ids = await insert(c, sheet, *({"Title": str(i)} for i in range(100)))
    assert len(ids) == 100 and len(set(ids)) == 100
    ids += await insert(c, sheet, {"Title": "100"})
    upd = {"records": [{"id": i, "fields": {"Count": 1}} for i in ids]}
    assert_error(await c.put(rec_path(sheet), json=upd), 400, "invalidRequest.inputArgs.invalid")
    r = await c.post(rec_path(sheet, "/delete"), json={"recordIds": ids})
    assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    assert_error(await c.post(rec_path(sheet), json={"records": []}), 400, "invalidRequest.inputArgs.invalid")
    assert_error(await c.post(rec_path(sheet), json={}), 400, "Missingrecords")
    assert_error(await c.post(rec_path(sheet, "/delete"), json={}), 400, "MissingrecordIds")


async def test_delete_records_unknown_id_deletes_nothing(
    emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str
) -> None:
    ids = await insert(c, sheet, {"Title": "a"}, {"Title": "b"})
    r = await c.post(rec_path(sheet, "/delete"), json={"recordIds": [ids[0], "nope000000"]})
    assert_error(r, 404, "invalidRequest.resource.notFound")
    assert len(emu.records(BASE, sheet)) == 2
    assert (await c.post(rec_path(sheet, "/delete"), json={"recordIds": [ids[0]]})).json() == {
        "success": True
    }
    assert [r["id"] for r in emu.records(BASE, sheet)] == [ids[1]]


async def test_paging(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    emu.add_records(BASE, sheet, [{"Title": f"r{i}", "Count": i} for i in range(250)])
    r = await c.post(rec_path(sheet, "/list"), json={})
    page1 = r.json()
    assert page1["hasMore"] is True and len(page1["records"]) == 100  # default maxResults 100
    for bad in (0, 101, "10", True):
        r = await c.post(rec_path(sheet, "/list"), json={"maxResults": bad})
        assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    seen: list[str] = []
    token = ""
    while True:
        body = {"maxResults": 60, **({"nextToken": token} if token else {})}
        page = (await c.post(rec_path(sheet, "/list"), json=body)).json()
        seen += [rec["fields"]["Title"] for rec in page["records"]]
        if not page["hasMore"]:
            assert page["nextToken"] == ""
            break
        token = page["nextToken"]
        again = (await c.post(rec_path(sheet, "/list"), json={"maxResults": 60, "nextToken": token})).json()
        assert again["records"][0]["fields"]["Title"] == f"r{len(seen)}"  # same token works twice
    assert seen == [f"r{i}" for i in range(250)]
    # a token survives deletions before it; a foreign or garbage token is refused
    first = (await c.post(rec_path(sheet, "/list"), json={"maxResults": 10})).json()
    ids = [rec["id"] for rec in first["records"]]
    await c.post(rec_path(sheet, "/delete"), json={"recordIds": ids[:5]})
    nxt = (
        await c.post(rec_path(sheet, "/list"), json={"maxResults": 1, "nextToken": first["nextToken"]})
    ).json()
    assert nxt["records"][0]["fields"]["Title"] == "r10"
    r = await c.post(rec_path(sheet, "/list"), json={"nextToken": "garbage!!"})
    assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    # the SDK's simple GET list
    r = await c.get(rec_path(sheet), params={"maxResults": "3"})
    assert r.status_code == 200 and len(r.json()["records"]) == 3 and r.json()["hasMore"] is True


async def test_field_projection(c: httpx.AsyncClient, sheet: str) -> None:
    await insert(c, sheet, {"Title": "a", "Count": 1, "Status": "done"})
    (rec,) = await list_all(c, sheet, fieldIdOrNames=["Title", "Count"])
    assert rec["fields"] == {"Title": "a", "Count": "1"}
    r = await c.post(rec_path(sheet, "/list"), json={"fieldIdOrNames": ["Title"] * 101})
    assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    r = await c.post(rec_path(sheet, "/list"), json={"fieldIdOrNames": ["Nope"]})
    assert_error(r, 404, "invalidRequest.resource.notFound")


# ---------------------------------------------------------------- filters


async def test_filters(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    await insert(
        c,
        sheet,
        {
            "Title": "Alpha report",
            "Count": 5,
            "Status": "todo",
            "Tags": ["a"],
            "Due": 1000,
            "Owner": [{"unionId": BOB}],
        },
        {"Title": "beta", "Count": "10", "Status": "done", "Tags": ["a", "b"], "Due": 2000, "Done": True},
        {"Title": "gamma"},
    )

    async def titles(*conds: dict[str, Any], combination: str | None = None) -> list[str]:
        emu.clock.advance(0.1)  # stay under the documented 20 requests/s per API
        flt: dict[str, Any] = {"conditions": list(conds)}
        if combination:
            flt["combination"] = combination
        return [r["fields"]["Title"] for r in await list_all(c, sheet, filter=flt)]

    assert await titles({"field": "Title", "operator": "contain", "value": ["REPORT"]}) == ["Alpha report"]
    assert await titles({"field": "Title", "operator": "equal", "value": ["beta"]}) == ["beta"]
    assert await titles({"field": "Title", "operator": "equal", "value": ["BETA"]}) == []
    assert await titles({"field": "Title", "operator": "notContain", "value": ["a r"]}) == ["beta", "gamma"]
    assert await titles({"field": "Count", "operator": "greater", "value": ["5"]}) == ["beta"]
    assert await titles({"field": "Count", "operator": "lessEqual", "value": [10]}) == [
        "Alpha report",
        "beta",
    ]
    assert await titles({"field": "Count", "operator": "notEqual", "value": [5]}) == ["beta", "gamma"]
    assert await titles({"field": "Count", "operator": "empty"}) == ["gamma"]
    assert await titles({"field": "Status", "operator": "equal", "value": ["done"]}) == ["beta"]
    assert await titles({"field": "Tags", "operator": "equal", "value": ["a"]}) == ["Alpha report"]
    assert await titles({"field": "Tags", "operator": "contain", "value": ["b"]}) == ["beta"]
    assert await titles({"field": "Due", "operator": "greater", "value": [1500]}) == ["beta"]
    assert await titles({"field": "Owner", "operator": "contain", "value": [{"unionId": BOB}]}) == [
        "Alpha report"
    ]
    assert await titles({"field": "Done", "operator": "equal", "value": [True]}) == ["beta"]
    assert await titles(
        {"field": "Count", "operator": "equal", "value": [5]},
        {"field": "Title", "operator": "equal", "value": ["gamma"]},
        combination="or",
    ) == ["Alpha report", "gamma"]
    assert await titles(
        {"field": "Tags", "operator": "notEmpty"}, {"field": "Count", "operator": "less", "value": [6]}
    ) == ["Alpha report"]

    for cond in (
        {"field": "Title", "operator": "greater", "value": ["a"]},  # not supported on text
        {"field": "Due", "operator": "notEqual", "value": [1]},  # date: equal/greater/less only
        {"field": "Count", "operator": "contain", "value": ["1"]},
        {"field": "Site", "operator": "contain", "value": ["x"]},
        {"field": "Title", "operator": "like", "value": ["a"]},
        {"field": "Title", "operator": "equal", "value": "beta"},  # value must be an array
        {"field": "Title", "operator": "equal"},
        {"field": "Count", "operator": "equal", "value": ["ten"]},
    ):
        emu.clock.advance(0.1)
        r = await c.post(rec_path(sheet, "/list"), json={"filter": {"conditions": [cond]}})
        assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    r = await c.post(rec_path(sheet, "/list"), json={"filter": {"combination": "xor", "conditions": []}})
    assert_error(r, 400, "invalidRequest.inputArgs.invalid")
    r = await c.post(
        rec_path(sheet, "/list"), json={"filter": {"conditions": [{"field": "Nope", "operator": "empty"}]}}
    )
    assert_error(r, 404, "invalidRequest.resource.notFound")


# ---------------------------------------------------------------- idempotency


async def test_client_token_dedupes(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    token = "550e8400-e29b-41d4-a716-446655440000"
    ids = await insert(c, sheet, {"Title": "a"}, {"Title": "b"}, clientToken=token)
    r = await c.post(
        rec_path(sheet), params={"clientToken": token}, json={"records": [{"fields": {"Title": "a"}}]}
    )
    body = assert_error(r, 409, "invalidRequest.duplicateClientToken")
    assert body["message"] == "Duplicate ClientToken detected. Please generate a new client token and retry."
    assert len(emu.records(BASE, sheet)) == 2
    q = f"/v1.0/notable/bases/{BASE}/changedRecordIds/query"
    assert (await c.post(q, json={"clientToken": token})).json() == {"changedRecordIds": ids}
    assert (await c.post(q, json={"clientToken": "other"})).json() == {"changedRecordIds": []}
    assert_error(await c.post(q, json={}), 400, "MissingclientToken")
    # a request that failed validation does not use up its token
    t2 = "9f1c2d3e-0000-4000-8000-000000000002"
    r = await c.post(
        rec_path(sheet), params={"clientToken": t2}, json={"records": [{"fields": {"Count": "x"}}]}
    )
    assert r.status_code == 400
    assert len(await insert(c, sheet, {"Title": "c"}, clientToken=t2)) == 1


async def test_lost_response_insert_then_reconcile(
    emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str
) -> None:
    token = "0d8a7b36-1111-4c2b-9d3e-123456789abc"
    emu.faults.add("lost_response", match=r"POST .*/records$")
    with pytest.raises(httpx.ReadTimeout):
        await c.post(
            rec_path(sheet), params={"clientToken": token}, json={"records": [{"fields": {"Title": "x"}}]}
        )
    stored = emu.records(BASE, sheet)
    assert [r["fields"]["Title"] for r in stored] == ["x"]  # the write happened
    r = await c.post(
        rec_path(sheet), params={"clientToken": token}, json={"records": [{"fields": {"Title": "x"}}]}
    )
    assert_error(r, 409, "invalidRequest.duplicateClientToken")
    q = f"/v1.0/notable/bases/{BASE}/changedRecordIds/query"
    assert (await c.post(q, json={"clientToken": token})).json() == {"changedRecordIds": [stored[0]["id"]]}
    assert len(emu.records(BASE, sheet)) == 1


# ---------------------------------------------------------------- rate limit and faults


async def test_rate_limit_per_app_per_api() -> None:
    emu = make_emu(qps=5)
    sid = emu.add_sheet(BASE, "T")
    async with client(emu) as cl:
        cl.headers["x-acs-dingtalk-access-token"] = await get_token(cl)
        cl.params = cl.params.set("operatorId", ALICE)
        url = f"/v1.0/notable/bases/{BASE}/sheets"
        codes = [(await cl.get(url)).status_code for _ in range(6)]
        assert codes == [200] * 5 + [403]
        r = await cl.get(url)
        body = assert_error(r, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
        assert body["requestid"]
        # another API (method + path template) has its own budget, whatever the sheet
        assert (await cl.get(f"{url}/{sid}")).status_code == 200
        assert (await cl.get(f"{url}/T")).status_code == 200
        emu.clock.advance(1.01)
        assert (await cl.get(url)).status_code == 200
        # token endpoints are not limited
        for _ in range(10):
            assert (
                await cl.post("/v1.0/oauth2/accessToken", json={"appKey": KEY, "appSecret": SECRET})
            ).status_code == 200


async def test_faults(emu: DingTalkEmulator, c: httpx.AsyncClient, sheet: str) -> None:
    emu.faults.add("transient", match=r"POST .*/records$", times=2)
    emu.faults.add("throttle", match=r"/sheets$")
    body = {"records": [{"fields": {"Title": "x"}}]}
    r1 = await c.post(rec_path(sheet), json=body)
    r2 = await c.post(rec_path(sheet), json=body)
    b1 = assert_error(r1, 500, "internalError")
    b2 = assert_error(r2, 504, "service.timeout")
    assert b1["requestid"] != b2["requestid"]
    assert emu.records(BASE, sheet) == []  # nothing changed
    assert_error(
        await c.get(f"/v1.0/notable/bases/{BASE}/sheets"),
        403,
        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
    )
    # lost response on update and delete: applied, then the answer is lost
    (rid,) = await insert(c, sheet, {"Title": "x"})
    emu.faults.add("lost_response", match=r"PUT ")
    with pytest.raises(httpx.ReadTimeout):
        await c.put(rec_path(sheet), json={"records": [{"id": rid, "fields": {"Title": "y"}}]})
    assert emu.records(BASE, sheet)[0]["fields"]["Title"] == "y"
    emu.faults.add("lost_response", match=r"/records/delete$")
    with pytest.raises(httpx.ReadTimeout):
        await c.post(rec_path(sheet, "/delete"), json={"recordIds": [rid]})
    assert emu.records(BASE, sheet) == []
    # a lost response on a read is a transient error; token endpoints are never faulted
    emu.faults.add("lost_response", match=r"/records/list$")
    assert (await c.post(rec_path(sheet, "/list"), json={})).status_code in (500, 504)
    emu.faults.rate = 1.0
    assert (
        await c.post("/v1.0/oauth2/accessToken", json={"appKey": KEY, "appSecret": SECRET})
    ).status_code == 200
    assert emu.faults.injected["transient"] == 3 and emu.faults.injected["lost_response"] == 2
