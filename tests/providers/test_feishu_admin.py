"""feishu_read / feishu_update / feishu_delete through the MCP client, against the Feishu emulator:
every action, the documented errors as the agent sees them, lost answers reconciled (never a
duplicate), and the group's place in tools/list (listed only with feishu, writes hidden read-only).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from anytable.config import Settings
from anytable.server import build_server
from tests.emulators.feishu import FeishuEmulator
from tests.harness import Harness, serve
from tests.providers.feishu_harness import APP_ID, APP_SECRET, APP_TOKEN, emulator, env

pytestmark = pytest.mark.anyio

GROUP = {"feishu_read", "feishu_update", "feishu_delete"}
ADA, BOB = "ou_ada0000000001", "ou_bob0000000002"
DEALS = [
    {"field_name": "Title", "type": 1},
    {"field_name": "Stage", "type": 3, "property": {"options": [{"name": "Lead"}, {"name": "Won"}]}},
    {"field_name": "Owner", "type": 11},
    {"field_name": "Amount", "type": 2},
    {"field_name": "Due", "type": 5},
]


def admin_emulator(**knobs: Any) -> FeishuEmulator:
    emu = emulator(**knobs)
    emu.add_table(
        APP_TOKEN,
        "Deals",
        fields=DEALS,
        records=[
            {"Title": "a", "Stage": "Lead", "Amount": 5},
            {"Title": "b", "Stage": "Won", "Amount": 50},
            {"Title": "c", "Stage": "Won", "Amount": 7},
        ],
    )
    emu.add_dashboard(APP_TOKEN, "Overview")
    emu.add_chat("oc_team000000001", "Team")
    emu.add_department("od-sales00000001", "Sales", department_id="d_sales")
    return emu


@asynccontextmanager
async def admin(tmp_path: Path, emu: FeishuEmulator | None = None, **extra: str) -> AsyncIterator[Harness]:
    async with serve("feishu", env(**extra), tmp_path, emulator=emu or admin_emulator(), base=APP_TOKEN) as h:
        yield h


def sent(emu: FeishuEmulator, method: str, path_regex: str) -> int:
    return emu.count(method, path_regex)


# ------------------------------------------------------------------------------ tools/list


async def tools_of(settings: Settings) -> dict[str, dict[str, Any]]:
    server, _ = build_server(settings)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools}


async def test_group_is_listed_only_with_feishu_with_exact_annotations(tmp_path: Path) -> None:
    local = await tools_of(Settings(local_path=str(tmp_path / "a.sqlite")))
    assert not GROUP & set(local)
    feishu = Settings(
        local_path=str(tmp_path / "b.sqlite"), feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET
    )
    tools = await tools_of(feishu)
    assert set(tools) >= GROUP
    hints = {name: tools[name]["annotations"] for name in GROUP}
    assert hints["feishu_read"] == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    assert hints["feishu_update"] == {
        "readOnlyHint": False,
        "destructiveHint": False,
        "idempotentHint": False,
        "openWorldHint": True,
    }
    assert hints["feishu_delete"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    for name in GROUP:
        assert tools[name]["outputSchema"]["type"] == "object"
    read_only = await tools_of(feishu.model_copy(update={"read_only": True}))
    assert GROUP & set(read_only) == {"feishu_read"}


async def test_group_costs_under_2500_bytes_of_tools_list(tmp_path: Path) -> None:
    settings = Settings(
        local_path=str(tmp_path / "s.sqlite"), feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET
    )
    tools = await tools_of(settings)
    size = sum(len(json.dumps(tools[n], ensure_ascii=False, separators=(",", ":")).encode()) for n in GROUP)
    assert size < 2500, size


async def test_write_tools_are_not_callable_in_read_only_mode(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu, ANYTABLE_READ_ONLY="1") as h:
        assert (await h.call("feishu_read", what="app"))["app"]["name"] == "contract"
        for tool, args in (
            ("feishu_update", {"action": "update_app", "data": {"name": "x"}}),
            ("feishu_delete", {"action": "delete_role", "role": "r"}),
        ):
            result = await h.client.call_tool(tool, h.args(**args))
            assert result.is_error
        assert emu.app(APP_TOKEN).name == "contract" and sent(emu, "PUT", "") == 0


# ------------------------------------------------------------------------------ addressing


async def test_other_providers_are_refused_plainly(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        message = await h.fails("feishu_read", what="app", provider="local")
        assert "Feishu/Lark bases only" in message
        message = await h.fails("feishu_delete", action="delete_role", role="x", provider="local")
        assert "Feishu/Lark bases only" in message
        link = "https://alidocs.dingtalk.com/i/nodes/abc123"
        assert "DingTalk" in await h.fails("feishu_read", what="dashboards", base=link)
        assert sent(emu, "GET", "dashboards") == 0
        # a Feishu share link names the base (and the table and view)
        deals = emu.table(APP_TOKEN, "Deals")
        view_id = next(iter(deals.views))
        url = f"https://x.feishu.cn/base/{APP_TOKEN}?table={deals.table_id}&view={view_id}"
        got = await h.call("feishu_read", what="view", base=url)
        assert got["view"]["id"] == view_id


# ------------------------------------------------------------------------------ app


async def test_app_metadata_read_and_update(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        app = (await h.call("feishu_read", what="app"))["app"]
        assert app == {"id": APP_TOKEN, "name": "contract", "revision": app["revision"], "advanced": False}
        got = await h.call("feishu_update", action="update_app", data={"name": "CRM", "advanced": True})
        assert got["app"] == {"id": APP_TOKEN, "name": "CRM", "advanced": True}
        assert emu.app(APP_TOKEN).name == "CRM" and emu.app(APP_TOKEN).is_advanced
        puts = sent(emu, "PUT", "")
        assert "none of" in await h.fails("feishu_update", action="update_app", data={"name": "a/b"})
        message = await h.fails("feishu_update", action="update_app", data={"title": "x"})
        assert "'title'" in message and "name, advanced" in message and "Nothing was changed" in message
        assert "true or false" in await h.fails(
            "feishu_update", action="update_app", data={"advanced": "yes"}
        )
        assert "needs data" in await h.fails("feishu_update", action="update_app")
        assert sent(emu, "PUT", "") == puts  # refused before anything was sent


async def test_app_that_cannot_have_advanced_permissions(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).advanced_allowed = False
    async with admin(tmp_path, emu) as h:
        message = await h.fails(
            "feishu_update", action="update_app", data={"name": "Wiki base", "advanced": True}
        )
        assert "cannot have advanced permissions" in message
        assert "The name was changed to 'Wiki base'" in message  # A.11: not atomic, the name went first
        assert "feishu code 1254301" in message and "request id" in message


# ------------------------------------------------------------------------------ dashboards


async def test_dashboards_read_and_copy(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        boards = (await h.call("feishu_read", what="dashboards"))["dashboards"]
        assert [b["name"] for b in boards] == ["Overview"] and boards[0]["id"].startswith("blk")
        copy = (
            await h.call(
                "feishu_update", action="copy_dashboard", data={"dashboard": "Overview", "name": "Q3"}
            )
        )["dashboard"]
        assert copy["name"] == "Q3" and emu.app(APP_TOKEN).dashboards[copy["id"]]["name"] == "Q3"
        again = await h.fails(
            "feishu_update", action="copy_dashboard", data={"dashboard": boards[0]["id"], "name": "Q3"}
        )
        assert "already exists" in again
        missing = await h.fails(
            "feishu_update", action="copy_dashboard", data={"dashboard": "Nope", "name": "Q4"}
        )
        assert "No dashboard 'Nope'" in missing and "'Overview'" in missing
        assert "no [ or ]" in await h.fails(
            "feishu_update", action="copy_dashboard", data={"dashboard": "Q3", "name": "[x]"}
        )
        assert sent(emu, "POST", "copy") == 1
        emu.faults.add("lost_response", r"/copy$")  # the copy is made, its answer lost: read back
        await h.call("feishu_update", action="copy_dashboard", data={"dashboard": "Q3", "name": "Q4"})
        names = [d["name"] for d in emu.app(APP_TOKEN).dashboards.values()]
        assert names.count("Q4") == 1 and sent(emu, "POST", "copy") == 2


# ------------------------------------------------------------------------------ views


async def test_view_read_and_update_filter_hidden_fields_and_name(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        view = (await h.call("feishu_read", what="view", table="Deals", view="表格"))["view"]
        assert view == {"id": view["id"], "name": "表格", "type": "grid", "filter": None, "hidden_fields": []}
        where = {
            "and": [
                {"field": "Stage", "op": "eq", "value": "Won"},
                {"field": "Amount", "op": "gt", "value": 10},
            ]
        }
        got = await h.call(
            "feishu_update",
            action="update_view",
            table="Deals",
            view="表格",
            data={"name": "Big wins", "filter": where, "hidden_fields": ["Owner"]},
        )
        assert got["view"] == {**view, "name": "Big wins", "filter": where, "hidden_fields": ["Owner"]}
        stored = next(iter(emu.table(APP_TOKEN, "Deals").views.values()))
        won = next(
            o["id"]
            for o in emu.table(APP_TOKEN, "Deals").by_name()["Stage"].property["options"]
            if o["name"] == "Won"
        )
        assert json.loads(stored.filter_info["conditions"][0]["value"]) == [won]  # options by id (A.20)
        page = await h.call("query_records", table="Deals", view="Big wins")  # the view shows what it filters
        assert [r["fields"]["Title"] for r in page["records"]] == ["b"]
        again = (await h.call("feishu_read", what="view", table="Deals", view="Big wins"))["view"]
        assert again == got["view"]
        # only the hidden fields change: the filter stays
        got = await h.call(
            "feishu_update", action="update_view", table="Deals", view="Big wins", data={"hidden_fields": []}
        )
        assert got["view"]["filter"] == where and got["view"]["hidden_fields"] == []
        due = {
            "or": [
                {"field": "Due", "op": "gte", "value": "2026-11-22"},
                {"field": "Stage", "op": "in", "value": ["Lead", "Won"]},
            ]
        }
        got = await h.call(
            "feishu_update", action="update_view", table="Deals", view="Big wins", data={"filter": due}
        )
        assert got["view"]["filter"] == {
            "or": [
                {"field": "Due", "op": "gt", "value": "2026-11-21"},
                {"field": "Stage", "op": "in", "value": ["Lead", "Won"]},
            ]
        }
        got = await h.call(
            "feishu_update", action="update_view", table="Deals", view="Big wins", data={"filter": None}
        )
        assert got["view"]["filter"] is None


async def test_view_update_refusals_change_nothing(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        await h.call("create_view", table="Deals", name="Board", type="kanban")
        cases = [
            (
                {
                    "filter": {
                        "and": [
                            {
                                "or": [
                                    {"field": "Amount", "op": "gt", "value": 1},
                                    {"field": "Title", "op": "eq", "value": "a"},
                                ]
                            },
                            {"field": "Amount", "op": "lt", "value": 9},
                        ]
                    }
                },
                "one level",
            ),
            ({"filter": {"field": "Due", "op": "eq", "value": "2026-11-22T09:30:00+08:00"}}, "whole days"),
            (
                {"filter": {"field": "Title", "op": "gt", "value": "m"}},
                "use eq, neq, contains or not_contains",
            ),
            ({"filter": {"field": "Nope", "op": "eq", "value": 1}}, "no field 'Nope'"),
            ({"hidden_fields": ["Title"]}, "primary field"),
            ({"name": "Board"}, "already has a view named 'Board'"),
            ({"colour": "red"}, "'colour'"),
        ]
        for data, expected in cases:
            assert expected in await h.fails(
                "feishu_update", action="update_view", table="Deals", view="表格", data=data
            )
        assert "view is required" in await h.fails(
            "feishu_update", action="update_view", table="Deals", data={"name": "x"}
        )
        assert "No view 'Nope'" in await h.fails("feishu_read", what="view", table="Deals", view="Nope")
        assert "table is required" in await h.fails("feishu_read", what="view", view="表格")
        assert sent(emu, "PATCH", "views") == 0


# ------------------------------------------------------------------------------ forms


async def test_form_read_update_and_questions(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        assert "has no form" in await h.fails("feishu_read", what="form", table="Deals")
        await h.call("create_view", table="Deals", name="Signup", type="form")
        got = await h.call("feishu_read", what="form", table="Deals")  # the table's only form
        assert got["form"]["name"] == "Signup" and got["form"]["shared"] is False
        assert [(q["field"], q["title"], q["required"]) for q in got["questions"]] == [
            ("Title", "Title", False),
            ("Stage", "Stage", False),
            ("Owner", "Owner", False),
            ("Amount", "Amount", False),
            ("Due", "Due", False),
        ]
        form = (
            await h.call(
                "feishu_update",
                action="update_form",
                table="Deals",
                data={
                    "description": "Tell us",
                    "shared": True,
                    "shared_limit": "tenant_editable",
                    "submit_limit_once": True,
                },
            )
        )["form"]
        assert form["description"] == "Tell us" and form["shared_url"].startswith("https://")
        assert form["shared_limit"] == "tenant_editable" and form["submit_limit_once"] is True
        assert "tenant_editable" in await h.fails(
            "feishu_update", action="update_form", table="Deals", data={"shared_limit": "all"}
        )
        q = (
            await h.call(
                "feishu_update",
                action="update_question",
                table="Deals",
                view="Signup",
                data={"question": "Amount", "title": "How much?", "required": True, "after": ""},
            )
        )["question"]
        assert q == {
            "id": q["id"],
            "field": "Amount",
            "title": "How much?",
            "description": "",
            "required": True,
            "visible": True,
        }
        await h.call(
            "feishu_update",
            action="update_question",
            table="Deals",
            data={"question": "Title", "after": "How much?"},
        )
        await h.call(
            "feishu_update",
            action="update_question",
            table="Deals",
            data={"question": "Owner", "visible": False},
        )
        message = await h.fails(
            "feishu_update",
            action="update_question",
            table="Deals",
            data={"question": "Owner", "title": "Who"},
        )
        assert "hidden question" in message and "visible: true" in message
        got = await h.call("feishu_read", what="form", table="Deals", view="Signup")
        assert [q["title"] for q in got["questions"]] == ["How much?", "Title", "Stage", "Owner", "Due"]
        assert [q["visible"] for q in got["questions"]] == [True, True, True, False, True]
        assert 'no question "Nope"' in await h.fails(
            "feishu_update", action="update_question", table="Deals", data={"question": "Nope", "title": "x"}
        )
        assert "not a form" in await h.fails("feishu_read", what="form", table="Deals", view="表格")
        await h.call("create_view", table="Deals", name="Feedback", type="form")
        assert "several forms" in await h.fails("feishu_read", what="form", table="Deals")
        assert sent(emu, "PATCH", "forms/.*/fields") == 3


# ------------------------------------------------------------------------------ roles


async def test_roles_need_advanced_permissions(tmp_path: Path) -> None:
    emu = admin_emulator(advanced_delay=60)
    async with admin(tmp_path, emu) as h:
        message = await h.fails("feishu_read", what="roles")
        assert '"advanced": true' in message and "feishu code 1254301" in message
        await h.call("feishu_update", action="update_app", data={"advanced": True})
        message = await h.fails("feishu_update", action="create_role", data={"name": "Sales"})
        assert "just switched on" in message and "again in a few seconds" in message
        emu.clock.advance(61)
        assert (await h.call("feishu_read", what="roles"))["roles"] == []


async def test_role_lifecycle(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).is_advanced = True
    async with admin(tmp_path, emu) as h:
        deals = {
            "table": "Deals",
            "perm": "edit_records",
            "add_records": False,
            "fields": {"Amount": "read"},
            "records": {
                "rules": [
                    {"field": "Stage", "op": "eq", "value": ["Won"]},
                    {"field": "Owner"},
                    {"field": ""},
                ],
                "match": "or",
                "others": "read",
            },
        }
        role = (
            await h.call(
                "feishu_update",
                action="create_role",
                data={
                    "name": "Sales",
                    "tables": [deals],
                    "dashboards": [{"dashboard": "Overview", "perm": "read"}],
                },
            )
        )["role"]
        deals_id = emu.table(APP_TOKEN, "Deals").table_id
        assert role["name"] == "Sales" and role["id"].startswith("rol")
        assert role["tables"] == [
            {
                "table": "Deals",
                "id": deals_id,
                "perm": "edit_records",
                "add_records": False,
                "delete_records": True,
                "fields": {"Amount": "read"},
                "records": {
                    "rules": [
                        {"field": "Stage", "op": "eq", "value": ["Won"]},
                        {"field": "Owner"},
                        {"field": ""},
                    ],
                    "match": "or",
                    "others": "read",
                },
            }
        ]
        assert [(d["dashboard"], d["perm"]) for d in role["dashboards"]] == [("Overview", "read")]
        assert (await h.call("feishu_read", what="roles"))["roles"] == [role]
        # update_role: the listed table is added, the others are kept; the name changes
        got = (
            await h.call(
                "feishu_update",
                action="update_role",
                role="Sales",
                data={"name": "Sales team", "tables": [{"table": "Sheet1", "perm": "read"}]},
            )
        )["role"]
        assert got["name"] == "Sales team" and [t["table"] for t in got["tables"]] == ["Deals", "Sheet1"]
        assert got["tables"][0] == role["tables"][0] and got["dashboards"] == role["dashboards"]
        got = (
            await h.call(
                "feishu_update",
                action="update_role",
                role=role["id"],
                data={
                    "tables": [{"table": deals_id, "perm": "none"}],
                    "dashboards": [{"dashboard": "Overview", "perm": "none"}],
                },
            )
        )["role"]
        assert [(t["table"], t["perm"]) for t in got["tables"]] == [("Sheet1", "read"), ("Deals", "none")]
        assert got["dashboards"][0]["perm"] == "none"
        stored = emu.app(APP_TOKEN).roles[role["id"]]
        assert stored["role_name"] == "Sales team" and len(stored["table_roles"]) == 2
        await h.call("feishu_update", action="create_role", data={"name": "Viewers"})
        assert "already exists" in await h.fails(
            "feishu_update", action="update_role", role="Viewers", data={"name": "Sales team"}
        )
        missing = await h.fails("feishu_delete", action="delete_role", role="Nobody")
        assert "No role 'Nobody'" in missing and "'Sales team'" in missing and "'Viewers'" in missing
        got = await h.call("feishu_delete", action="delete_role", role="Sales team")
        assert got == {"deleted": True, "role": {"id": role["id"], "name": "Sales team"}}
        assert [r["name"] for r in (await h.call("feishu_read", what="roles"))["roles"]] == ["Viewers"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"table": "Deals", "perm": "edit"}, "use none or read or edit_records or edit_all"),
        ({"table": "Nope", "perm": "read"}, 'no table "Nope"'),
        ({"table": "Deals", "perm": "read", "fields": {"Amount": "edit"}}, "only with perm edit_records"),
        ({"table": "Deals", "perm": "edit_records", "fields": {"Nope": "edit"}}, 'no field "Nope"'),
        ({"table": "Deals", "perm": "edit_records", "fields": {"Amount": "write"}}, "use read or edit"),
        (
            {"table": "Deals", "perm": "edit_all", "records": {"rules": [{"field": "Owner"}]}},
            "only with perm read or edit_records",
        ),
        (
            {
                "table": "Deals",
                "perm": "read",
                "records": {"rules": [{"field": "Amount", "op": "eq", "value": [1]}]},
            },
            "select field's options or a person field",
        ),
        (
            {"table": "Deals", "perm": "read", "records": {"rules": [{"field": "Stage", "value": ["Lost"]}]}},
            "option names of 'Stage'",
        ),
        ({"table": "Deals", "perm": "read", "records": {"rules": []}}, "list of 1 to 100 rules"),
        ({"table": "Deals", "perm": "read", "add_records": True}, "only with perm edit_records"),
        ({"table": "Deals", "perm": "read", "colour": 1}, "unknown keys ['colour']"),
    ],
)
async def test_role_data_is_checked_before_anything_is_sent(
    tmp_path: Path, table: dict[str, Any], expected: str
) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).is_advanced = True
    async with admin(tmp_path, emu) as h:
        message = await h.fails("feishu_update", action="create_role", data={"name": "X", "tables": [table]})
        assert expected in message and "data.tables[0]" in message
        assert sent(emu, "POST", "roles") == 0 and emu.app(APP_TOKEN).roles == {}


async def test_role_limits_and_feishu_refusals(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).is_advanced = True
    for i in range(30):
        emu.add_role(APP_TOKEN, f"r{i}")
    async with admin(tmp_path, emu) as h:
        message = await h.fails("feishu_update", action="create_role", data={"name": "one more"})
        assert "30 custom roles" in message and sent(emu, "POST", "roles") == 0
        assert len((await h.call("feishu_read", what="roles"))["roles"]) == 30  # read over two pages of 30
        assert "needs data" in await h.fails("feishu_update", action="update_role", role="r0", data={})
        assert "needs data.name" in await h.fails("feishu_update", action="create_role", data={"tables": []})
        emu.app(APP_TOKEN).row_column_perms = False
        message = await h.fails(
            "feishu_update",
            action="update_role",
            role="r0",
            data={"tables": [{"table": "Deals", "perm": "edit_records", "fields": {"Amount": "read"}}]},
        )
        assert "Business or Enterprise" in message and "feishu code 1254304" in message


# ------------------------------------------------------------------------------ members


async def test_members_add_read_remove(tmp_path: Path) -> None:
    emu = admin_emulator()
    role_id = emu.add_role(APP_TOKEN, "Sales")
    async with admin(tmp_path, emu) as h:
        got = await h.call("feishu_update", action="add_members", role="Sales", members=[ADA])
        assert got == {
            "role": {"id": role_id, "name": "Sales"},
            "added": [{"type": "open_id", "id": ADA}],
            "already": [],
        }
        assert sent(emu, "POST", r"/members$") == 1  # one member: the single endpoint (A.48)
        got = await h.call(
            "feishu_update",
            action="add_members",
            role=role_id,
            members=[
                ADA,
                {"id": "on_bob0000000002", "type": "union_id"},
                "oc_team000000001",
                "od-sales00000001",
            ],
        )
        assert got["already"] == [{"type": "open_id", "id": ADA}] and len(got["added"]) == 3
        assert sent(emu, "POST", "members/batch_create") == 1
        members = (await h.call("feishu_read", what="members", role="Sales"))["members"]
        assert members == [
            {"id": ADA, "type": "open_id", "name": "Ada"},
            {"id": BOB, "type": "open_id", "name": "Bob"},
            {"id": "oc_team000000001", "type": "chat_id", "name": "Team"},
            {"id": "od-sales00000001", "type": "open_department_id", "name": "Sales"},
        ]
        got = await h.call(
            "feishu_delete", action="remove_members", role="Sales", members=[members[2]]
        )  # as read
        assert got["removed"] == [{"type": "chat_id", "id": "oc_team000000001"}]
        assert sent(emu, "DELETE", "members/oc_team") == 1  # one member: the single endpoint (A.49)
        got = await h.call(
            "feishu_delete", action="remove_members", role="Sales", members=[ADA, BOB, "oc_team000000001"]
        )
        assert len(got["removed"]) == 2 and got["not_members"] == [
            {"type": "chat_id", "id": "oc_team000000001"}
        ]
        assert sent(emu, "POST", "members/batch_delete") == 1
        assert [
            m["name"] for m in (await h.call("feishu_read", what="members", role="Sales"))["members"]
        ] == ["Sales"]
        message = await h.fails("feishu_update", action="add_members", role="Sales", members=["12345"])
        assert '"type": "user_id"' in message and "ou_" in message
        assert "needs members" in await h.fails("feishu_update", action="add_members", role="Sales")
        assert "role is required" in await h.fails("feishu_read", what="members")
        message = await h.fails(
            "feishu_update", action="add_members", role="Sales", members=["ou_nobody000000"]
        )
        assert "feishu code 1254048" in message and "not found" in message


async def test_members_as_user_ids_when_configured(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.add_role(APP_TOKEN, "Sales")
    async with admin(tmp_path, emu, FEISHU_USER_ID_TYPE="user_id") as h:
        await h.call("feishu_update", action="add_members", role="Sales", members=["u_ada0000000001"])
        members = (await h.call("feishu_read", what="members", role="Sales"))["members"]
        assert members == [{"id": "u_ada0000000001", "type": "user_id", "name": "Ada"}]


async def test_many_members_are_batched_by_100_up_to_the_limit_of_200(tmp_path: Path) -> None:
    emu = admin_emulator()
    role_id = emu.add_role(APP_TOKEN, "Everyone")
    people = [f"ou_person{i:07d}" for i in range(260)]
    for open_id in people:
        emu.add_user(open_id, open_id[3:])
    async with admin(tmp_path, emu) as h:
        got = await h.call("feishu_update", action="add_members", role="Everyone", members=people[:150])
        assert len(got["added"]) == 150 and sent(emu, "POST", "members/batch_create") == 2
        message = await h.fails(
            "feishu_update", action="add_members", role="Everyone", members=people[150:201]
        )
        assert "has 150 members" in message and "200" in message and "Nothing was changed" in message
        assert len(emu.app(APP_TOKEN).roles[role_id]["members"]) == 150
        members = (await h.call("feishu_read", what="members", role="Everyone"))["members"]
        assert len(members) == 150  # two pages of 100
        got = await h.call("feishu_delete", action="remove_members", role="Everyone", members=people[:150])
        assert len(got["removed"]) == 150 and sent(emu, "POST", "members/batch_delete") == 2


async def test_a_member_batch_failing_midway_reports_what_was_done(tmp_path: Path) -> None:
    emu = admin_emulator()
    role_id = emu.add_role(APP_TOKEN, "Everyone")
    people = [f"ou_person{i:07d}" for i in range(120)]
    for open_id in people:
        emu.add_user(open_id, open_id[3:])
    async with admin(tmp_path, emu) as h:
        message = await h.fails(
            "feishu_update",
            action="add_members",
            role="Everyone",
            members=[*people[:100], "ou_nobody0000000"],
        )
        assert "Added 100 of 101 members" in message and "feishu code 1254048" in message
        assert "call add_members again" in message.lower()
        assert len(emu.app(APP_TOKEN).roles[role_id]["members"]) == 100


# ------------------------------------------------------------------------------ lost answers


async def test_lost_answers_are_reconciled_never_repeated_blindly(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).is_advanced = True
    async with admin(tmp_path, emu) as h:
        emu.faults.add("lost_response", r"POST .*/roles$")
        role = (await h.call("feishu_update", action="create_role", data={"name": "Once"}))["role"]
        assert [r["role_name"] for r in emu.app(APP_TOKEN).roles.values()] == ["Once"]
        assert sent(emu, "POST", r"/roles$") == 1 and role["name"] == "Once"

        emu.faults.add("lost_response", r"PUT .*/roles/")
        got = (
            await h.call(
                "feishu_update",
                action="update_role",
                role="Once",
                data={"tables": [{"table": "Deals", "perm": "read"}]},
            )
        )["role"]
        assert got["tables"][0]["perm"] == "read" and sent(emu, "PUT", "/roles/") == 1

        emu.faults.add("lost_response", r"members/batch_create")
        await h.call("feishu_update", action="add_members", role="Once", members=[ADA, BOB])
        assert (
            len(emu.app(APP_TOKEN).roles[role["id"]]["members"]) == 2
            and sent(emu, "POST", "batch_create") == 1
        )

        emu.faults.add("lost_response", r"members/batch_delete")
        await h.call("feishu_delete", action="remove_members", role="Once", members=[ADA, BOB])
        assert (
            emu.app(APP_TOKEN).roles[role["id"]]["members"] == [] and sent(emu, "POST", "batch_delete") == 1
        )

        emu.faults.add("lost_response", r"PUT /open-apis/bitable/v1/apps/[^/]+$")
        assert (await h.call("feishu_update", action="update_app", data={"name": "Renamed"}))["app"][
            "name"
        ] == "Renamed"
        assert sent(emu, "PUT", r"apps/[^/]+$") == 1

        await h.call("create_view", table="Deals", name="Signup", type="form")
        emu.faults.add("lost_response", r"PATCH .*/forms/[^/]+$")
        await h.call("feishu_update", action="update_form", table="Deals", data={"description": "d"})
        emu.faults.add("lost_response", r"PATCH .*/forms/.*/fields/")
        await h.call(
            "feishu_update", action="update_question", table="Deals", data={"question": "Due", "after": ""}
        )
        emu.faults.add("lost_response", r"PATCH .*/views/")
        await h.call("feishu_update", action="update_view", table="Deals", view="表格", data={"name": "Main"})
        assert sent(emu, "PATCH", "forms/[^/]+$") == 1 and sent(emu, "PATCH", "fields/") == 1
        assert sent(emu, "PATCH", "views/") == 1

        emu.faults.add("lost_response", r"DELETE .*/roles/")
        await h.call("feishu_delete", action="delete_role", role="Once")
        assert emu.app(APP_TOKEN).roles == {} and sent(emu, "DELETE", "/roles/") == 1


async def test_refused_and_throttled_calls_are_sent_again(tmp_path: Path) -> None:
    emu = admin_emulator()
    emu.app(APP_TOKEN).is_advanced = True
    async with admin(tmp_path, emu) as h:
        emu.faults.add("transient", r"POST .*/roles$")  # 1254290 TooManyRequest: refused, nothing applied
        emu.faults.add("throttle", r"GET .*/dashboards$")
        await h.call(
            "feishu_update",
            action="create_role",
            data={"name": "R", "dashboards": [{"dashboard": "Overview", "perm": "read"}]},
        )
        assert len(emu.app(APP_TOKEN).roles) == 1 and sent(emu, "POST", r"/roles$") == 2


async def test_no_secret_in_results_or_errors(tmp_path: Path) -> None:
    emu = admin_emulator()
    async with admin(tmp_path, emu) as h:
        texts = [
            json.dumps(await h.call("feishu_read", what="app")),
            await h.fails("feishu_read", what="roles"),
        ]
        token = emu.issue_token()
        for text in texts:
            assert APP_SECRET not in text and token not in text
