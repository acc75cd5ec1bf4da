"""Raw-HTTP tests of the Feishu Bitable emulator against the documented behaviour."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import FeishuEmulator

pytestmark = pytest.mark.anyio

APP_ID = "cli_test0000000001"
SECRET = "s3cret"
BASE = "bascnTestApp0001"
API = f"/open-apis/bitable/v1/apps/{BASE}"
DAY_MS = 86_400_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_emu(**kwargs: Any) -> FeishuEmulator:
    emu = FeishuEmulator(app_id=APP_ID, app_secret=SECRET, **kwargs)
    emu.add_app(BASE, name="测试")
    emu.add_user(
        "ou_alice", "Alice", union_id="on_alice", user_id="u_alice", en_name="Alice A", email="a@x.cn"
    )
    emu.add_user("ou_bob", "Bob", union_id="on_bob", user_id="u_bob")
    return emu


def client(emu: FeishuEmulator, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token or emu.issue_token(APP_ID)}"}
    return httpx.AsyncClient(
        transport=EmulatorTransport(emu), base_url="https://open.feishu.cn", headers=headers
    )


FIELDS = [
    {"field_name": "名称", "type": 1},
    {"field_name": "数量", "type": 2, "property": {"formatter": "0"}},
    {"field_name": "状态", "type": 3, "property": {"options": [{"name": "待办"}, {"name": "完成"}]}},
    {"field_name": "标签", "type": 4},
    {"field_name": "日期", "type": 5},
    {"field_name": "完成", "type": 7},
    {"field_name": "负责人", "type": 11},
    {"field_name": "电话", "type": 13},
    {"field_name": "链接", "type": 15},
    {"field_name": "附件", "type": 17},
    {"field_name": "位置", "type": 22},
    {"field_name": "公式", "type": 20},
    {"field_name": "编号", "type": 1005},
    {"field_name": "创建时间", "type": 1001},
]


async def new_table(c: httpx.AsyncClient, name: str = "任务", fields: list[dict] | None = None) -> str:
    r = await c.post(f"{API}/tables", json={"table": {"name": name, "fields": fields or FIELDS}})
    assert r.json()["code"] == 0, r.json()
    return r.json()["data"]["table_id"]


async def search(c: httpx.AsyncClient, table_id: str, body: dict | None = None, **params: Any) -> dict:
    r = await c.post(f"{API}/tables/{table_id}/records/search", json=body or {}, params=params)
    return r.json()


# --------------------------------------------------------------------------------------- auth


async def test_token_flow_refresh_window_and_expiry() -> None:
    emu = make_emu()
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://open.feishu.cn") as c:
        path = "/open-apis/auth/v3/tenant_access_token/internal"
        r = await c.post(path, json={"app_id": APP_ID, "app_secret": SECRET})
        body = r.json()
        assert r.status_code == 200 and body["code"] == 0 and body["msg"] == "ok"
        assert body["tenant_access_token"].startswith("t-") and body["expire"] == 7200
        first = body["tenant_access_token"]
        emu.clock.advance(1000)
        again = (await c.post(path, json={"app_id": APP_ID, "app_secret": SECRET})).json()
        assert again["tenant_access_token"] == first and 6199 <= again["expire"] <= 6200
        emu.clock.advance(5300)  # 900 s left: a new token is issued, the old stays valid
        fresh = (await c.post(path, json={"app_id": APP_ID, "app_secret": SECRET})).json()
        assert fresh["tenant_access_token"] != first and fresh["expire"] == 7200
        for token in (first, fresh["tenant_access_token"]):
            r = await c.get(f"{API}/tables", headers={"Authorization": f"Bearer {token}"})
            assert r.json()["code"] == 0
        emu.clock.advance(1000)  # the first token is now past its 2 h
        r = await c.get(f"{API}/tables", headers={"Authorization": f"Bearer {first}"})
        assert r.json()["code"] == 99991663
        r = await c.get(f"{API}/tables", headers={"Authorization": f"Bearer {fresh['tenant_access_token']}"})
        assert r.json()["code"] == 0
        bad = await c.post(path, json={"app_id": APP_ID, "app_secret": "wrong"})
        assert bad.json()["code"] == 10014


async def test_missing_and_invalid_token() -> None:
    emu = make_emu()
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://open.feishu.cn") as c:
        r = await c.get(f"{API}/tables")
        assert r.status_code == 400 and r.json()["code"] == 99991661
        assert r.headers["X-Tt-Logid"] == r.json()["error"]["log_id"]
        r = await c.get(f"{API}/tables", headers={"Authorization": "Bearer t-nope"})
        assert r.status_code == 400 and r.json()["code"] == 99991663


async def test_unknown_route_and_app() -> None:
    emu = make_emu()
    async with client(emu) as c:
        r = await c.get("/open-apis/bitable/v1/nothing")
        assert r.status_code == 404
        r = await c.get("/open-apis/bitable/v1/apps/bascnMissing/tables")
        assert r.status_code == 200 and r.json()["code"] == 1254040
        assert r.json()["msg"] == "BaseTokenNotFound" and "log_id" in r.json()["error"]
        assert "X-Tt-Logid" in r.headers


# --------------------------------------------------------------------------------------- tables


async def test_tables_crud_and_paging() -> None:
    emu = make_emu()
    async with client(emu) as c:
        r = await c.post(f"{API}/tables", json={"table": {"name": "A", "default_view_name": "主视图"}})
        data = r.json()["data"]
        assert data["table_id"].startswith("tbl") and len(data["table_id"]) == 16
        assert data["default_view_id"].startswith("vew") and len(data["field_id_list"]) == 1
        r = await c.post(f"{API}/tables/batch_create", json={"tables": [{"name": "B"}, {"name": "C"}]})
        ids = r.json()["data"]["table_ids"]
        assert len(ids) == 2
        r = await c.post(f"{API}/tables", json={"table": {"name": "A"}})
        assert r.status_code == 400 and r.json()["code"] == 1254013
        page1 = (await c.get(f"{API}/tables", params={"page_size": 2})).json()["data"]
        assert page1["has_more"] is True and page1["total"] == 3 and len(page1["items"]) == 2
        assert set(page1["items"][0]) == {"table_id", "revision", "name"}
        page2 = (
            await c.get(f"{API}/tables", params={"page_size": 2, "page_token": page1["page_token"]})
        ).json()
        assert page2["data"]["has_more"] is False and "page_token" not in page2["data"]
        assert [t["name"] for t in page1["items"] + page2["data"]["items"]] == ["A", "B", "C"]
        r = await c.get(f"{API}/tables", params={"page_size": 101})
        assert r.status_code == 400 and r.json()["code"] == 99992402
        r = await c.patch(f"{API}/tables/{ids[0]}", json={"name": " B2 "})
        assert r.json() == {"code": 0, "msg": "success", "data": {"name": "B2"}}
        r = await c.patch(f"{API}/tables/{ids[0]}", json={"name": "C"})
        assert r.status_code == 400 and r.json()["code"] == 1254013
        r = await c.patch(f"{API}/tables/tblMissing0000000", json={"name": "x"})
        assert r.status_code == 404 and r.json()["code"] == 1254041
        r = await c.delete(f"{API}/tables/{ids[0]}")
        assert r.json()["code"] == 0
        r = await c.post(f"{API}/tables/batch_delete", json={"table_ids": [data["table_id"], ids[1]]})
        assert r.status_code == 403 and r.json()["code"] == 1254034  # would delete the last table
        r = await c.post(f"{API}/tables/batch_delete", json={"table_ids": [ids[1]]})
        assert r.json()["code"] == 0
        r = await c.delete(f"{API}/tables/{data['table_id']}")
        assert r.status_code == 403 and r.json()["code"] == 1254034


# --------------------------------------------------------------------------------------- fields


async def test_fields_list_create_update_delete() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        r = await c.get(f"{API}/tables/{tid}/fields", params={"page_size": 5})
        data = r.json()["data"]
        assert data["total"] == len(FIELDS) and data["has_more"] is True and len(data["items"]) == 5
        first = data["items"][0]
        assert first["is_primary"] is True and first["type"] == 1 and first["ui_type"] == "Text"
        assert first["property"] is None
        assert data["items"][1]["property"] == {"formatter": "0"}
        body = {
            "field_name": "优先级",
            "type": 3,
            "property": {"options": [{"name": "高"}, {"name": "低", "color": 5}]},
            "description": {"text": "说明"},
        }
        r = await c.post(f"{API}/tables/{tid}/fields", json=body)
        field = r.json()["data"]["field"]
        opts = field["property"]["options"]
        assert [(o["name"], o["color"]) for o in opts] == [("高", 0), ("低", 5)]
        assert all(o["id"].startswith("opt") for o in opts) and field["description"] == "说明"
        assert field["is_primary"] is False
        fid = field["field_id"]
        # PUT is a full replacement: the omitted description is reset, options not sent are dropped.
        upd = {
            "field_name": "优先级",
            "type": 3,
            "property": {"options": [{"id": opts[0]["id"], "name": "最高"}, {"name": "中"}]},
        }
        r = await c.put(f"{API}/tables/{tid}/fields/{fid}", json=upd)
        field = r.json()["data"]["field"]
        assert [o["name"] for o in field["property"]["options"]] == ["最高", "中"]
        assert field["property"]["options"][0]["id"] == opts[0]["id"] and "description" not in field
        same = {"field_name": "优先级", "type": 3, "property": field["property"]}
        r = await c.put(f"{API}/tables/{tid}/fields/{fid}", json=same)
        assert r.json()["code"] == 1254606  # DataNotChange
        r = await c.put(f"{API}/tables/{tid}/fields/{fid}", json={"field_name": "优先级", "type": 3})
        assert r.json()["data"]["field"]["property"] == {"options": []}
        r = await c.post(f"{API}/tables/{tid}/fields", json={"field_name": "数量", "type": 2})
        assert r.json()["code"] == 1254014
        r = await c.post(f"{API}/tables/{tid}/fields", json={"field_name": "", "type": 2})
        assert r.status_code == 400 and r.json()["code"] == 1254028
        bad_opt = {"field_name": "x", "type": 3, "property": {"options": [{"id": "optNOPE", "name": "a"}]}}
        r = await c.post(f"{API}/tables/{tid}/fields", json=bad_opt)
        assert r.status_code == 400 and r.json()["code"] == 1254082
        r = await c.post(f"{API}/tables/{tid}/fields", json={"field_name": "查找", "type": 19})
        assert r.json()["code"] == 1254012
        r = await c.post(
            f"{API}/tables/{tid}/fields", json={"field_name": "邮箱", "type": 1, "ui_type": "Email"}
        )
        assert r.json()["data"]["field"]["ui_type"] == "Email"
        r = await c.post(
            f"{API}/tables/{tid}/fields", json={"field_name": "y", "type": 1, "ui_type": "Rating"}
        )
        assert r.json()["code"] == 1254015
        r = await c.delete(f"{API}/tables/{tid}/fields/{first['field_id']}")
        assert r.json()["code"] == 1254070  # the primary field cannot be deleted
        r = await c.delete(f"{API}/tables/{tid}/fields/{fid}")
        assert r.json()["data"] == {"field_id": fid, "deleted": True}
        r = await c.delete(f"{API}/tables/{tid}/fields/{fid}")
        assert r.json()["code"] == 1254044


async def test_field_rename_keeps_values_and_option_rename_shows() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "a", "状态": "待办"}})
        fields = (await c.get(f"{API}/tables/{tid}/fields")).json()["data"]["items"]
        status = next(f for f in fields if f["field_name"] == "状态")
        opts = status["property"]["options"]
        new_opts = [{"id": opts[0]["id"], "name": "To do"}, {"id": opts[1]["id"], "name": "完成"}]
        body = {"field_name": "State", "type": 3, "property": {"options": new_opts}}
        r = await c.put(f"{API}/tables/{tid}/fields/{status['field_id']}", json=body)
        assert r.json()["code"] == 0
        items = (await search(c, tid))["data"]["items"]
        assert items[0]["fields"]["State"] == "To do" and "状态" not in items[0]["fields"]


# --------------------------------------------------------------------------------------- views


async def test_views() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        views = (await c.get(f"{API}/tables/{tid}/views")).json()["data"]
        assert views["total"] == 1 and views["items"][0]["view_type"] == "grid"
        default_view = views["items"][0]["view_id"]
        r = await c.post(f"{API}/tables/{tid}/views", json={"view_name": "看板", "view_type": "kanban"})
        view = r.json()["data"]["view"]
        assert view["view_type"] == "kanban" and view["view_id"].startswith("vew")
        r = await c.post(f"{API}/tables/{tid}/views", json={"view_name": "x", "view_type": "table"})
        assert r.json()["code"] == 1254019
        r = await c.post(f"{API}/tables/{tid}/views", json={"view_name": "看板", "view_type": "grid"})
        assert r.json()["code"] == 1254020
        r = await c.get(f"{API}/tables/{tid}/views/{view['view_id']}")
        assert r.json()["data"]["view"]["property"] == {"filter_info": None, "hidden_fields": None}
        r = await c.get(f"{API}/tables/{tid}/views/vewMissing")
        assert r.status_code == 404 and r.json()["code"] == 1254042
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "a", "数量": 1}})
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "b", "数量": 5}})
        fields = (await c.get(f"{API}/tables/{tid}/fields")).json()["data"]["items"]
        qty = next(f["field_id"] for f in fields if f["field_name"] == "数量")
        cond = {"field_id": qty, "operator": "isGreater", "value": '["2"]'}
        patch = {
            "view_name": "大数",
            "property": {"filter_info": {"conjunction": "and", "conditions": [cond]}},
        }
        r = await c.patch(f"{API}/tables/{tid}/views/{view['view_id']}", json=patch)
        got = r.json()["data"]["view"]
        assert (
            got["view_name"] == "大数" and got["property"]["filter_info"]["conditions"][0]["field_type"] == 2
        )
        items = (await search(c, tid, {"view_id": view["view_id"]}))["data"]["items"]
        assert [i["fields"]["名称"][0]["text"] for i in items] == ["b"]
        r = await c.delete(f"{API}/tables/{tid}/views/{view['view_id']}")
        assert r.json()["code"] == 0
        r = await c.delete(f"{API}/tables/{tid}/views/{default_view}")
        assert r.json()["code"] == 1254023


# --------------------------------------------------------------------------------------- records


async def test_record_value_formats_search_list_get_and_echo() -> None:
    emu = make_emu()
    emu.add_attachment(BASE, "boxcnFile01", "a.png", 10, "image/png")
    async with client(emu) as c:
        other = await new_table(c, "客户", [{"field_name": "客户名", "type": 1}])
        rc = await c.post(f"{API}/tables/{other}/records", json={"fields": {"客户名": "ACME"}})
        customer = rc.json()["data"]["record"]["record_id"]
        fields = [*FIELDS, {"field_name": "客户", "type": 18, "property": {"table_id": other}}]
        tid = await new_table(c, "任务", fields)
        values = {
            "名称": "写文档",
            "数量": 3,
            "状态": "待办",
            "标签": ["a", "b"],
            "日期": 1_700_000_000_000,
            "完成": True,
            "负责人": [{"id": "ou_alice"}],
            "电话": "+8613800000000",
            "链接": {"text": "飞书", "link": "https://www.feishu.cn"},
            "附件": [{"file_token": "boxcnFile01"}],
            "位置": "116.397755,39.903179",
            "客户": [customer],
        }
        r = await c.post(f"{API}/tables/{tid}/records", json={"fields": values})
        rec = r.json()["data"]["record"]
        assert (
            rec["fields"] == values and rec["record_id"] == rec["id"] and rec["record_id"].startswith("rec")
        )
        rid = rec["record_id"]
        item = (await search(c, tid))["data"]["items"][0]
        f = item["fields"]
        assert item["record_id"] == rid
        assert f["名称"] == [{"text": "写文档", "type": "text"}]
        assert f["数量"] == 3 and f["状态"] == "待办" and f["标签"] == ["a", "b"]
        assert f["日期"] == 1_700_000_000_000 and f["完成"] is True
        assert f["负责人"] == [{"id": "ou_alice", "name": "Alice", "en_name": "Alice A", "email": "a@x.cn"}]
        assert f["电话"] == "+8613800000000" and f["链接"] == {
            "link": "https://www.feishu.cn",
            "text": "飞书",
        }
        assert f["附件"][0]["file_token"] == "boxcnFile01" and f["附件"][0]["name"] == "a.png"
        assert f["位置"]["location"] == "116.397755,39.903179"
        assert f["客户"] == {"link_record_ids": [customer]}
        assert f["编号"] == "1" and isinstance(f["创建时间"], int) and "公式" not in f
        by_user = await search(c, tid, user_id_type="union_id")
        assert by_user["data"]["items"][0]["fields"]["负责人"][0]["id"] == "on_alice"
        listed = (await c.get(f"{API}/tables/{tid}/records")).json()["data"]["items"][0]["fields"]
        assert listed["名称"] == "写文档" and listed["数量"] == "3"
        assert listed["客户"] == [
            {"record_ids": [customer], "table_id": other, "text": "ACME", "type": "text"}
        ]
        arr = (await c.get(f"{API}/tables/{tid}/records", params={"text_field_as_array": "true"})).json()
        assert arr["data"]["items"][0]["fields"]["名称"] == [{"text": "写文档", "type": "text"}]
        got = (await c.get(f"{API}/tables/{tid}/records/{rid}")).json()["data"]["record"]
        assert got["fields"]["名称"] == "写文档" and got["fields"]["数量"] == 3
        auto = await search(c, tid, {"automatic_fields": True})
        assert isinstance(auto["data"]["items"][0]["created_time"], int)


async def test_update_is_incremental_and_null_clears() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        r = await c.post(
            f"{API}/tables/{tid}/records", json={"fields": {"名称": "a", "数量": 1, "电话": "1"}}
        )
        rid = r.json()["data"]["record"]["record_id"]
        r = await c.put(f"{API}/tables/{tid}/records/{rid}", json={"fields": {"数量": 2, "电话": None}})
        assert r.json()["data"]["record"] == {
            "fields": {"数量": 2, "电话": None},
            "id": rid,
            "record_id": rid,
        }
        fields = (await search(c, tid))["data"]["items"][0]["fields"]
        assert fields["数量"] == 2 and "电话" not in fields and fields["名称"][0]["text"] == "a"
        r = await c.put(f"{API}/tables/{tid}/records/recMissing", json={"fields": {"数量": 2}})
        assert r.json()["code"] == 1254043
        r = await c.delete(f"{API}/tables/{tid}/records/{rid}")
        assert r.json()["data"] == {"deleted": True, "record_id": rid}
        r = await c.get(f"{API}/tables/{tid}/records/{rid}")
        assert r.json()["code"] == 1254043


@pytest.mark.parametrize(
    ("field", "value", "code", "status"),
    [
        ("名称", 5, 1254060, 200),
        ("数量", "5", 1254061, 200),
        ("状态", ["待办"], 1254062, 200),
        ("标签", "a", 1254063, 200),
        ("日期", "2024-01-01", 1254064, 200),
        ("完成", "true", 1254065, 200),
        ("负责人", [{"id": "ou_nobody"}], 1254066, 200),
        ("负责人", ["ou_alice"], 1254066, 200),
        ("链接", "https://x", 1254068, 200),
        ("附件", [{"file_token": "boxUnknown"}], 1254027, 403),
        ("电话", "call me", 1254072, 200),
        ("公式", "x", 1254015, 400),
        ("编号", "1", 1254015, 400),
        ("不存在", "x", 1254045, 200),
    ],
)
async def test_write_validation_codes(field: str, value: Any, code: int, status: int) -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        r = await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "ok", field: value}})
        assert r.status_code == status and r.json()["code"] == code
        assert r.json()["data"] == {} and r.json()["error"]["log_id"]
        assert emu.records(BASE, tid) == []  # nothing written


async def test_user_id_type_on_write_and_link_validation() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        r = await c.post(
            f"{API}/tables/{tid}/records",
            params={"user_id_type": "user_id"},
            json={"fields": {"负责人": [{"id": "u_bob"}]}},
        )
        assert r.json()["code"] == 0
        assert emu.cell(BASE, tid, r.json()["data"]["record"]["record_id"], "负责人") == ["ou_bob"]
        fields = [
            {"field_name": "名", "type": 1},
            {"field_name": "上级", "type": 18, "property": {"table_id": tid}},
        ]
        t2 = await new_table(c, "B", fields)
        r = await c.post(f"{API}/tables/{t2}/records", json={"fields": {"上级": ["recNope123"]}})
        assert r.json()["code"] == 1254067
        r = await c.post(f"{API}/tables/{tid}/records", params={"user_id_type": "email"}, json={"fields": {}})
        assert r.status_code == 400 and r.json()["code"] == 99992402


async def test_select_options_are_auto_created() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"状态": "新状态", "标签": ["x", "y"]}})
        fields = (await c.get(f"{API}/tables/{tid}/fields")).json()["data"]["items"]
        by_name = {f["field_name"]: f for f in fields}
        assert [o["name"] for o in by_name["状态"]["property"]["options"]] == ["待办", "完成", "新状态"]
        assert [o["name"] for o in by_name["标签"]["property"]["options"]] == ["x", "y"]


async def test_batch_create_options_new_in_a_batch() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        records = [
            {"fields": {"状态": "新", "标签": ["w", "w"]}},  # equal new names: equal new options (documented)
            {"fields": {"状态": "新", "标签": ["w", "v"]}},  # created by the record before: reused
        ]
        r = await c.post(f"{API}/tables/{tid}/records/batch_create", json={"records": records})
        assert [x["fields"] for x in r.json()["data"]["records"]] == [x["fields"] for x in records]
        fields = (await c.get(f"{API}/tables/{tid}/fields")).json()["data"]["items"]
        by_name = {f["field_name"]: f["property"]["options"] for f in fields if f["type"] in (3, 4)}
        assert [o["name"] for o in by_name["状态"]] == ["待办", "完成", "新"]
        assert [o["name"] for o in by_name["标签"]] == ["w", "w", "v"]
        table = emu.table(BASE, tid)
        tags = next(f for f in table.fields.values() if f.name == "标签")
        ids = [o["id"] for o in by_name["标签"]]
        assert [rec.values[tags.field_id] for rec in table.records.values()] == [ids[:2], [ids[0], ids[2]]]
        assert [x["fields"]["状态"] for x in emu.records(BASE, tid)] == ["新", "新"]


async def test_batch_operations_and_caps() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        rows = [{"fields": {"名称": f"r{i}", "数量": i}} for i in range(500)]
        r = await c.post(f"{API}/tables/{tid}/records/batch_create", json={"records": rows})
        created = r.json()["data"]["records"]
        assert len(created) == 500 and created[0]["fields"] == {"名称": "r0", "数量": 0}
        r = await c.post(f"{API}/tables/{tid}/records/batch_create", json={"records": [*rows, rows[0]]})
        assert r.status_code == 200 and r.json()["code"] == 1254104
        ids = [x["record_id"] for x in created]
        upd = [{"record_id": rid, "fields": {"数量": 1000}} for rid in ids[:3]]
        r = await c.post(f"{API}/tables/{tid}/records/batch_update", json={"records": upd})
        assert [x["fields"] for x in r.json()["data"]["records"]] == [{"数量": 1000}] * 3
        bad = [*upd, {"record_id": "recGhost", "fields": {"数量": 1}}]
        r = await c.post(f"{API}/tables/{tid}/records/batch_update", json={"records": bad})
        assert r.json()["code"] == 1254043
        r = await c.post(f"{API}/tables/{tid}/records/batch_update", json={"records": upd * 167})
        assert r.json()["code"] == 1254104
        r = await c.post(f"{API}/tables/{tid}/records/batch_get", json={"record_ids": [ids[0], "recGhost"]})
        data = r.json()["data"]
        assert data["absent_record_ids"] == ["recGhost"] and data["forbidden_record_ids"] == []
        assert data["records"][0]["fields"]["数量"] == 1000
        assert data["records"][0]["fields"]["名称"] == [{"text": "r0", "type": "text"}]
        r = await c.post(f"{API}/tables/{tid}/records/batch_get", json={"record_ids": ids[:101]})
        assert r.json()["code"] == 1254104
        r = await c.post(f"{API}/tables/{tid}/records/batch_delete", json={"records": ids[:501] + ids[:1]})
        assert r.json()["code"] == 1254104
        r = await c.post(f"{API}/tables/{tid}/records/batch_delete", json={"records": ids[:2]})
        assert r.json()["data"]["records"] == [{"deleted": True, "record_id": x} for x in ids[:2]]
        r = await c.post(f"{API}/tables/{tid}/records/batch_delete", json={"records": ids[:3]})
        assert r.json()["code"] == 1254043  # all or nothing
        assert len(emu.records(BASE, tid)) == 498


async def test_record_limit_per_table() -> None:
    emu = make_emu(max_records_per_table=3)
    async with client(emu) as c:
        tid = await new_table(c)
        rows = [{"fields": {"名称": str(i)}} for i in range(3)]
        assert (await c.post(f"{API}/tables/{tid}/records/batch_create", json={"records": rows})).json()[
            "code"
        ] == 0
        r = await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "x"}})
        assert r.json()["code"] == 1254103


# --------------------------------------------------------------------------------------- search


async def seed_search(c: httpx.AsyncClient, emu: FeishuEmulator) -> str:
    tid = await new_table(c)
    now = int(emu.clock.now() * 1000)
    rows = [
        {"名称": "Alpha report", "数量": 5, "状态": "待办", "标签": ["a"], "日期": now, "完成": True},
        {"名称": "beta", "数量": 10, "状态": "完成", "标签": ["a", "b"], "日期": now - 3 * DAY_MS},
        {"名称": "gamma", "数量": 1, "标签": ["b"], "负责人": [{"id": "ou_bob"}], "日期": now + 40 * DAY_MS},
        {"名称": "delta"},
    ]
    r = await c.post(
        f"{API}/tables/{tid}/records/batch_create", json={"records": [{"fields": x} for x in rows]}
    )
    assert r.json()["code"] == 0
    return tid


def names(resp: dict) -> list[str]:
    return [i["fields"]["名称"][0]["text"] for i in resp["data"]["items"]]


def flt(*conditions: tuple[str, str, list[str] | None], conjunction: str = "or", **extra: Any) -> dict:
    conds = [
        {"field_name": f, "operator": o, **({"value": v} if v is not None else {})} for f, o, v in conditions
    ]
    return {"filter": {"conjunction": conjunction, "conditions": conds, **extra}}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("名称", "is", ["beta"]), ["beta"]),
        (("名称", "contains", ["ALPHA", "gam"]), ["Alpha report", "gamma"]),
        (("名称", "doesNotContain", ["a"]), []),
        (("数量", "isGreater", ["4"]), ["Alpha report", "beta"]),
        (("数量", "isLessEqual", ["5"]), ["Alpha report", "gamma"]),
        (("数量", "isNot", ["5"]), ["beta", "gamma", "delta"]),
        (("数量", "isEmpty", []), ["delta"]),
        (("状态", "is", ["待办"]), ["Alpha report"]),
        (("状态", "isNot", ["待办"]), ["beta", "gamma", "delta"]),
        (("标签", "is", ["a"]), ["Alpha report"]),
        (("标签", "contains", ["b"]), ["beta", "gamma"]),
        (("标签", "doesNotContain", ["a"]), ["gamma", "delta"]),
        (("标签", "isNotEmpty", None), ["Alpha report", "beta", "gamma"]),
        (("完成", "is", ["true"]), ["Alpha report"]),
        (("完成", "is", ["false"]), ["beta", "gamma", "delta"]),
        (("负责人", "is", ["ou_bob"]), ["gamma"]),
        (("日期", "is", ["Today"]), ["Alpha report"]),
        (("日期", "isLess", ["Today"]), ["beta"]),
        (("日期", "isGreater", ["Today"]), ["gamma"]),
        (("日期", "is", ["TheLastWeek"]), ["Alpha report", "beta"]),
    ],
)
async def test_search_operators(condition: tuple[str, str, list[str] | None], expected: list[str]) -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await seed_search(c, emu)
        assert names(await search(c, tid, flt(condition))) == expected


async def test_search_exact_date_compares_the_day() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await seed_search(c, emu)
        some_ms_today = str(int(emu.clock.now() * 1000) - 1000)
        resp = await search(c, tid, flt(("日期", "is", ["ExactDate", some_ms_today])))
        assert names(resp) == ["Alpha report"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (flt(("名称", "like", ["a"])), 1254018),
        (flt(("名称", "in", ["a"])), 1254018),
        (flt(("日期", "isNot", ["Today"])), 1254018),
        (flt(("日期", "contains", ["Today"])), 1254018),
        (flt(("日期", "isGreaterEqual", ["Today"])), 1254018),
        (flt(("日期", "is", ["Someday"])), 1254018),
        (flt(("数量", "contains", ["1"])), 1254018),
        (flt(("数量", "is", ["many"])), 1254018),
        (flt(("名称", "is", None)), 1254018),
        ({"filter": {"conditions": [{"field_name": "名称", "operator": "is", "value": ["a"]}]}}, 1254018),
        (flt(("不存在", "is", ["a"])), 1254045),
        ({"sort": [{"field_name": "不存在"}]}, 1254045),
        ({"field_names": ["名称", "不存在"]}, 1254045),
    ],
)
async def test_search_invalid_requests(body: dict, code: int) -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await seed_search(c, emu)
        resp = await search(c, tid, body)
        assert resp["code"] == code and resp["msg"]


async def test_search_children_sort_fields_and_paging() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await seed_search(c, emu)
        body = flt(
            ("完成", "is", ["true"]),
            conjunction="or",
            children=[
                {
                    "conjunction": "and",
                    "conditions": [
                        {"field_name": "数量", "operator": "isGreater", "value": ["0"]},
                        {"field_name": "标签", "operator": "contains", "value": ["b"]},
                    ],
                }
            ],
        )
        assert names(await search(c, tid, body)) == ["Alpha report", "beta", "gamma"]
        nested = {**body["filter"], "children": [{**body["filter"]["children"][0], "children": [{}]}]}
        assert (await search(c, tid, {"filter": nested}))["code"] == 1254018
        sorted_desc = await search(c, tid, {"sort": [{"field_name": "数量", "desc": True}]})
        assert names(sorted_desc) == ["beta", "Alpha report", "gamma", "delta"]  # empty last
        sorted_asc = await search(c, tid, {"sort": [{"field_name": "数量"}]})
        assert names(sorted_asc) == ["gamma", "Alpha report", "beta", "delta"]
        only = await search(c, tid, {"field_names": ["数量"]})
        assert [set(i["fields"]) for i in only["data"]["items"]] == [{"数量"}] * 3 + [set()]
        page1 = await search(c, tid, {}, page_size=3)
        assert page1["data"]["has_more"] is True and page1["data"]["total"] == 4
        token = page1["data"]["page_token"]
        page2 = await search(c, tid, {}, page_size=3, page_token=token)
        again = await search(c, tid, {}, page_size=3, page_token=token)
        assert names(page2) == names(again) == ["delta"] and page2["data"]["has_more"] is False
        assert "page_token" not in page2["data"]
        resp = await search(c, tid, {}, page_size=501)
        assert resp["code"] == 99992402
        assert (await search(c, tid, {}, page_token="garbage!"))["code"] == 99992402


async def test_deprecated_list_formula_filter_and_sort() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await seed_search(c, emu)

        async def listed(**params: Any) -> Any:
            r = await c.get(f"{API}/tables/{tid}/records", params=params)
            body = r.json()
            if body["code"]:
                return body["code"]
            return [i["fields"].get("名称") for i in body["data"]["items"]]

        assert await listed(filter="CurrentValue.[数量] >= 5") == ["Alpha report", "beta"]
        assert await listed(filter='AND(CurrentValue.[数量]>1, CurrentValue.[名称].contains("a"))') == [
            "Alpha report",
            "beta",
        ]
        assert await listed(filter='OR(CurrentValue.[状态]="完成",CurrentValue.[名称]="delta")') == [
            "beta",
            "delta",
        ]
        assert await listed(filter='CurrentValue.[数量]=""') == ["delta"]
        assert await listed(filter='NOT(CurrentValue.[数量]="")&&CurrentValue.[标签]="b"') == [
            "beta",
            "gamma",
        ]
        assert await listed(filter="CurrentValue.[日期] = TODAY()") == ["Alpha report"]
        assert await listed(filter="CurrentValue.[日期] > TODAY()+1") == ["gamma"]
        assert await listed(filter="CurrentValue.[完成]=1") == ["Alpha report"]
        assert await listed(sort='["数量 DESC"]') == ["beta", "Alpha report", "gamma", "delta"]
        assert await listed(filter="CurrentValue.[数量] >") == 1254018
        assert await listed(filter="CurrentValue.[没有]=1") == 1254045
        assert await listed(sort="not json") == 1254016
        assert await listed(field_names="[") == 1254024


# --------------------------------------------------------------------------------------- idempotency


async def test_client_token_dedupes_and_conflicts() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        token = str(uuid.uuid4())
        body = {"records": [{"fields": {"名称": "once"}}]}
        url = f"{API}/tables/{tid}/records/batch_create"
        first = (await c.post(url, params={"client_token": token}, json=body)).json()
        second = (await c.post(url, params={"client_token": token}, json=body)).json()
        assert first["code"] == 0 and first["data"] == second["data"]
        assert len(emu.records(BASE, tid)) == 1
        other = {"records": [{"fields": {"名称": "different"}}]}
        r = await c.post(url, params={"client_token": token}, json=other)
        assert r.status_code == 400 and r.json()["code"] == 1255006
        r = await c.post(url, params={"client_token": "not-a-uuid"}, json=body)
        assert r.status_code == 400 and r.json()["code"] == 1254037
        one = str(uuid.uuid4())
        for _ in range(2):
            r = await c.post(f"{API}/tables/{tid}/records", params={"client_token": one}, json={"fields": {}})
            assert r.json()["code"] == 0
        assert len(emu.records(BASE, tid)) == 2


async def test_client_token_replays_the_same_json_in_another_key_order() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        token = str(uuid.uuid4())
        url = f"{API}/tables/{tid}/records/batch_create"
        one = rb'{"records":[{"fields":{"\u540d\u79f0":"a","\u6570\u91cf":1}}]}'
        other = rb'{"records": [{"fields": {"\u6570\u91cf": 1, "\u540d\u79f0": "a"}}]}'
        headers = {"content-type": "application/json"}
        first = (await c.post(url, params={"client_token": token}, content=one, headers=headers)).json()
        again = (await c.post(url, params={"client_token": token}, content=other, headers=headers)).json()
        assert first["code"] == 0 and again == first
        assert len(emu.records(BASE, tid)) == 1


async def test_failed_write_does_not_consume_client_token() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        token = str(uuid.uuid4())
        url = f"{API}/tables/{tid}/records"
        emu.faults.add("transient", match="records$")
        r = await c.post(url, params={"client_token": token}, json={"fields": {"名称": "x"}})
        assert r.json()["code"] == 1254290 and r.status_code == 200
        r = await c.post(url, params={"client_token": token}, json={"fields": {"名称": "x"}})
        assert r.json()["code"] == 0 and len(emu.records(BASE, tid)) == 1


# --------------------------------------------------------------------------------------- concurrency


async def test_concurrent_writes_to_one_table_conflict() -> None:
    emu = make_emu(write_time=0.05)
    async with client(emu) as c:
        t1 = await new_table(c, "T1")
        t2 = await new_table(c, "T2")
        results: dict[str, Any] = {}

        async def write(key: str, table_id: str) -> None:
            r = await c.post(f"{API}/tables/{table_id}/records", json={"fields": {"名称": key}})
            results[key] = r.json()["code"]

        async with anyio.create_task_group() as tg:
            tg.start_soon(write, "a", t1)
            tg.start_soon(write, "b", t1)
            tg.start_soon(write, "c", t2)
        assert sorted([results["a"], results["b"]]) == [0, 1254291]
        assert results["c"] == 0
        assert len(emu.records(BASE, t1)) == 1
        r = await c.post(f"{API}/tables/{t1}/records", json={"fields": {"名称": "later"}})
        assert r.json()["code"] == 0  # the flag is released


# --------------------------------------------------------------------------------------- limits, faults


async def test_rate_limit_returns_429_with_headers() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        codes = [(await c.post(f"{API}/tables/{tid}/records/search", json={})).status_code for _ in range(20)]
        assert codes == [200] * 20
        r = await c.post(f"{API}/tables/{tid}/records/search", json={})
        assert r.status_code == 429
        assert r.json()["code"] == 99991400 and r.json()["msg"] == "request trigger frequency limit"
        assert r.headers["x-ogw-ratelimit-limit"] == "20" and int(r.headers["x-ogw-ratelimit-reset"]) >= 1
        assert (await c.get(f"{API}/tables/{tid}/fields")).status_code == 200  # per endpoint
        emu.clock.advance(1.1)
        assert (await c.post(f"{API}/tables/{tid}/records/search", json={})).status_code == 200


async def test_fault_kinds() -> None:
    emu = make_emu()
    async with client(emu) as c:
        tid = await new_table(c)
        emu.faults.add("transient", match="search", times=4)
        seen = []
        for _ in range(4):
            r = await c.post(f"{API}/tables/{tid}/records/search", json={})
            seen.append((r.status_code, r.json()["code"] if r.status_code != 500 else None))
        assert seen == [(200, 1254290), (400, 1254607), (504, 1255040), (500, None)]
        emu.faults.add("throttle")
        r = await c.get(f"{API}/tables")
        assert r.status_code == 429 and r.json()["code"] == 99991400
        emu.faults.add("lost_response", match="batch_create")
        token = str(uuid.uuid4())
        body = {"records": [{"fields": {"名称": "lost"}}]}
        url = f"{API}/tables/{tid}/records/batch_create"
        with pytest.raises(httpx.ReadTimeout):
            await c.post(url, params={"client_token": token}, json=body)
        assert len(emu.records(BASE, tid)) == 1  # the write happened
        r = await c.post(url, params={"client_token": token}, json=body)
        assert r.json()["code"] == 0 and len(emu.records(BASE, tid)) == 1  # the retry did not write twice
        assert emu.faults.injected["lost_response"] == 1


async def test_duplex_link_keeps_back_links() -> None:
    emu = make_emu()
    async with client(emu) as c:
        people = await new_table(c, "人员", [{"field_name": "姓名", "type": 1}])
        prop = {"table_id": people, "back_field_name": "项目"}
        projects = await new_table(c, "项目表", [{"field_name": "项目名", "type": 1}])
        r = await c.post(
            f"{API}/tables/{projects}/fields", json={"field_name": "成员", "type": 21, "property": prop}
        )
        field = r.json()["data"]["field"]
        assert field["property"]["back_field_name"] == "项目" and field["property"]["back_field_id"]
        p = await c.post(f"{API}/tables/{people}/records", json={"fields": {"姓名": "王"}})
        pid = p.json()["data"]["record"]["record_id"]
        r = await c.post(f"{API}/tables/{projects}/records", json={"fields": {"项目名": "X", "成员": [pid]}})
        xid = r.json()["data"]["record"]["record_id"]
        back = (await search(c, people))["data"]["items"][0]["fields"]["项目"]
        assert back == {"link_record_ids": [xid]}
        await c.delete(f"{API}/tables/{people}/records/{pid}")
        assert "成员" not in (await search(c, projects))["data"]["items"][0]["fields"]
