"""File formats without a provider: cells both ways, the xlsx extra, a file placed without overwriting."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from anytable.errors import InputError
from anytable.files import formats
from anytable.files.cells import cell_reader, cell_writer
from anytable.files.roots import FileRoots
from anytable.schemas.fields import FieldInfo, FieldType


def field(type_: FieldType, options: list[str] | None = None) -> FieldInfo:
    return FieldInfo(id="f1", name="f", type=type_, options=options)


@pytest.mark.parametrize(
    ("type_", "value", "cell"),
    [
        (FieldType.multi_select, ["红", "b"], "红;b"),
        (FieldType.user, [{"id": "ou_1", "name": "Ada"}, {"id": "ou_2"}], "ou_1;ou_2"),
        (FieldType.url, {"text": "例子", "link": "https://x.cn"}, "[例子](https://x.cn)"),
        (FieldType.url, {"text": "https://x.cn", "link": "https://x.cn"}, "https://x.cn"),
        (FieldType.checkbox, False, "false"),
        (FieldType.number, 2.0, "2"),
        (FieldType.number, 0.1, "0.1"),
        (FieldType.text, None, ""),
    ],
)
def test_cells_round_trip(type_: FieldType, value: Any, cell: str) -> None:
    f = field(type_)
    assert cell_writer(f, typed=False)(value) == cell
    back = cell_reader(f)(cell)
    expected = {
        FieldType.user: ["ou_1", "ou_2"],
        FieldType.url: {"text": value["text"], "link": value["link"]} if isinstance(value, dict) else None,
    }.get(type_, value)
    if type_ is FieldType.url and value["text"] == value["link"]:
        expected = value["link"]
    assert back == expected


def test_checkbox_cells_refuse_other_words() -> None:
    read = cell_reader(field(FieldType.checkbox))
    assert read("TRUE") is True and read("0") is False and read("") is None
    with pytest.raises(InputError, match="write true or false"):
        read("maybe")


def test_xlsx_without_openpyxl_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = builtins.__import__

    def no_openpyxl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "openpyxl":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(InputError, match=r"anytable-mcp\[xlsx\]"):
        formats.open_writer("xlsx", tmp_path / "a.xlsx", ["a"])
    with pytest.raises(InputError, match=r"anytable-mcp\[xlsx\]"):
        formats.read_table(tmp_path / "a.xlsx", "xlsx", 10)


def test_place_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("old")
    (tmp_path / "tmp").write_text("new")
    with pytest.raises(InputError, match="overwrite"):
        formats.place(tmp_path / "tmp", tmp_path / "t.csv", overwrite=False)
    assert (tmp_path / "t.csv").read_text() == "old"
    formats.place(tmp_path / "tmp", tmp_path / "t.csv", overwrite=True)
    assert (tmp_path / "t.csv").read_text() == "new"


def test_roots_ignore_missing_and_relative_entries(tmp_path: Path) -> None:
    roots = FileRoots.from_setting(f"relative/dir:{tmp_path / 'missing'}:{tmp_path}")
    assert roots.folders == (tmp_path.resolve(),)
    assert roots.inside(tmp_path.resolve() / "x") and not roots.inside(tmp_path.parent.resolve())
    with pytest.raises(InputError, match="no folder is allowed"):
        FileRoots.from_setting(None).writable("a.csv", overwrite=False)


def test_xlsx_keeps_text_starting_with_equals_as_text(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    writer = formats.open_writer("xlsx", path, ["Name", "N"])
    writer.write([["=1+1", 3], ['=HYPERLINK("http://x","y")', 4]])
    writer.close()
    writer.discard()
    parsed = formats.read_table(path, "xlsx", 10)
    assert [cells for _, cells in parsed.rows] == [
        {"Name": "=1+1", "N": 3},
        {"Name": '=HYPERLINK("http://x","y")', "N": 4},
    ]
