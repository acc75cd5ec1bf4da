"""Every value type: written in the contract's formats, read back in the contract's formats."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio

# (type, options, written, read back)
CASES: list[tuple[str, list[str] | None, Any, Any]] = [
    ("text", None, "hello 世界", "hello 世界"),
    ("number", None, 3, 3),
    ("number", None, "4.5", 4.5),
    ("number", None, -0.25, -0.25),
    ("checkbox", None, True, True),
    ("checkbox", None, False, False),
    ("single_select", ["todo", "done"], "done", "done"),
    ("multi_select", ["a", "b", "c"], ["c", "a"], ["a", "c"]),
    ("date", None, "2026-11-22", "2026-11-22T00:00:00+08:00"),
    ("date", None, "2026-11-22T09:30:00+08:00", "2026-11-22T09:30:00+08:00"),
    ("date", None, "2026-11-22T01:30:00Z", "2026-11-22T09:30:00+08:00"),
    ("date", None, "2026-11-22 09:30", "2026-11-22T09:30:00+08:00"),  # no offset: ANYTABLE_TIMEZONE
    ("date", None, 1795311000000, "2026-11-22T09:30:00+08:00"),  # epoch milliseconds
    (
        "url",
        None,
        "https://example.com/a",
        {"text": "https://example.com/a", "link": "https://example.com/a"},
    ),
    (
        "url",
        None,
        {"text": "Example", "link": "https://example.com"},
        {"text": "Example", "link": "https://example.com"},
    ),
    ("email", None, "ada@example.com", "ada@example.com"),
    # Feishu phone fields hold digits with an optional leading + (reference A.3: (\+)?\d*).
    ("phone", None, "+8613800000000", "+8613800000000"),
]


def _normal(type_: str, value: Any) -> Any:
    return sorted(value) if type_ == "multi_select" else value


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
async def test_round_trip(h: Harness, case: int) -> None:
    type_, options, written, expected = CASES[case]
    if not h.supports_type(type_):
        pytest.skip(f"{h.provider} has no {type_} fields")
    field = {"name": "value", "type": type_, **({"options": options} if options else {})}
    await h.call("create_table", name="values_t", fields=[{"name": "title", "type": "text"}, field])
    created = await h.call("create_records", table="values_t", records=[{"title": "r", "value": written}])
    records = await h.all_records("values_t")
    assert len(records) == 1 and created["created"] == 1
    assert _normal(type_, records[0]["fields"].get("value")) == _normal(type_, expected)
    if created["ids"] is not None:
        got = await h.call("get_records", table="values_t", record_ids=created["ids"])
        assert _normal(type_, got["records"][0]["fields"].get("value")) == _normal(type_, expected)


async def test_empty_values_are_left_out_but_checkbox_reads_false(h: Harness) -> None:
    fields = [{"name": "title", "type": "text"}, {"name": "note", "type": "text"}]
    if h.supports_type("checkbox"):
        fields.append({"name": "flag", "type": "checkbox"})
    await h.call("create_table", name="empties", fields=fields)
    await h.call("create_records", table="empties", records=[{"title": "only title"}])
    (record,) = await h.all_records("empties")
    assert "note" not in record["fields"]
    if h.supports_type("checkbox"):
        assert record["fields"]["flag"] is False


async def test_update_changes_only_named_fields_and_null_clears(h: Harness) -> None:
    if "update" not in h.caps["records"]:
        pytest.skip(f"{h.provider} cannot update records")
    fields = [
        {"name": "title", "type": "text"},
        {"name": "note", "type": "text"},
        {"name": "n", "type": "number"},
    ]
    await h.call("create_table", name="updates", fields=fields)
    await h.call("create_records", table="updates", records=[{"title": "t1", "note": "keep", "n": 1}])
    (record,) = await h.all_records("updates")
    assert await h.call(
        "update_records", table="updates", records=[{"id": record["id"], "fields": {"n": 2}}]
    ) == {"updated": 1}
    (after,) = await h.all_records("updates")
    assert after["fields"] == {"title": "t1", "note": "keep", "n": 2}
    await h.call("update_records", table="updates", records=[{"id": record["id"], "fields": {"note": None}}])
    (cleared,) = await h.all_records("updates")
    assert cleared["fields"] == {"title": "t1", "n": 2}


async def test_computed_fields_are_read_only(h: Harness) -> None:
    computed = [t for t in ("auto_number", "created_time") if h.supports_type(t)]
    if not computed:
        pytest.skip(f"{h.provider} cannot create computed fields")
    fields = [{"name": "title", "type": "text"}] + [{"name": t, "type": t} for t in computed]
    await h.call("create_table", name="computed", fields=fields)
    await h.call("create_records", table="computed", records=[{"title": "x"}])
    (record,) = await h.all_records("computed")
    for t in computed:
        assert t in record["fields"], record
    message = await h.fails("create_records", table="computed", records=[{"title": "y", computed[0]: 5}])
    assert computed[0] in message and "computed" in message
    assert len(await h.all_records("computed")) == 1


async def test_links_name_records_of_the_linked_table(h: Harness) -> None:
    if not h.supports_type("link"):
        pytest.skip(f"{h.provider} has no link fields")
    await h.call("create_table", name="targets", fields=[{"name": "title", "type": "text"}])
    made = await h.call("create_records", table="targets", records=[{"title": "t1"}, {"title": "t2"}])
    target_ids = made["ids"] or [r["id"] for r in await h.all_records("targets")]
    fields = [{"name": "title", "type": "text"}, {"name": "refs", "type": "link", "options": ["targets"]}]
    await h.call("create_table", name="linking", fields=fields)
    described = await h.call("describe_table", table="linking")
    refs = next(f for f in described["fields"] if f["name"] == "refs")
    assert refs["type"] == "link"
    await h.call("create_records", table="linking", records=[{"title": "a", "refs": target_ids}])
    (record,) = await h.all_records("linking")
    assert sorted(record["fields"]["refs"]) == sorted(target_ids)
    page = await h.call(
        "query_records", table="linking", where={"field": "refs", "op": "contains", "value": target_ids[0]}
    )
    assert [r["id"] for r in page["records"]] == [record["id"]]


async def test_users_read_as_id_objects(h: Harness) -> None:
    if not h.supports_type("user"):
        pytest.skip(f"{h.provider} has no user fields")
    users = h.users
    await h.call(
        "create_table",
        name="people",
        fields=[{"name": "title", "type": "text"}, {"name": "owner", "type": "user"}],
    )
    await h.call(
        "create_records",
        table="people",
        records=[{"title": "a", "owner": users[0]}, {"title": "b", "owner": [{"id": users[1]}]}],
    )
    got = {r["fields"]["title"]: r["fields"]["owner"] for r in await h.all_records("people")}
    assert [u["id"] for u in got["a"]] == [users[0]] and [u["id"] for u in got["b"]] == [users[1]]
    page = await h.call(
        "query_records", table="people", where={"field": "owner", "op": "contains", "value": users[1]}
    )
    assert [r["fields"]["title"] for r in page["records"]] == ["b"]


async def test_local_attachments_are_metadata(h: Harness) -> None:
    if h.provider != "local":
        pytest.skip("attachments are uploaded to the hosted providers, not given as metadata")
    fields = [{"name": "title", "type": "text"}, {"name": "files", "type": "attachment"}]
    await h.call("create_table", name="files_t", fields=fields)
    doc = {"name": "a.pdf", "url": "https://example.com/a.pdf", "type": "application/pdf", "size": 10}
    await h.call("create_records", table="files_t", records=[{"title": "a", "files": [doc]}])
    (record,) = await h.all_records("files_t")
    assert record["fields"]["files"] == [doc]
    message = await h.fails(
        "create_records", table="files_t", records=[{"title": "b", "files": [{"url": "x"}]}]
    )
    assert "files" in message and "name" in message
    page = await h.call(
        "query_records", table="files_t", where={"field": "files", "op": "contains", "value": "A.PDF"}
    )
    assert [r["fields"]["title"] for r in page["records"]] == ["a"]
