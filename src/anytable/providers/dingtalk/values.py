"""Values: the contract's canonical values <-> DingTalk's record value format.

DingTalk's formats (docs/provider-api-notes.md §1.7, "Record value format" [DOC]; insert/list pages):

| type | write | read |
| --- | --- | --- |
| text | "string" | "string" |
| number | 123 (or a numeric string) | "123": a string |
| singleSelect / multipleSelect | option name / list of names | {"id", "name"} / list of them |
| date | epoch ms (the most reliable form [3P]) | epoch ms |
| user | [{"unionId"}] | [{"unionId"}] |
| url | {"text", "link"} | {"text", "link"} |
| uni/bidirectionalLink | {"linkedRecordIds": [...]} | {"linkedRecordIds": [...]} |
| attachment | [{"url", "filename"?, "size"?, "type"?}] [INF: the upload flow is not in our documents] | [{"filename", "size", "type", "url"}] |
| checkbox [INF] | true / false | true, or no value |

A value that DingTalk would not take is an InputError naming the record and the field before
anything is sent (``check_rows``): more than one user or linked record in a single-value field, an
attachment that is not ``{"url", "name"?, "type"?, "size"?}``.

Clearing a field on update (canonical None) sends the type's empty value: "" for text, [] for the
list types, ``{"linkedRecordIds": []}`` for links, false for a checkbox, null otherwise [INF: the
documents do not say how a value is cleared; these are valid values of each type's format].
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from anytable.errors import InputError
from anytable.providers.dingtalk.fields import multiple
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.values import read_users, value_error

_INT = re.compile(r"^[+-]?\d+$")
ATTACHMENT_KEYS = frozenset({"name", "url", "type", "size"})
ATTACHMENT_FITS = (
    'write a list of files like [{"url": "https://...", "name": "a.pdf"}] ("type" and "size" in bytes '
    "optional); DingTalk takes files by URL"
)


# ---------------------------------------------------------------------------------------- write


def write_value(field: FieldInfo, value: Any) -> Any:
    """DingTalk's write form of a canonical value (None: the type's empty value). InputError when
    DingTalk would not take it."""
    t = field.type
    if value is None:
        return _EMPTY.get(t)
    if t is FieldType.user:
        ids = [u["id"] if isinstance(u, dict) else str(u) for u in value]
        if len(ids) > 1 and not multiple(field):
            raise value_error(field, value, "this field takes one user")
        return [{"unionId": uid} for uid in ids]
    if t is FieldType.link:
        if len(value) > 1 and not multiple(field):
            raise value_error(field, value, "this field links to one record")
        return {"linkedRecordIds": list(value)}
    if t is FieldType.url:
        return {"text": value.get("text") or value["link"], "link": value["link"]}
    if t is FieldType.attachment:
        return [_attachment(field, value, item) for item in value]
    return value  # text, number, selects (by name), date (ms), checkbox, other (as given)


_EMPTY: dict[FieldType, Any] = {
    FieldType.text: "",
    FieldType.multi_select: [],
    FieldType.user: [],
    FieldType.attachment: [],
    FieldType.link: {"linkedRecordIds": []},
    FieldType.checkbox: False,
}


def _attachment(field: FieldInfo, whole: Any, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or set(item) - ATTACHMENT_KEYS:
        raise value_error(field, whole, ATTACHMENT_FITS)
    url, name, kind, size = item.get("url"), item.get("name"), item.get("type"), item.get("size")
    if not isinstance(url, str) or not url.strip():
        raise value_error(field, whole, ATTACHMENT_FITS)
    if (name is not None and not isinstance(name, str)) or (kind is not None and not isinstance(kind, str)):
        raise value_error(field, whole, ATTACHMENT_FITS)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise value_error(field, whole, ATTACHMENT_FITS)
    out: dict[str, Any] = {"url": url}
    if name:
        out["filename"] = name
    if size is not None:
        out["size"] = size
    if kind:
        out["type"] = kind
    return out


def row_writer(table: TableSchema) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning one canonical row ``{field name: value}`` into DingTalk's ``fields``."""
    by_name = table.field_by_name()

    def write(row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in row.items():
            field = by_name.get(name)
            if field is None:
                continue  # the core only passes fields of the table
            out[name] = write_value(field, value)
        return out

    return write


def check_rows(table: TableSchema, rows: list[dict[str, Any]]) -> None:
    """Every value of every row in DingTalk's form, or an InputError naming the record."""
    write = row_writer(table)
    for i, row in enumerate(rows):
        try:
            write(row)
        except InputError as exc:
            raise InputError(f"Record {i}: {exc.message}") from None


# ---------------------------------------------------------------------------------------- read


def read_value(field: FieldInfo, raw: Any) -> Any:
    """The canonical value of what DingTalk returned (None: no value)."""
    if raw is None:
        return None
    reader = _READERS.get(field.type)
    return reader(raw) if reader is not None else raw


def _number(raw: Any) -> Any:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw
    if isinstance(raw, str):
        text = raw.strip().replace(",", "")
        if not text:
            return None
        if _INT.match(text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return raw  # not a number after all: shown as DingTalk gave it
        return number if math.isfinite(number) else raw
    return raw


def _option(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw.get("name") or None
    return raw


def _options(raw: Any) -> Any:
    items = raw if isinstance(raw, list) else [raw]
    names = [_option(item) for item in items]
    return [n for n in names if n] or None


def _date(raw: Any) -> Any:
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return raw


def _users(raw: Any) -> Any:
    return read_users(raw, ("unionId", "id"))


def _url(raw: Any) -> Any:
    if isinstance(raw, str):
        return {"text": raw, "link": raw} if raw else None
    if isinstance(raw, dict):
        link = raw.get("link") or raw.get("url")
        if not link:
            return None
        return {"text": raw.get("text") or link, "link": link}
    return raw


def _links(raw: Any) -> Any:
    ids = raw.get("linkedRecordIds") if isinstance(raw, dict) else raw
    if not isinstance(ids, list):
        return None
    return [str(i) for i in ids if i] or None


def _attachments(raw: Any) -> Any:
    items = raw if isinstance(raw, list) else [raw]
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        entry: dict[str, Any] = {
            "name": item.get("filename") or item.get("name") or "",
            "url": item.get("url"),
        }
        if item.get("type"):
            entry["type"] = item["type"]
        if item.get("size") is not None:
            entry["size"] = item["size"]
        out.append(entry)
    return out or None


def _checkbox(raw: Any) -> Any:
    return raw if isinstance(raw, bool) else bool(raw)


_READERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.number: _number,
    FieldType.single_select: _option,
    FieldType.multi_select: _options,
    FieldType.date: _date,
    FieldType.user: _users,
    FieldType.url: _url,
    FieldType.link: _links,
    FieldType.attachment: _attachments,
    FieldType.checkbox: _checkbox,
}


def record_reader(table: TableSchema) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning one DingTalk record into ``{"id", "fields": {name: canonical value}}``.

    DingTalk keys ``fields`` by field name [DOC]; a key that is a field id is read too."""
    by_key = table.field_index()

    def read(raw: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        native = raw.get("fields")
        for name, value in (native if isinstance(native, dict) else {}).items():
            field = by_key.get(name)
            if field is None:
                continue  # a field added since the schema was read: not described, not shown
            canonical = read_value(field, value)
            if canonical is not None:
                values[field.name] = canonical
        return {"id": str(raw.get("id")), "fields": values}

    return read
