"""DingTalk tables and fields: what the API takes, and changes whose answer was lost are checked,
never made twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.providers.dingtalk_harness import BASE_ID, make_emulator, numbers_table, provider, session

pytestmark = pytest.mark.anyio


async def test_lost_answer_to_create_table_finds_the_table(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        emu.faults.add("lost_response", match=r"POST .*/sheets$")
        made = await h.call("create_table", name="once", fields=[{"name": "title", "type": "text"}])
        assert made == {"id": emu.sheet_id(BASE_ID, "once"), "name": "once"}
        assert [t["name"] for t in (await h.call("list_tables"))["tables"]] == ["once"]
        assert emu.count("POST", r"/sheets$") == 1


async def test_server_error_on_create_table_that_did_not_happen_sends_it_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        emu.faults.add("transient", match=r"POST .*/sheets$")
        made = await h.call("create_table", name="again", fields=[{"name": "title", "type": "text"}])
        assert made["id"] == emu.sheet_id(BASE_ID, "again") and emu.count("POST", r"/sheets$") == 2


async def test_lost_answers_to_field_changes_are_checked(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        emu.faults.add("lost_response", match=r"POST .*/fields$")
        made = await h.call("create_field", table="items", name="note", type="text")
        assert made["name"] == "note" and emu.count("POST", r"/fields$") == 1
        emu.faults.add("lost_response", match=r"PUT .*/fields/")
        renamed = await h.call("update_field", table="items", field="note", name="remark")
        assert renamed == {"id": made["id"], "name": "remark", "type": "text", "primary": False}
        emu.faults.add("lost_response", match=r"DELETE .*/fields/")
        assert await h.call("delete_field", table="items", field="remark") == {"deleted": True}
        assert emu.count("DELETE", r"/fields/") == 1
        assert [f["name"] for f in emu.fields(BASE_ID, "items")] == ["title", "n"]


async def test_lost_answer_to_delete_table(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        table_id = await numbers_table(h)
        emu.faults.add("lost_response", match=r"DELETE .*/sheets/")
        assert await h.call("delete_table", table=table_id) == {"deleted": True}
        assert emu.count("DELETE", r"/sheets/") == 1 and (await h.call("list_tables"))["tables"] == []


async def test_describe_links_and_other_types(tmp_path: Path) -> None:
    emu = make_emulator()
    target = emu.add_sheet(BASE_ID, "targets", [{"name": "title", "type": "text"}])
    emu.add_sheet(
        BASE_ID,
        "made_in_dingtalk",
        [
            {"name": "title", "type": "text"},
            {"name": "price", "type": "number", "property": {"formatter": "CNY_FLOAT"}},
            {"name": "pair", "type": "bidirectionalLink", "property": {"linkedSheetId": target}},
            {"name": "team", "type": "department"},
        ],
    )
    async with session(tmp_path, emu) as h:
        described = await h.call("describe_table", table="made_in_dingtalk")
        assert described["fields"] == [
            {"id": described["fields"][0]["id"], "name": "title", "type": "text", "primary": True},
            {"id": described["fields"][1]["id"], "name": "price", "type": "number", "primary": False},
            {
                "id": described["fields"][2]["id"],
                "name": "pair",
                "type": "link",
                "options": [target],
                "primary": False,
            },
            {"id": described["fields"][3]["id"], "name": "team", "type": "other", "primary": False},
        ]
        targets = await h.call("create_records", table="targets", records=[{"title": "t"}])
        await h.call(
            "create_records",
            table="made_in_dingtalk",
            records=[{"title": "x", "price": "12.50", "pair": targets["ids"], "team": [{"deptId": "7"}]}],
        )
        (record,) = await h.all_records("made_in_dingtalk")
        assert record["fields"] == {
            "title": "x",
            "price": 12.5,
            "pair": targets["ids"],
            "team": [{"deptId": "7"}],
        }
        (back,) = await h.all_records("targets")  # the bidirectional pair field filled itself in
        assert back["fields"]["made_in_dingtalk"] == [record["id"]]


async def test_doctor_check(tmp_path: Path) -> None:
    async with session(tmp_path) as h:
        await numbers_table(h)
        line = await provider(h).check()
        assert "access token fetched" in line and f"base {BASE_ID} has 1 tables" in line
