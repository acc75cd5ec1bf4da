"""Feishu tables, fields and views: types both ways, update_field keeps what the caller did not
change (Feishu replaces the whole property), views as tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, serve
from tests.providers.feishu_harness import APP_TOKEN, emulator, env

pytestmark = pytest.mark.anyio

SEEDED = [
    {"field_name": "Title", "type": 1, "description": {"text": "what it is"}},
    {
        "field_name": "Price",
        "type": 2,
        "ui_type": "Currency",
        "property": {"currency_code": "USD", "formatter": "$0.00"},
    },
    {
        "field_name": "Done %",
        "type": 2,
        "ui_type": "Progress",
        "property": {"min": 0, "max": 1, "range_customize": True},
    },
    {"field_name": "Qty", "type": 2, "property": {"formatter": "0.00"}},
    {
        "field_name": "Stage",
        "type": 3,
        "property": {
            "options": [{"name": "a", "color": 5}, {"name": "b", "color": 9}, {"name": "c", "color": 12}]
        },
    },
    {"field_name": "Due", "type": 5, "property": {"date_formatter": "yyyy-MM-dd", "auto_fill": True}},
    {"field_name": "Mail", "type": 1, "ui_type": "Email"},
    {"field_name": "Calc", "type": 20, "property": {"formatter": "0.0", "formula_expression": "1+1"}},
    {"field_name": "Owner", "type": 11, "property": {"multiple": False}},
    {"field_name": "No", "type": 1005},
]


def native(h: Harness, name: str) -> dict[str, Any]:
    emu = h.emulator
    assert emu is not None
    return next(f for f in emu.field_list(APP_TOKEN, "Seeded") if f["field_name"] == name)  # type: ignore[attr-defined]


async def seeded(tmp_path: Path) -> Any:
    emu = emulator()
    emu.add_table(APP_TOKEN, "Other", fields=[{"field_name": "Title", "type": 1}])
    other = emu.table(APP_TOKEN, "Other").table_id
    link = {"field_name": "Refs", "type": 18, "property": {"table_id": other, "multiple": True}}
    emu.add_table(APP_TOKEN, "Seeded", fields=[*SEEDED, link], records=[{"Title": "x", "Stage": "c"}])
    return serve("feishu", env(), tmp_path, emulator=emu)


async def test_describe_maps_types_options_primary_and_views(tmp_path: Path) -> None:
    async with await seeded(tmp_path) as h:
        described = await h.call("describe_table", table="Seeded")
        other = next(t["id"] for t in (await h.call("list_tables"))["tables"] if t["name"] == "Other")
    types = {f["name"]: f["type"] for f in described["fields"]}
    assert types == {
        "Title": "text",
        "Price": "number",
        "Done %": "number",
        "Qty": "number",
        "Stage": "single_select",
        "Due": "date",
        "Mail": "email",
        "Calc": "formula",
        "Owner": "user",
        "No": "auto_number",
        "Refs": "link",
    }
    by_name = {f["name"]: f for f in described["fields"]}
    assert by_name["Stage"]["options"] == ["a", "b", "c"]
    assert by_name["Refs"]["options"] == [other]  # a link field names its linked table
    assert [f["name"] for f in described["fields"] if f["primary"]] == ["Title"]
    assert [v["name"] for v in described["views"]] == ["表格"]


@pytest.mark.parametrize(
    "name", ["Title", "Price", "Done %", "Qty", "Stage", "Due", "Mail", "Calc", "Owner", "No", "Refs"]
)
async def test_rename_keeps_type_ui_type_property_and_description(tmp_path: Path, name: str) -> None:
    async with await seeded(tmp_path) as h:
        before = native(h, name)
        renamed = await h.call("update_field", table="Seeded", field=name, name=name + " (renamed)")
        after = native(h, name + " (renamed)")
    assert renamed["name"] == name + " (renamed)" and renamed["id"] == before["field_id"]
    for key in ("type", "ui_type", "property", "description", "is_primary"):
        assert after.get(key) == before.get(key), key


async def test_new_options_keep_the_ids_and_colors_of_options_that_stay(tmp_path: Path) -> None:
    async with await seeded(tmp_path) as h:
        before = {o["name"]: o for o in native(h, "Stage")["property"]["options"]}
        updated = await h.call("update_field", table="Seeded", field="Stage", options=["b", "a", "d"])
        after = {o["name"]: o for o in native(h, "Stage")["property"]["options"]}
        records = await h.all_records("Seeded")
        assert updated["options"] == ["b", "a", "d"]
        assert native(h, "Stage")["property"]["options"][0]["name"] == "b"  # the order given
        assert after["a"] == before["a"] and after["b"] == before["b"]  # same id, same color
        assert "c" not in after and after["d"]["id"] not in {o["id"] for o in before.values()}
        assert "Stage" not in records[0]["fields"]  # the value "c" went with its option
        again = await h.call("update_field", table="Seeded", field="Stage", options=["b", "a", "d"])
        assert again["options"] == ["b", "a", "d"]  # nothing to change is not an error


async def test_created_fields_have_the_contract_types(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        types = [t for t in h.caps["field_types"] if t not in ("link",)]
        fields = [{"name": "title", "type": "text"}] + [{"name": f"f_{t}", "type": t} for t in types]
        await h.call("create_table", name="all", fields=fields)
        described = await h.call("describe_table", table="all")
        assert {f["name"]: f["type"] for f in described["fields"]} == {f["name"]: f["type"] for f in fields}
        message = await h.fails("create_table", name="bad", fields=[{"name": "tags", "type": "multi_select"}])
        assert "primary" in message and "tags" in message
        message = await h.fails("create_field", table="all", name="calc", type="formula")
        assert "formula" in message and "text" in message
        made = await h.call("create_field", table="all", name="email2", type="email")
        assert made["type"] == "email"


async def test_views_are_tools(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        tools = {t.name for t in (await h.client.list_tools()).tools}
        assert {"list_views", "create_view", "delete_view"} <= tools
        await h.call("create_table", name="V", fields=[{"name": "title", "type": "text"}])
        made = await h.call("create_view", table="V", name="Board", type="kanban")
        assert made["name"] == "Board" and made["id"].startswith("vew")
        views = (await h.call("list_views", table="V"))["views"]
        assert [(v["name"], v.get("type")) for v in views] == [("表格", "grid"), ("Board", "kanban")]
        assert "grid" in await h.fails("create_view", table="V", name="Cal", type="calendar")
        assert "already has a view" in await h.fails("create_view", table="V", name="Board")
        assert await h.call("delete_view", table="V", view="Board") == {"deleted": True}
        message = await h.fails("delete_view", table="V", view="表格")
        assert "last view" in message and "create_view" in message and "1254023" in message


async def test_last_table_cannot_be_deleted_and_says_so(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        message = await h.fails("delete_table", table="Sheet1")
        assert "last table" in message and "create_table" in message and "feishu code 1254034" in message
