"""export_records and import_records on every provider: files that round-trip value for value,
and bad files that change nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness

pytestmark = pytest.mark.anyio


def _fields(h: Harness) -> list[dict[str, Any]]:
    wanted = [
        {"name": "title", "type": "text"},
        {"name": "n", "type": "number"},
        {"name": "done", "type": "checkbox"},
        {"name": "status", "type": "single_select", "options": ["待办", "done"]},
        {"name": "tags", "type": "multi_select", "options": ["红", "green", "blue"]},
        {"name": "due", "type": "date"},
        {"name": "site", "type": "url"},
        {"name": "mail", "type": "email"},
        {"name": "who", "type": "user"},
    ]
    return [f for f in wanted if f["name"] == "title" or h.supports_type(f["type"])]


def _rows(h: Harness, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = {f["name"] for f in fields}
    full = {
        "title": '第一行, with "quotes" and a comma',
        "n": 12.5,
        "done": True,
        "status": "待办",
        "tags": ["红", "blue"],
        "due": "2026-11-22T09:30:00+08:00",
        "site": {"text": "例子", "link": "https://example.com/a?b=1"},
        "mail": "ada@example.com",
        "who": h.users[:2],
    }
    rows = [
        {k: v for k, v in full.items() if k in names},
        {"title": "only a title 只有标题"},  # empty values everywhere else
        {
            k: v
            for k, v in {"title": "line\nbreak", "n": -3, "tags": ["green"], "site": "https://x.cn"}.items()
            if k in names
        },
    ]
    return rows


def _by_title(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in records:
        fields = dict(r["fields"])
        for k, v in fields.items():
            if isinstance(v, list) and v and isinstance(v[0], dict) and "id" in v[0]:
                fields[k] = sorted(u["id"] for u in v)  # users: ids (names are the provider's)
            elif isinstance(v, list):
                fields[k] = sorted(v)
        out[fields["title"]] = fields
    return out


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
async def test_round_trip(h: Harness, files: Path, fmt: str) -> None:
    fields = _fields(h)
    await h.call("create_table", name="src", fields=fields)
    await h.call("create_table", name="dst", fields=fields)
    await h.call("create_records", table="src", records=_rows(h, fields))
    src = await h.all_records("src")

    out = await h.call("export_records", table="src", path=f"src.{fmt}")
    assert out["records"] == 3 and out["path"] == str(files / f"src.{fmt}")
    assert out["bytes"] == (files / f"src.{fmt}").stat().st_size
    result = await h.call("import_records", table="dst", path=str(files / f"src.{fmt}"))
    assert result["created"] == 3 and result["failed"] == [] and result["skipped"] == 0
    assert _by_title(await h.all_records("dst")) == _by_title(src)

    # The file written from the copy is the same file, value for value.
    await h.call("export_records", table="dst", path=f"dst.{fmt}", sort=[{"field": "title"}])
    await h.call("export_records", table="src", path=f"src2.{fmt}", sort=[{"field": "title"}])
    if fmt != "xlsx":
        assert (files / f"dst.{fmt}").read_bytes() == (files / f"src2.{fmt}").read_bytes()


async def test_csv_is_excel_friendly_with_semicolon_lists(h: Harness, files: Path) -> None:
    fields = _fields(h)
    await h.call("create_table", name="xl", fields=fields)
    await h.call("create_records", table="xl", records=_rows(h, fields)[:1])
    await h.call("export_records", table="xl", path="xl.csv")
    raw = (files / "xl.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    header, row = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header == [f["name"] for f in fields]
    cells = dict(zip(header, row, strict=True))
    assert cells["title"] == '第一行, with "quotes" and a comma'
    if "tags" in cells:
        assert sorted(cells["tags"].split(";")) == ["blue", "红"]
    if "done" in cells:
        assert cells["done"] == "true"


async def test_export_where_fields_and_no_overwrite(h: Harness, files: Path) -> None:
    await h.call(
        "create_table",
        name="sel",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    await h.call("create_records", table="sel", records=[{"title": f"r{i}", "n": i} for i in range(1, 8)])
    out = await h.call(
        "export_records",
        table="sel",
        path="sel.jsonl",
        where={"field": "n", "op": "gt", "value": 4},
        sort=[{"field": "n", "desc": True}],
        fields=["n"],
    )
    assert out["records"] == 3
    lines = [json.loads(x) for x in (files / "sel.jsonl").read_text().splitlines()]
    assert lines == [{"n": 7}, {"n": 6}, {"n": 5}]
    before = (files / "sel.jsonl").read_bytes()
    message = await h.fails("export_records", table="sel", path="sel.jsonl")
    assert "already exists" in message and "overwrite" in message
    assert (files / "sel.jsonl").read_bytes() == before
    out = await h.call("export_records", table="sel", path="sel.jsonl", overwrite=True)
    assert out["records"] == 7
    assert [p.name for p in files.iterdir()] == ["sel.jsonl"]  # no partial files left behind


async def test_import_maps_columns_and_dry_run_writes_nothing(h: Harness, files: Path) -> None:
    await h.call(
        "create_table",
        name="map",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    (files / "m.csv").write_text("Name,Amount,Notes\nalpha,1,x\nbeta,2,y\n", encoding="utf-8")
    report = await h.call(
        "import_records",
        table="map",
        path="m.csv",
        columns={"Name": "title", "Amount": "n", "Notes": None},
        dry_run=True,
    )
    assert report["created"] == 2 and report["failed"] == [] and report.get("dry_run") is True
    assert await h.all_records("map") == []
    done = await h.call(
        "import_records", table="map", path="m.csv", columns={"Name": "title", "Amount": "n", "Notes": None}
    )
    assert done["created"] == 2
    assert sorted((r["fields"]["title"], r["fields"]["n"]) for r in await h.all_records("map")) == [
        ("alpha", 1),
        ("beta", 2),
    ]


BAD_FILES: list[tuple[str, bytes, str]] = [
    ("unknown_column.csv", b"title,nope\na,b\n", "nope"),
    ("wrong_type.csv", b"title,n\nok,1\nbad,twelve\n", "line 3"),
    ("unknown_option.csv", b"title,status\nok,done\nbad,maybe\n", "line 3"),
    ("empty.csv", b"", "empty"),
    ("header_only.csv", b"title,n\n", "no rows"),
    ("binary.csv", b"PK\x03\x04\x00\x00garbage\x00\xff", "not a CSV"),
    ("not_really.xlsx", b"title,n\na,1\n", "not an Excel"),
    ("mixed.csv", "title,n\n第一,1\n".encode() + "第二,2\n".encode("gbk"), "line 3"),
    ("ragged.csv", b"title,n\na,1,extra\n", "line 2"),
    ("semicolons.csv", b"title;n\na;1\n", "commas"),
    ("bad.jsonl", b'{"title": "a"}\n[1, 2]\n', "line 2"),
    (
        "huge_cell.csv",
        b"title,n\nok,1\n" + b"x" * 200_001 + b",2\n",
        "line 3: Field 'title': a value of 200,001",
    ),
]


@pytest.mark.parametrize("case", range(len(BAD_FILES)), ids=[c[0] for c in BAD_FILES])
async def test_bad_files_change_nothing(h: Harness, files: Path, case: int) -> None:
    name, content, expected = BAD_FILES[case]
    fields: list[dict[str, Any]] = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
    if h.supports_type("single_select"):
        fields.append({"name": "status", "type": "single_select", "options": ["done"]})
    elif "status" in content.decode("utf-8", "replace"):
        pytest.skip(f"{h.provider} has no single_select fields")
    await h.call("create_table", name="bad", fields=fields)
    await h.call("create_records", table="bad", records=[{"title": "existing"}])
    (files / name).write_bytes(content)
    message = await h.fails("import_records", table="bad", path=name)
    assert expected in message, message
    assert "Nothing was written" in message or "nothing" in message.lower() or "no rows" in message
    assert [r["fields"]["title"] for r in await h.all_records("bad")] == ["existing"]


async def test_skip_invalid_writes_only_good_rows(h: Harness, files: Path) -> None:
    await h.call(
        "create_table",
        name="skip",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    (files / "s.csv").write_text("title,n\na,1\nb,two\nc,3\nd,4x\n", encoding="utf-8")
    result = await h.call("import_records", table="skip", path="s.csv", skip_invalid=True)
    assert result["created"] == 2 and result["skipped"] == 0  # invalid rows are failed, not skipped
    assert [f["row"] for f in result["failed"]] == [3, 5]
    assert "'n'" in result["failed"][0]["error"]
    assert sorted(r["fields"]["title"] for r in await h.all_records("skip")) == ["a", "c"]


async def test_a_row_with_no_value_or_several_bad_cells_is_named_by_its_line(h: Harness, files: Path) -> None:
    await h.call(
        "create_table",
        name="blank",
        fields=[
            {"name": "title", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "m", "type": "number"},
        ],
    )
    (files / "b.csv").write_text("title,n,m\na,1,2\n,,\nc,x,y\n", encoding="utf-8")
    result = await h.call("import_records", table="blank", path="b.csv", dry_run=True)
    assert [f["row"] for f in result["failed"]] == [3, 4]
    assert result["failed"][0]["error"] == "no value in any imported column"
    assert "'n'" in result["failed"][1]["error"]  # the first bad cell of the row, left to right
    message = await h.fails("import_records", table="blank", path="b.csv")
    assert "line 3: no value in any imported column" in message and "Nothing was written" in message
    assert await h.all_records("blank") == []


async def test_skipped_counts_only_rows_matched_by_the_key(h: Harness, files: Path) -> None:
    await h.call(
        "create_table",
        name="skipkey",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    await h.call("create_records", table="skipkey", records=[{"title": "a", "n": 1}])
    (files / "k.csv").write_text("title,n\na,5\nb,two\nc,3\n", encoding="utf-8")
    args = {"table": "skipkey", "path": "k.csv", "key": ["title"], "on_match": "skip", "skip_invalid": True}
    would = await h.call("import_records", dry_run=True, **args)
    assert (would["created"], would["updated"], would["skipped"]) == (1, 0, 1)
    assert [f["row"] for f in would["failed"]] == [3]
    result = await h.call("import_records", **args)
    assert (result["created"], result["updated"], result["skipped"]) == (1, 0, 1)
    assert [f["row"] for f in result["failed"]] == [3]


async def test_too_many_rows_is_refused(h: Harness, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anytable.files import transfer

    monkeypatch.setattr(transfer, "MAX_IMPORT_ROWS", 50)
    await h.call("create_table", name="big", fields=[{"name": "title", "type": "text"}])
    (files / "big.csv").write_text("title\n" + "".join(f"r{i}\n" for i in range(51)), encoding="utf-8")
    message = await h.fails("import_records", table="big", path="big.csv")
    assert "more than 50 rows" in message
    assert await h.all_records("big") == []


async def test_long_jobs_report_progress(h: Harness, files: Path) -> None:
    await h.call("create_table", name="prog", fields=[{"name": "title", "type": "text"}])
    (files / "p.csv").write_text("title\n" + "".join(f"r{i}\n" for i in range(1100)), encoding="utf-8")
    h.progress.clear()
    assert (await h.call("import_records", table="prog", path="p.csv"))["created"] == 1100
    assert h.progress and h.progress[0][2] is not None and "1100 rows" in h.progress[0][2]
    h.progress.clear()
    assert (await h.call("export_records", table="prog", path="p.jsonl"))["records"] == 1100
    done = [p[0] for p in h.progress]
    assert done and done == sorted(done) and done[-1] == 1100
    # sorted over several of the provider's pages (sorted here where the provider cannot sort)
    await h.call("export_records", table="prog", path="sorted.csv", sort=[{"field": "title", "desc": True}])
    with (files / "sorted.csv").open(encoding="utf-8-sig", newline="") as f:
        titles = [row["title"] for row in csv.DictReader(f)]
    assert titles == sorted((f"r{i}" for i in range(1100)), reverse=True)


async def test_computed_columns_of_an_export_are_left_out_on_import(h: Harness, files: Path) -> None:
    if not h.supports_type("auto_number"):
        pytest.skip(f"{h.provider} cannot create auto_number fields")
    fields = [{"name": "title", "type": "text"}, {"name": "no", "type": "auto_number"}]
    await h.call("create_table", name="auto", fields=fields)
    await h.call("create_records", table="auto", records=[{"title": "a"}, {"title": "b"}])
    await h.call("export_records", table="auto", path="auto.csv")
    out = await h.call("import_records", table="auto", path="auto.csv")
    assert out["created"] == 2 and out["ignored_columns"] == ["no"]
    assert sorted(r["fields"]["title"] for r in await h.all_records("auto")) == ["a", "a", "b", "b"]


async def test_import_with_key_upserts(h: Harness, files: Path) -> None:
    fields = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
    await h.call("create_table", name="up", fields=fields)
    await h.call("create_records", table="up", records=[{"title": "a", "n": 1}, {"title": "b", "n": 2}])
    (files / "u.csv").write_text(
        "title,n\n A ,10\nc,3\n", encoding="utf-8"
    )  # key text: case and spaces ignored

    report = await h.call("import_records", table="up", path="u.csv", key=["title"], dry_run=True)
    assert (report["created"], report["updated"], report["skipped"]) == (1, 1, 0)
    report = await h.call(
        "import_records", table="up", path="u.csv", key=["title"], on_match="skip", dry_run=True
    )
    assert (report["created"], report["updated"], report["skipped"]) == (1, 0, 1)
    assert sorted(r["fields"]["n"] for r in await h.all_records("up")) == [1, 2]  # dry runs wrote nothing

    out = await h.call("import_records", table="up", path="u.csv", key=["title"])
    assert (out["created"], out["updated"], out["skipped"]) == (1, 1, 0)
    got = {r["fields"]["title"].strip().lower(): r["fields"]["n"] for r in await h.all_records("up")}
    assert got == {"a": 10, "b": 2, "c": 3}
    again = await h.call("import_records", table="up", path="u.csv", key=["title"], on_match="skip")
    assert (again["created"], again["updated"], again["skipped"]) == (0, 0, 2)
    assert len(await h.all_records("up")) == 3

    (files / "dup.csv").write_text("title,n\nx,1\nX,2\n,3\n", encoding="utf-8")
    message = await h.fails("import_records", table="up", path="dup.csv", key=["title"])
    assert (
        "line 3: same key as line 2" in message and "line 4" in message and "Nothing was written" in message
    )
    message = await h.fails("import_records", table="up", path="u.csv", on_match="skip")
    assert "on_match needs key" in message
    assert len(await h.all_records("up")) == 3
