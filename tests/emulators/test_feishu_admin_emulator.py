"""Raw-HTTP tests of the Feishu emulator's base-administration endpoints (reference A.10, A.11,
A.18-A.21, A.25-A.28, A.41-A.49): shapes, limits, and each page's documented codes with their
HTTP status.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import FeishuEmulator

pytestmark = pytest.mark.anyio

APP_ID = "cli_test0000000001"
SECRET = "s3cret"
BASE = "bascnAdminApp0001"
API = f"/open-apis/bitable/v1/apps/{BASE}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_emu(**kwargs: Any) -> FeishuEmulator:
    emu = FeishuEmulator(app_id=APP_ID, app_secret=SECRET, **kwargs)
    emu.add_app(BASE, name="管理")
    emu.add_user("ou_alice", "Alice", union_id="on_alice", user_id="u_alice", en_name="Alice A")
    emu.add_user("ou_bob", "Bob", union_id="on_bob", user_id="u_bob")
    emu.add_chat("oc_team", "Team")
    emu.add_department("od-sales", "Sales", department_id="d_sales")
    fields = [
        {"field_name": "名称", "type": 1},
        {"field_name": "状态", "type": 3, "property": {"options": [{"name": "待办"}, {"name": "完成"}]}},
        {"field_name": "负责人", "type": 11},
        {"field_name": "数量", "type": 2},
        {"field_name": "公式", "type": 20},
    ]
    emu.add_table(BASE, "任务", fields=fields)
    return emu


def client(emu: FeishuEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=EmulatorTransport(emu),
        base_url="https://open.feishu.cn",
        headers={"Authorization": f"Bearer {emu.issue_token(APP_ID)}"},
    )


def answer(r: httpx.Response) -> tuple[int, int]:
    return r.status_code, r.json()["code"]


def table_id(emu: FeishuEmulator) -> str:
    return emu.table(BASE, "任务").table_id


def option_ids(emu: FeishuEmulator) -> dict[str, str]:
    f = emu.table(BASE, "任务").by_name()["状态"]
    return {o["name"]: o["id"] for o in (f.property or {})["options"]}


# --------------------------------------------------------------------------------- app (A.10, A.11)


async def test_app_metadata_get_and_update() -> None:
    emu = make_emu()
    async with client(emu) as c:
        r = await c.get(API)
        app = r.json()["data"]["app"]
        assert app == {"app_token": BASE, "name": "管理", "revision": app["revision"], "is_advanced": False}
        r = await c.put(API, json={"name": "新名字"})
        assert r.json()["data"]["app"] == {"app_token": BASE, "name": "新名字", "is_advanced": False}
        r = await c.put(API, json={"is_advanced": True})  # fields left out are not touched
        assert r.json()["data"]["app"] == {"app_token": BASE, "name": "新名字", "is_advanced": True}
        assert (await c.get(API)).json()["data"]["app"]["revision"] > app["revision"]
        assert answer(await c.put(API, json={"name": "a/b"})) == (200, 1254031)  # InvalidAppName: HTTP 200
        assert answer(await c.put(API, json={"name": "x" * 101})) == (200, 1254031)
        assert answer(await c.put(API, json={"is_advanced": "yes"})) == (200, 1254001)
        r = await c.get("/open-apis/bitable/v1/apps/bascnMissing")
        assert answer(r) == (200, 1254040)


async def test_app_update_is_not_atomic_and_refuses_advanced_where_impossible() -> None:
    emu = make_emu()
    emu.app(BASE).advanced_allowed = False  # a base inside Docs, Sheets or the Wiki
    async with client(emu) as c:
        r = await c.put(API, json={"name": "renamed", "is_advanced": True})
        assert answer(r) == (400, 1254301)  # A.11: 400 OperationTypeError
        app = (await c.get(API)).json()["data"]["app"]
        assert app["name"] == "renamed" and app["is_advanced"] is False  # the name changed first (A.11)


# --------------------------------------------------------------------------------- dashboards (A.18, A.19)


async def test_dashboards_list_pages_and_copy() -> None:
    emu = make_emu()
    first = emu.add_dashboard(BASE, "总览")
    for i in range(4):
        emu.add_dashboard(BASE, f"看板{i}")
    async with client(emu) as c:
        r = await c.get(f"{API}/dashboards", params={"page_size": 2})
        data = r.json()["data"]
        assert [d["name"] for d in data["dashboards"]] == ["总览", "看板0"] and data["has_more"] is True
        r = await c.get(f"{API}/dashboards", params={"page_size": 2, "page_token": data["page_token"]})
        assert [d["name"] for d in r.json()["data"]["dashboards"]] == ["看板1", "看板2"]
        r = await c.get(f"{API}/dashboards", params={"page_size": 501})  # max 500
        assert answer(r) == (400, 99992402)
        r = await c.post(f"{API}/dashboards/{first}/copy", json={"name": "总览副本"})
        copy = r.json()["data"]
        assert r.json()["code"] == 0 and copy["name"] == "总览副本" and copy["block_id"].startswith("blk")
        assert emu.app(BASE).dashboards[copy["block_id"]]["name"] == "总览副本"
        assert answer(await c.post(f"{API}/dashboards/blkMissing/copy", json={"name": "x"})) == (404, 1254050)
        assert answer(await c.post(f"{API}/dashboards/{first}/copy", json={"name": "总览"})) == (400, 1254039)
        assert answer(await c.post(f"{API}/dashboards/{first}/copy", json={"name": "a[1]"})) == (400, 1254038)
        assert answer(await c.post(f"{API}/dashboards/{first}/copy", json={})) == (400, 1254001)
        assert answer(
            await c.post("/open-apis/bitable/v1/apps/bascnNo/dashboards/x/copy", json={"name": "x"})
        ) == (
            404,
            1254040,
        )


# --------------------------------------------------------------------------------- views (A.20, A.21)


async def test_view_filter_names_options_by_id() -> None:
    emu = make_emu()
    tid = table_id(emu)
    status = emu.table(BASE, tid).by_name()["状态"].field_id
    async with client(emu) as c:
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "a", "状态": "待办"}})
        await c.post(f"{API}/tables/{tid}/records", json={"fields": {"名称": "b", "状态": "完成"}})
        view_id = next(iter(emu.table(BASE, tid).views))
        done = option_ids(emu)["完成"]
        cond = {"field_id": status, "operator": "is", "value": json.dumps([done])}
        body = {
            "property": {"filter_info": {"conjunction": "and", "conditions": [cond]}, "hidden_fields": None}
        }
        r = await c.patch(f"{API}/tables/{tid}/views/{view_id}", json=body)
        assert r.json()["code"] == 0
        items = (await c.post(f"{API}/tables/{tid}/records/search", json={"view_id": view_id})).json()[
            "data"
        ]["items"]
        assert [i["fields"]["名称"][0]["text"] for i in items] == ["b"]
        by_name = {**cond, "value": '["完成"]'}  # A.20's example names options by id
        body = {
            "property": {
                "filter_info": {"conjunction": "and", "conditions": [by_name]},
                "hidden_fields": None,
            }
        }
        assert answer(await c.patch(f"{API}/tables/{tid}/views/{view_id}", json=body)) == (400, 1254018)
        r = await c.get(f"{API}/tables/{tid}/views/{view_id}")
        assert r.json()["data"]["view"]["property"]["filter_info"]["conditions"][0]["value"] == json.dumps(
            [done]
        )


# --------------------------------------------------------------------------------- forms (A.25-A.28)


async def make_form(c: httpx.AsyncClient, tid: str, name: str = "报名") -> str:
    r = await c.post(f"{API}/tables/{tid}/views", json={"view_name": name, "view_type": "form"})
    return str(r.json()["data"]["view"]["view_id"])


async def test_form_metadata_get_and_patch() -> None:
    emu = make_emu()
    tid = table_id(emu)
    async with client(emu) as c:
        form_id = await make_form(c, tid)
        form = (await c.get(f"{API}/tables/{tid}/forms/{form_id}")).json()["data"]["form"]
        assert form == {
            "name": "报名",
            "description": "",
            "shared": False,
            "shared_url": "",
            "shared_limit": "off",
            "submit_limit_once": False,
        }
        patch = {
            "description": "填写",
            "shared": True,
            "shared_limit": "anyone_editable",
            "submit_limit_once": True,
        }
        form = (await c.patch(f"{API}/tables/{tid}/forms/{form_id}", json=patch)).json()["data"]["form"]
        assert {k: form[k] for k in patch} == patch and form["name"] == "报名"
        assert form["shared_url"].startswith("https://") and "/share/base/" in form["shared_url"]
        bad = await c.patch(f"{API}/tables/{tid}/forms/{form_id}", json={"shared_limit": "public"})
        assert answer(bad) == (400, 1254001)
        assert answer(await c.patch(f"{API}/tables/{tid}/forms/{form_id}", json={"shared": "yes"})) == (
            400,
            1254001,
        )
        grid = next(v for v in emu.table(BASE, tid).views.values() if v.type == "grid").view_id
        assert answer(await c.get(f"{API}/tables/{tid}/forms/{grid}")) == (400, 1254005)  # a view, not a form
        assert answer(await c.get(f"{API}/tables/{tid}/forms/vewMissing")) == (404, 1254042)
        assert answer(await c.get(f"{API}/tables/tblMissing/forms/{form_id}")) == (404, 1254041)


async def test_form_questions_list_patch_and_order() -> None:
    emu = make_emu()
    tid = table_id(emu)
    async with client(emu) as c:
        form_id = await make_form(c, tid)
        url = f"{API}/tables/{tid}/forms/{form_id}/fields"
        data = (await c.get(url)).json()["data"]
        titles = [q["title"] for q in data["items"]]
        assert (
            titles == ["名称", "状态", "负责人", "数量"] and data["total"] == 4
        )  # the formula is no question
        assert data["items"][0] == {
            "field_id": data["items"][0]["field_id"],
            "title": "名称",
            "description": "",
            "required": False,
            "visible": True,
        }
        ids = [q["field_id"] for q in data["items"]]
        page = (await c.get(url, params={"page_size": 3})).json()["data"]
        assert len(page["items"]) == 3 and page["has_more"] is True
        assert answer(await c.get(url, params={"page_size": 101})) == (400, 99992402)
        r = await c.patch(f"{url}/{ids[3]}", json={"title": "多少", "required": True, "pre_field_id": ""})
        assert r.json()["data"]["field"] == {
            "pre_field_id": "",
            "title": "多少",
            "description": "",
            "required": True,
            "visible": True,
        }
        r = await c.patch(f"{url}/{ids[0]}", json={"pre_field_id": ids[2]})
        assert r.json()["data"]["field"]["pre_field_id"] == ids[2]
        order = [q["field_id"] for q in (await c.get(url)).json()["data"]["items"]]
        assert order == [ids[3], ids[1], ids[2], ids[0]]
        assert answer(await c.patch(f"{url}/fldMissing", json={"title": "x"})) == (404, 1254049)
        assert answer(await c.patch(f"{url}/{ids[1]}", json={"pre_field_id": "fldMissing"})) == (404, 1254049)
        # A.27: a question being hidden (or hidden already) takes no other change
        assert answer(await c.patch(f"{url}/{ids[1]}", json={"visible": False, "title": "x"})) == (
            400,
            1254001,
        )
        assert (await c.patch(f"{url}/{ids[1]}", json={"visible": False})).json()["code"] == 0
        assert answer(await c.patch(f"{url}/{ids[1]}", json={"title": "y"})) == (400, 1254001)
        assert (await c.patch(f"{url}/{ids[1]}", json={"visible": True, "title": "y"})).json()["code"] == 0
        await c.post(f"{API}/tables/{tid}/fields", json={"field_name": "备注", "type": 1})
        assert [q["title"] for q in (await c.get(url)).json()["data"]["items"]][-1] == "备注"


async def test_form_writes_are_table_writes() -> None:
    emu = make_emu(write_time=0.05)
    tid = table_id(emu)
    async with client(emu) as c:
        form_id = await make_form(c, tid)
        codes: list[int] = []

        async def patch(n: int) -> None:
            r = await c.patch(f"{API}/tables/{tid}/forms/{form_id}", json={"description": str(n)})
            codes.append(r.json()["code"])

        async with anyio.create_task_group() as tg:
            tg.start_soon(patch, 1)
            tg.start_soon(patch, 2)
        assert sorted(codes) == [0, 1254291]  # 修改表单 is a write to the table (Write conflict)


# --------------------------------------------------------------------------------- roles (A.41-A.44)


def role_body(emu: FeishuEmulator, name: str = "销售", **table: Any) -> dict[str, Any]:
    entry = {"table_id": table_id(emu), "table_name": "任务", "table_perm": 2, **table}
    return {"role_name": name, "table_roles": [entry], "block_roles": []}


async def test_roles_need_advanced_permissions_and_their_delay() -> None:
    emu = make_emu(advanced_delay=5)
    async with client(emu) as c:
        assert answer(await c.get(f"{API}/roles")) == (400, 1254301)
        assert answer(await c.post(f"{API}/roles", json=role_body(emu))) == (400, 1254301)
        await c.put(API, json={"is_advanced": True})
        assert answer(await c.get(f"{API}/roles")) == (400, 1254301)  # A.7: switching on takes a moment
        emu.clock.advance(6)
        assert answer(await c.get(f"{API}/roles")) == (200, 0)


async def test_role_create_list_update_delete() -> None:
    emu = make_emu()
    emu.app(BASE).is_advanced = True
    board = emu.add_dashboard(BASE, "总览")
    done = option_ids(emu)["完成"]
    async with client(emu) as c:
        rule = {
            "conditions": [
                {"field_name": "状态", "operator": "is", "value": [done]},
                {"field_name": "负责人"},
                {"field_name": ""},
            ],
            "conjunction": "or",
            "other_perm": 1,
        }
        body = role_body(emu, allow_add_record=False, rec_rule=rule, field_perm={"数量": 1})
        body["block_roles"] = [{"block_id": board, "block_perm": 1}]
        created = (await c.post(f"{API}/roles", json=body)).json()["data"]["role"]
        assert created["role_id"].startswith("rol") and created["role_name"] == "销售"
        listed = (await c.get(f"{API}/roles")).json()["data"]
        assert listed["total"] == 1
        table_role = listed["items"][0]["table_roles"][0]
        assert table_role["allow_add_record"] is False and table_role["allow_delete_record"] is True
        assert table_role["field_perm"] == {"数量": 1}
        assert table_role["rec_rule"]["conditions"] == [
            {"field_name": "状态", "field_type": 3, "operator": "is", "value": [done]},
            {"field_name": "负责人", "field_type": 11, "operator": "contains", "value": None},
            {"field_name": "", "field_type": 1003, "operator": "contains", "value": None},
        ]
        assert listed["items"][0]["block_roles"] == [
            {"block_id": board, "block_type": "dashboard", "block_perm": 1}
        ]
        # A.44: a full replacement, answered with addrecords_perm / deleterecords_perm and no role_id
        new = role_body(emu, "销售二", table_perm=1)
        r = await c.put(f"{API}/roles/{created['role_id']}", json=new)
        role = r.json()["data"]["role"]
        assert "role_id" not in role and role["role_name"] == "销售二"
        assert role["table_roles"] == [{"table_name": "任务", "table_id": table_id(emu), "table_perm": 1}]
        assert role["block_roles"] == []
        r = await c.put(f"{API}/roles/{created['role_id']}", json=role_body(emu, "三", table_perm=2))
        assert r.json()["data"]["role"]["table_roles"][0]["addrecords_perm"] is True
        assert answer(await c.put(f"{API}/roles/rolMissing", json=new)) == (404, 1254047)
        assert answer(await c.delete(f"{API}/roles/rolMissing")) == (404, 1254047)
        assert (await c.delete(f"{API}/roles/{created['role_id']}")).json()["code"] == 0
        assert (await c.get(f"{API}/roles")).json()["data"]["items"] == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"role_name": ""}, (400, 1254032)),
        ({"role_name": "x" * 101}, (400, 1254032)),
        ({"role_name": 7}, (200, 1254001)),
        ({"table_roles": None}, (200, 1254001)),  # A.42: role_name, table_roles, block_roles are required
        ({"block_roles": None}, (200, 1254001)),
        ({"table_roles": [{"table_id": "tblMissing", "table_perm": 1}]}, (200, 1254001)),
        ({"table_roles": [{"table_name": "任务", "table_perm": 3}]}, (200, 1254001)),
        ({"block_roles": [{"block_id": "blkMissing", "block_perm": 1}]}, (200, 1254001)),
        (
            {"table_roles": [{"table_name": "任务", "table_perm": 2, "field_perm": {"无此": 1}}]},
            (200, 1254001),
        ),
        (
            {
                "table_roles": [
                    {
                        "table_name": "任务",
                        "table_perm": 1,
                        "rec_rule": {"conditions": [{"field_name": "数量"}]},
                    }
                ]
            },
            (200, 1254001),  # record rules test select options or people
        ),
        ({"table_roles": [{"table_name": "任务", "table_perm": 0}] * 101}, (400, 99992402)),  # 最大长度 100
    ],
)
async def test_role_body_validation(change: dict[str, Any], expected: tuple[int, int]) -> None:
    emu = make_emu()
    emu.app(BASE).is_advanced = True
    body = {**role_body(emu), **change}
    async with client(emu) as c:
        assert answer(await c.post(f"{API}/roles", json=body)) == expected
        assert emu.app(BASE).roles == {}


async def test_role_names_limits_and_edition() -> None:
    emu = make_emu(max_roles=2)
    emu.app(BASE).is_advanced = True
    async with client(emu) as c:
        assert (await c.post(f"{API}/roles", json=role_body(emu, "a"))).json()["code"] == 0
        assert answer(await c.post(f"{API}/roles", json=role_body(emu, "a"))) == (400, 1254033)
        assert (await c.post(f"{API}/roles", json=role_body(emu, "b"))).json()["code"] == 0
        assert answer(await c.post(f"{API}/roles", json=role_body(emu, "c"))) == (400, 1254110)
        assert answer(await c.get(f"{API}/roles", params={"page_size": 31})) == (400, 99992402)  # max 30
        page = (await c.get(f"{API}/roles", params={"page_size": 1})).json()["data"]
        assert len(page["items"]) == 1 and page["has_more"] is True and page["total"] == 2
        emu.app(BASE).row_column_perms = False
        role_id = page["items"][0]["role_id"]
        limited = role_body(emu, "a", field_perm={"数量": 2})
        assert answer(await c.put(f"{API}/roles/{role_id}", json=limited)) == (403, 1254304)
        assert (await c.put(f"{API}/roles/{role_id}", json=role_body(emu, "a"))).json()["code"] == 0


# --------------------------------------------------------------------------------- members (A.45-A.49)


async def test_members_add_list_and_delete_by_every_id_type() -> None:
    emu = make_emu()
    role_id = emu.add_role(BASE, "销售")
    url = f"{API}/roles/{role_id}/members"
    async with client(emu) as c:
        r = await c.post(url, params={"member_id_type": "union_id"}, json={"member_id": "on_alice"})
        assert r.json() == {"code": 0, "msg": "success", "data": {}}
        batch = [
            {"type": "chat_id", "id": "oc_team"},
            {"type": "department_id", "id": "d_sales"},
            {"id": "ou_bob"},
        ]
        assert (await c.post(f"{url}/batch_create", json={"member_list": batch})).json()["code"] == 0
        assert (await c.post(url, json={"member_id": "ou_alice"})).json()["code"] == 0  # already: no change
        items = (await c.get(url)).json()["data"]["items"]
        assert items == [
            {
                "member_type": "user",
                "member_name": "Alice",
                "member_en_name": "Alice A",
                "open_id": "ou_alice",
                "union_id": "on_alice",
                "user_id": "u_alice",
            },
            {"member_type": "chat", "member_name": "Team", "member_en_name": "Team", "chat_id": "oc_team"},
            {
                "member_type": "department",
                "member_name": "Sales",
                "member_en_name": "Sales",
                "department_id": "d_sales",
                "open_department_id": "od-sales",
            },
            {
                "member_type": "user",
                "member_name": "Bob",
                "member_en_name": "Bob",
                "open_id": "ou_bob",
                "union_id": "on_bob",
                "user_id": "u_bob",
            },
        ]
        r = await c.delete(f"{url}/u_alice", params={"member_id_type": "user_id"})
        assert r.json()["code"] == 0
        gone = [{"type": "open_department_id", "id": "od-sales"}, {"type": "chat_id", "id": "oc_team"}]
        assert (await c.post(f"{url}/batch_delete", json={"member_list": gone})).json()["code"] == 0
        assert [i["member_name"] for i in (await c.get(url)).json()["data"]["items"]] == ["Bob"]


async def test_member_errors_and_limits() -> None:
    emu = make_emu(max_members=2)
    role_id = emu.add_role(BASE, "销售")
    url = f"{API}/roles/{role_id}/members"
    async with client(emu) as c:
        assert answer(await c.post(url, json={"member_id": "ou_nobody"})) == (404, 1254048)  # A.48: 404
        assert answer(await c.post(url, json={})) == (200, 1254001)
        r = await c.post(url, params={"member_id_type": "email"}, json={"member_id": "a@b.c"})
        assert answer(r) == (400, 99992402)
        nobody = [{"id": "ou_alice"}, {"id": "ou_nobody"}]
        assert answer(await c.post(f"{url}/batch_create", json={"member_list": nobody})) == (
            400,
            1254048,
        )  # A.46
        assert (await c.get(url)).json()["data"]["items"] == []  # all or nothing
        many = [{"id": "ou_alice"}] * 101
        assert answer(await c.post(f"{url}/batch_create", json={"member_list": many})) == (400, 99992402)
        assert answer(await c.post(f"{url}/batch_create", json={"member_list": []})) == (400, 1254001)
        three = [{"id": "ou_alice"}, {"id": "ou_bob"}, {"type": "chat_id", "id": "oc_team"}]
        assert answer(await c.post(f"{url}/batch_create", json={"member_list": three})) == (400, 1254111)
        assert (await c.post(f"{url}/batch_create", json={"member_list": three[:2]})).json()["code"] == 0
        r = await c.post(url, params={"member_id_type": "chat_id"}, json={"member_id": "oc_team"})
        assert answer(r) == (400, 1254111)  # A.48: MemberExceedLimit, 200 members per role
        assert answer(await c.delete(f"{url}/oc_team", params={"member_id_type": "chat_id"})) == (
            404,
            1254048,
        )
        gone = [{"id": "ou_alice"}, {"type": "chat_id", "id": "oc_team"}]
        assert answer(await c.post(f"{url}/batch_delete", json={"member_list": gone})) == (
            400,
            1254048,
        )  # A.45
        assert len((await c.get(url)).json()["data"]["items"]) == 2  # nothing removed
        assert answer(await c.get(f"{url}", params={"page_size": 101})) == (400, 99992402)
        missing = f"{API}/roles/rolMissing/members"
        assert answer(await c.get(missing)) == (404, 1254047)
        assert answer(await c.post(f"{missing}/batch_create", json={"member_list": three[:1]})) == (
            404,
            1254047,
        )
        emu.app(BASE).is_advanced = False
        assert answer(await c.get(url)) == (400, 1254301)
        assert answer(await c.post(f"{url}/batch_delete", json={"member_list": three[:1]})) == (400, 1254301)


async def test_admin_routes_are_rate_limited_and_fault_injected() -> None:
    emu = make_emu(rate_limits={"apps.get": 2})
    async with client(emu) as c:
        statuses = [(await c.get(API)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        emu.app(BASE).is_advanced = True
        emu.faults.add("transient", r"/roles$")
        r = await c.get(f"{API}/roles")
        assert answer(r) == (200, 1254290)  # TooManyRequest: HTTP 200 on the role pages
        emu.faults.add("transient", r"/dashboards$")
        assert answer(await c.get(f"{API}/dashboards")) == (400, 1254607)  # the next kind, at A.19's status
