"""Tables and fields: create, describe, rename, delete; the same on every provider."""

from __future__ import annotations

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio


def need(h: Harness, group: str, op: str) -> None:
    if op not in h.caps[group]:
        pytest.skip(f"{h.provider} cannot {op} {group} (its API has no such operation)")


async def test_table_lifecycle(h: Harness) -> None:
    need(h, "tables", "create")
    made = await h.call(
        "create_table",
        name="projects",
        fields=[{"name": "title", "type": "text"}, {"name": "budget", "type": "number"}],
    )
    assert made["name"] == "projects" and made["id"]
    tables = (await h.call("list_tables"))["tables"]
    assert {"id": made["id"], "name": "projects"} in tables

    for key in (made["id"], "projects"):  # a table by id or by name
        described = await h.call("describe_table", table=key)
        assert described["id"] == made["id"]
        by_name = {f["name"]: f for f in described["fields"]}
        assert by_name["title"]["type"] == "text" and by_name["title"]["primary"] is True
        assert by_name["budget"]["type"] == "number" and by_name["budget"]["primary"] is False

    if "update" in h.caps["tables"]:
        renamed = await h.call("update_table", table="projects", name="projects_2026")
        assert renamed == {"id": made["id"], "name": "projects_2026"}
        assert (await h.call("describe_table", table="projects_2026"))["id"] == made["id"]
        message = await h.fails("describe_table", table="projects")
        assert "projects" in message and "projects_2026" in message  # names what exists
    else:
        message = await h.fails("update_table", table="projects", name="other")
        assert "not supported" in message

    if "delete" in h.caps["tables"]:
        assert await h.call("delete_table", table=made["id"]) == {"deleted": True}
        tables = (await h.call("list_tables"))["tables"]
        assert made["id"] not in {t["id"] for t in tables}
    else:
        assert "not supported" in await h.fails("delete_table", table=made["id"])


async def test_duplicate_table_name_is_refused(h: Harness) -> None:
    need(h, "tables", "create")
    await h.call("create_table", name="dupes", fields=[{"name": "title", "type": "text"}])
    message = await h.fails("create_table", name="dupes", fields=[{"name": "title", "type": "text"}])
    assert "already exists" in message
    assert [t["name"] for t in (await h.call("list_tables"))["tables"]].count("dupes") == 1


async def test_field_lifecycle(h: Harness) -> None:
    need(h, "tables", "create")
    need(h, "fields", "create")
    await h.call("create_table", name="fieldwork", fields=[{"name": "title", "type": "text"}])
    made = await h.call(
        "create_field", table="fieldwork", name="stage", type="single_select", options=["a", "b"]
    )
    assert made["name"] == "stage" and made["type"] == "single_select" and made["options"] == ["a", "b"]
    assert made["primary"] is False

    if "update" in h.caps["fields"]:
        updated = await h.call(
            "update_field", table="fieldwork", field="stage", name="phase", options=["a", "b", "c"]
        )
        assert (
            updated["id"] == made["id"]
            and updated["name"] == "phase"
            and updated["options"] == ["a", "b", "c"]
        )
        described = await h.call("describe_table", table="fieldwork")
        assert next(f for f in described["fields"] if f["id"] == made["id"])["options"] == ["a", "b", "c"]
        name = "phase"
    else:
        name = "stage"

    message = await h.fails("create_field", table="fieldwork", name=name, type="text")
    assert "already has a field" in message

    primary = next(f for f in (await h.call("describe_table", table="fieldwork"))["fields"] if f["primary"])
    if "delete" in h.caps["fields"]:
        message = await h.fails("delete_field", table="fieldwork", field=primary["name"])
        assert "primary" in message
        assert await h.call("delete_field", table="fieldwork", field=name) == {"deleted": True}
        described = await h.call("describe_table", table="fieldwork")
        assert name not in [f["name"] for f in described["fields"]]


async def test_every_supported_type_can_be_created(h: Harness) -> None:
    need(h, "tables", "create")
    plain = ["text", "number", "checkbox", "date", "url", "email", "phone", "single_select", "multi_select"]
    fields = [{"name": f"f_{t}", "type": t} for t in plain if h.supports_type(t)]
    await h.call("create_table", name="alltypes", fields=[{"name": "title", "type": "text"}, *fields])
    described = await h.call("describe_table", table="alltypes")
    types = {f["name"]: f["type"] for f in described["fields"]}
    for f in fields:
        assert types[f["name"]] == f["type"], f


async def test_unknown_table_names_the_tables(h: Harness) -> None:
    need(h, "tables", "create")
    await h.call("create_table", name="known_one", fields=[{"name": "title", "type": "text"}])
    message = await h.fails("describe_table", table="no_such_table")
    assert "no_such_table" in message and "known_one" in message


async def test_update_field_needs_a_name_or_options(h: Harness) -> None:
    need(h, "tables", "create")
    need(h, "fields", "update")
    await h.call("create_table", name="typed", fields=[{"name": "title", "type": "text"}])
    message = await h.fails("update_field", table="typed", field="title")
    assert "name" in message and "options" in message
