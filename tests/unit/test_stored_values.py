"""The local store's value encoding and the bulk coercion fast paths give exactly what the general
paths give: a stored text, a decoded value, a coerced record or an error are the same either way."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from anytable.errors import InputError
from anytable.providers.local.backend import json_text, json_value
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.values import coerce_write, record_coercer

VALUES = [
    ["a", 'b"c', "中文", "\x00\n", "\\"],
    {"text": "链接", "link": 'https://example.com/?q="x"'},
    [],
    {},
    [{"id": "ou_1", "name": "张三"}],
    [1, 2.5, None, True],
    {"a": 1},
    {"x": ["nested"]},
    ["a", None],
    "\u2028 plain",
]


@pytest.mark.parametrize("value", VALUES)
def test_stored_json_is_what_the_json_module_writes_and_reads(value: object) -> None:
    text = json_text(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json_value(text) == value
    assert json_value(" " + text) == value  # any other JSON text still reads as json.loads reads it


def test_a_broken_stored_text_fails_as_json_loads_does() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_value('["a"')
    with pytest.raises(json.JSONDecodeError):
        json_value('["a"] x')


TZ = ZoneInfo("Asia/Shanghai")
FIELDS = [
    FieldInfo(id="f1", name="title", type=FieldType.text),
    FieldInfo(id="f2", name="n", type=FieldType.number),
    FieldInfo(id="f3", name="status", type=FieldType.single_select, options=["todo", "done"]),
    FieldInfo(id="f4", name="tags", type=FieldType.multi_select, options=["a", "b"]),
    FieldInfo(id="f5", name="due", type=FieldType.date),
    FieldInfo(id="f6", name="ok", type=FieldType.checkbox),
    FieldInfo(id="f7", name="site", type=FieldType.url),
]
TABLE = TableSchema(id="t", name="t", fields=FIELDS)
WRITES = {
    "title": ["x", "", " ", 5, 2.0, True, None, "a" * 100_001, ["x"]],
    "n": [1, 2.5, "3", " 4.5 ", "1,000", True, float("nan"), 2**63, "x", None, ""],
    "status": ["todo", "TODO", "nope", 1, None, ""],
    "tags": [["a"], ["a", "a"], ["a", "B"], "a", [1], [["a"]], [{"x": 1}], [], None],
    "due": [
        1_795_000_000_000,
        "2026-11-22",
        "2026-11-22",  # twice: the second comes from the coercer's memory of parsed dates
        "2026-11-22T09:30:00+08:00",
        "2026/11/22",
        "1795000000000",
        10**20,
        "not a date",
        True,
        1.5,
        None,
    ],
    "ok": [True, False, 1, "true", None],
    "site": ["https://a.example", " ", {"link": "https://b.example"}, {"text": 1, "link": "x"}, 3, None],
}


@pytest.mark.parametrize("name", list(WRITES))
def test_bulk_coercion_is_the_general_coercion(name: str) -> None:
    field = next(f for f in FIELDS if f.name == name)
    coerce = record_coercer(TABLE, TZ, keep_none=True)
    for value in WRITES[name]:
        try:
            expected: object = coerce_write(field, value, TZ)
        except InputError as exc:
            expected = f"error: {exc.message}"
        if expected in ("", []):
            expected = None  # a record reads an empty value as no value
        try:
            got: object = coerce({name: value}, 3)[name]
        except InputError as exc:
            got = f"error: {exc.message.removeprefix('Record 3: ')}"
        assert got == expected, (name, value)


def test_a_field_named_twice_by_name_and_by_id_is_refused() -> None:
    coerce = record_coercer(TABLE, TZ, keep_none=False)
    with pytest.raises(InputError, match="given twice"):
        coerce({"title": "a", "f1": "b"}, 0)
    with pytest.raises(InputError, match="given twice"):
        coerce({"f1": None, "title": "b"}, 0)
    assert coerce({"f1": "a", "n": 1}, 0) == {"title": "a", "n": 1}


@pytest.mark.parametrize("kind", [FieldType.date, FieldType.text, FieldType.user, FieldType.checkbox])
def test_a_page_renders_each_value_as_render_read_does(kind: FieldType) -> None:
    from anytable.core.reading import read_format
    from anytable.schemas.values import render_read

    field = FieldInfo(id="f", name="f", type=kind)
    read = read_format(field, TZ)
    for value in [
        None,
        1_795_000_000_000,
        1_795_000_000_000,
        1.5,
        -1,
        "",
        [],
        ["x"],
        {"id": "u"},
        "2026-01-01",
    ]:
        if kind is FieldType.checkbox:
            assert read(value) is bool(value)
            continue
        expected = render_read(field, value, TZ)
        assert read(value) == (None if expected in ("", []) else expected), value
