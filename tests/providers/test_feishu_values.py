"""Feishu values both ways: every documented read shape (search, list, get) ends as the same
canonical value; writes go out in Feishu's formats; what Feishu cannot take is refused up front.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anytable.providers.feishu.fields import field_info
from anytable.providers.feishu.values import RecordReader, RecordWriter
from anytable.schemas.fields import TableSchema
from tests.harness import serve
from tests.providers.feishu_harness import APP_TOKEN, USERS, Recorder, emulator, env

pytestmark = pytest.mark.anyio

NATIVE_FIELDS = [
    {"field_id": "fld1", "field_name": "text", "type": 1, "ui_type": "Text", "is_primary": True},
    {"field_id": "fld2", "field_name": "num", "type": 2, "ui_type": "Number"},
    {
        "field_id": "fld3",
        "field_name": "one",
        "type": 3,
        "ui_type": "SingleSelect",
        "property": {"options": [{"name": "x"}]},
    },
    {"field_id": "fld4", "field_name": "many", "type": 4, "ui_type": "MultiSelect"},
    {"field_id": "fld5", "field_name": "when", "type": 5, "ui_type": "DateTime"},
    {"field_id": "fld6", "field_name": "ok", "type": 7, "ui_type": "Checkbox"},
    {"field_id": "fld7", "field_name": "who", "type": 11, "ui_type": "User"},
    {"field_id": "fld8", "field_name": "tel", "type": 13, "ui_type": "Phone"},
    {"field_id": "fld9", "field_name": "site", "type": 15, "ui_type": "Url"},
    {"field_id": "fldA", "field_name": "files", "type": 17, "ui_type": "Attachment"},
    {
        "field_id": "fldB",
        "field_name": "refs",
        "type": 18,
        "ui_type": "SingleLink",
        "property": {"table_id": "tblT"},
    },
    {"field_id": "fldC", "field_name": "calc", "type": 20, "ui_type": "Formula"},
    {"field_id": "fldD", "field_name": "place", "type": 22, "ui_type": "Location"},
    {"field_id": "fldE", "field_name": "by", "type": 1003, "ui_type": "CreatedUser"},
    {"field_id": "fldF", "field_name": "seq", "type": 1005, "ui_type": "AutoNumber"},
    {"field_id": "fldG", "field_name": "mail", "type": 1, "ui_type": "Email"},
    {"field_id": "fldH", "field_name": "look", "type": 19, "ui_type": "Lookup"},
]
TABLE = TableSchema(id="tblX", name="X", fields=[field_info(f) for f in NATIVE_FIELDS])
CANONICAL = {
    "text": "KR 2.2 推进 @Ada",
    "num": 8,
    "one": "x",
    "many": ["研发", "销售"],
    "when": 1612108800000,
    "ok": True,
    "who": [{"id": "ou_be7f", "name": "周北北"}],
    "tel": "+8613800000000",
    "site": {"text": "多渠道反馈", "link": "http://bitable.feishu.cn"},
    "files": [
        {
            "name": "2.gif",
            "url": "https://open.feishu.cn/open-apis/drive/v1/medias/boxcn8E/download",
            "type": "image/gif",
            "size": 10250625,
            "file_token": "boxcn8E",
        }
    ],
    "refs": ["recqwIwhc6", "recOuEJMvN"],
    "place": {"location": "116.397755,39.903179", "name": "天安门"},
    "by": [{"id": "ou_e62d", "name": "Bob"}],
    "seq": 12,
    "mail": "ada@example.com",
}
SEGMENTS = [
    {"text": "KR 2.2 推进 ", "type": "text"},
    {"text": "@Ada", "type": "mention", "mentionType": "User", "token": "ou_ada"},
]
USER = {
    "annotation_union_type": "person",
    "email": "",
    "en_name": "周北北",
    "id": "ou_be7f",
    "name": "周北北",
}
ATTACHMENT = {
    "file_token": "boxcn8E",
    "name": "2.gif",
    "size": 10250625,
    "tmp_url": "https://open.feishu.cn/open-apis/drive/v1/medias/batch_get_tmp_download_url?file_tokens=boxcn8E",
    "type": "image/gif",
    "url": "https://open.feishu.cn/open-apis/drive/v1/medias/boxcn8E/download",
}
COMMON = {
    "one": "x",
    "many": ["研发", "销售"],
    "when": 1612108800000,
    "ok": True,
    "who": [USER],
    "tel": "+8613800000000",
    "site": {"link": "http://bitable.feishu.cn", "text": "多渠道反馈"},
    "files": [ATTACHMENT],
    "place": {"location": "116.397755,39.903179", "name": "天安门", "pname": "", "full_address": ""},
    "by": [{"id": "ou_e62d", "name": "Bob", "en_name": "Bob", "email": ""}],
    "seq": "12",
    "mail": "ada@example.com",
}
SHAPES = {
    # records/search and batch_get (docs/provider-api-notes.md §2.6): text as segments, links as link_record_ids
    "search": {
        **COMMON,
        "text": SEGMENTS,
        "num": 8,
        "refs": {"link_record_ids": ["recqwIwhc6", "recOuEJMvN"]},
        "mail": [{"text": "ada@example.com", "type": "url", "link": "mailto:ada@example.com"}],
    },
    # deprecated list (A.30, A.3 "列出时为string"): text a string, numbers as strings, links as objects
    "list": {
        **COMMON,
        "text": "KR 2.2 推进 @Ada",
        "num": "8",
        "refs": [
            {"record_ids": ["recqwIwhc6", "recOuEJMvN"], "table_id": "tblT", "text": "a,b", "type": "text"}
        ],
    },
    # get one (A.29) and write echoes (A.34): numbers as numbers, links as record id lists
    "get": {
        **COMMON,
        "text": "KR 2.2 推进 @Ada",
        "num": 8,
        "refs": ["recqwIwhc6", "recOuEJMvN"],
        "by": COMMON["by"][0],
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_read_shape_gives_the_same_canonical_values(shape: str) -> None:
    record = RecordReader(TABLE)({"record_id": "rec1", "fields": SHAPES[shape]})
    assert record == {"id": "rec1", "fields": CANONICAL}


def test_computed_values_are_unwrapped() -> None:
    read = RecordReader(TABLE)
    fields = {
        "calc": {"type": 2, "value": [3.5]},
        "look": {"type": 1, "value": [{"text": "a", "type": "text"}, {"text": "b", "type": "text"}]},
        "ok": False,
        "text": [],
    }
    assert read({"record_id": "r", "fields": fields})["fields"] == {"calc": 3.5, "look": "ab", "ok": False}
    assert read({"record_id": "r", "fields": {"calc": [{"text": "x", "type": "text"}]}})["fields"] == {
        "calc": "x"
    }


def test_writes_use_feishu_formats() -> None:
    write = RecordWriter(TABLE)
    out = write(
        {
            "who": [{"id": "ou_1"}, {"id": "ou_2"}],
            "site": {"text": "t", "link": "https://x"},
            "files": [{"file_token": "boxA", "name": "ignored.pdf"}],
            "place": {"location": "116.39, 39.90"},
            "when": 1612108800000,
            "text": None,
        }
    )
    assert out == {
        "who": [{"id": "ou_1"}, {"id": "ou_2"}],
        "site": {"text": "t", "link": "https://x"},
        "files": [{"file_token": "boxA"}],
        "place": "116.39,39.90",
        "when": 1612108800000,
        "text": None,
    }


async def test_round_trip_through_the_emulator(tmp_path: Path) -> None:
    emu = emulator()
    emu.add_attachment(APP_TOKEN, "boxcnUploaded01", "plan.pdf", 2048, "application/pdf")
    async with serve("feishu", env(), tmp_path, emulator=emu, users=list(USERS)) as h:
        fields = [
            {"name": "title", "type": "text"},
            {"name": "files", "type": "attachment"},
            {"name": "place", "type": "location"},
            {"name": "who", "type": "user"},
            {"name": "mail", "type": "email"},
            {"name": "seq", "type": "auto_number"},
            {"name": "created", "type": "created_time"},
        ]
        await h.call("create_table", name="vals", fields=fields)
        ada = next(iter(USERS))
        record = {
            "title": "a",
            "files": [{"file_token": "boxcnUploaded01"}],
            "place": "116.397755,39.903179",
            "who": ada,
            "mail": "ada@example.com",
        }
        created = await h.call("create_records", table="vals", records=[record])
        (got,) = (await h.call("get_records", table="vals", record_ids=created["ids"]))["records"]
        (listed,) = await h.all_records("vals")
    assert got == listed
    values = got["fields"]
    assert values["files"][0] | {"url": ""} == {
        "name": "plan.pdf",
        "url": "",
        "type": "application/pdf",
        "size": 2048,
        "file_token": "boxcnUploaded01",
    }
    assert values["files"][0]["url"].startswith("https://")
    assert values["place"]["location"] == "116.397755,39.903179"
    assert values["who"] == [{"id": ada, "name": USERS[ada]}]
    assert values["mail"] == "ada@example.com" and values["seq"] == 1
    assert values["created"].endswith("+08:00")


@pytest.mark.parametrize(
    ("field", "value", "must_say"),
    [
        ("tel", "+86 138 0000 0000", ["'tel'", "digits", "+8613800000000"]),
        ("files", [{"name": "a.pdf", "url": "https://x/a.pdf"}], ["'files'", "file_token", "uploaded"]),
        ("place", "somewhere", ["'place'", "longitude,latitude"]),
    ],
)
async def test_values_feishu_cannot_take_are_refused_before_anything_is_sent(
    tmp_path: Path, field: str, value: Any, must_say: list[str]
) -> None:
    emu = emulator()
    async with serve("feishu", env(), tmp_path, emulator=emu) as h:
        fields = [
            {"name": "title", "type": "text"},
            {"name": "tel", "type": "phone"},
            {"name": "files", "type": "attachment"},
            {"name": "place", "type": "location"},
        ]
        await h.call("create_table", name="strict", fields=fields)
        records = [{"title": f"ok {i}"} for i in range(600)] + [{"title": "bad", field: value}]
        message = await h.fails("create_records", table="strict", records=records)
        assert emu.count("POST", "batch_create") == 0  # not even the good first batch
    for words in must_say:
        assert words in message, message
    assert "Record 600" in message


async def test_user_ids_follow_feishu_user_id_type(tmp_path: Path) -> None:
    rec = Recorder(emulator())
    union_ids = ["on_" + u[3:] for u in USERS]
    settings = env(FEISHU_USER_ID_TYPE="union_id")
    async with serve("feishu", settings, tmp_path, emulator=rec, users=union_ids) as h:  # type: ignore[arg-type]
        await h.call(
            "create_table",
            name="people",
            fields=[{"name": "title", "type": "text"}, {"name": "who", "type": "user"}],
        )
        await h.call("create_records", table="people", records=[{"title": "a", "who": union_ids[1]}])
        page = await h.call(
            "query_records", table="people", where={"field": "who", "op": "contains", "value": union_ids[1]}
        )
        message = await h.fails(
            "create_records", table="people", records=[{"title": "b", "who": next(iter(USERS))}]
        )
    assert [r["fields"]["who"] for r in page["records"]] == [[{"id": union_ids[1], "name": "Bob"}]]
    assert "union_id" in message and "feishu code 1254066" in message
    record_calls = [e for e in rec.exchanges if "/records/" in e.path]
    assert record_calls and all(e.params["user_id_type"] == "union_id" for e in record_calls)


async def test_get_records_without_batch_get_reads_one_by_one(tmp_path: Path) -> None:
    emu = emulator()
    emu.router.routes = [r for r in emu.router.routes if r.name != "records.batch_get"]  # an older deployment
    async with serve("feishu", env(), tmp_path, emulator=emu) as h:
        fields = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
        await h.call("create_table", name="targets", fields=fields)
        targets = (await h.call("create_records", table="targets", records=[{"title": "t", "n": 1}]))["ids"]
        link = {"name": "refs", "type": "link", "options": ["targets"]}
        await h.call("create_table", name="old", fields=[*fields, link])
        made = await h.call(
            "create_records", table="old", records=[{"title": "a", "n": 2.5, "refs": targets}]
        )
        got = await h.call("get_records", table="old", record_ids=[*made["ids"], "recMissing01"])
    assert got["records"] == [{"id": made["ids"][0], "fields": {"title": "a", "n": 2.5, "refs": targets}}]
    assert got["missing"] == ["recMissing01"]
    assert emu.count("GET", r"/records/rec") == 2
