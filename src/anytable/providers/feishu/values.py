"""Record values: Feishu's formats to the contract's canonical values and back.

Read formats differ by endpoint (docs/provider-api-notes.md §2.6, A.3, A.29/A.30): records/search and
batch_get give text as segments ``[{"text", "type"}]`` and links as ``{"link_record_ids": [...]}``;
the older list/get give text as a string, numbers as strings (list) and links as
``[{"record_ids", "table_id", "text"}]``. Every shape is read here, so whichever one a deployment
sends ends up as the same canonical value:

- text/email/phone: str (segments joined)      - number: int | float (strings parsed)
- single_select: option name                   - multi_select: list of option names
- date, created/modified time: epoch ms int    - checkbox: bool
- user, created/modified by: [{"id", "name"}]  - url: {"text", "link"}
- link: [record ids]                           - attachment: [{"name", "url", "type", "size", "file_token"}]
- location: Feishu's object                    - formula/lookup: the value, unwrapped

Writes (A.3, A.34): users as ``[{"id"}]`` (ids of FEISHU_USER_ID_TYPE), dates in ms, selects by
name, url ``{"text", "link"}``, links as record ids, attachments ``[{"file_token"}]`` of files
uploaded to the base, location ``"longitude,latitude"``.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from anytable.errors import InputError
from anytable.providers.base import Record
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.values import read_users, short

from .fields import AUTO_NUMBER, GROUP_CHAT

Reader = Callable[[Any], Any]
PHONE = re.compile(r"^\+?\d*$")  # A.3: 电话号码, 符合正则表达式 (\+)?\d* 的字符串
_LOCATION = re.compile(r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$")


# ---------------------------------------------------------------------------------------- read


def text_of(value: Any) -> str | None:
    """Plain text of a text cell: a string, or segments (text, mentions, links) joined."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(text_of(v) or "" for v in value)
    if isinstance(value, dict):
        if "value" in value and "type" in value and "text" not in value:  # formula/lookup wrapper
            return text_of(value["value"])
        text = value.get("text")
        if isinstance(text, str):
            return text
        return str(value.get("name") or value.get("link") or "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, list) and len(value) == 1:
        return _number(value[0])
    if isinstance(value, dict) and "value" in value:
        return _number(value["value"])
    text = text_of(value)
    if not text:
        return None
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _ms(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _checkbox(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _single(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return text_of(value) or None


def _multi(value: Any) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    names = [t for t in (text_of(v) for v in items) if t]
    return names or None


def _users(value: Any) -> list[dict[str, str]] | None:
    return read_users(value)


def _url(value: Any) -> dict[str, str] | None:
    if isinstance(value, list):  # segments: the first link
        value = next((v for v in value if isinstance(v, dict) and v.get("link")), None)
    if isinstance(value, dict):
        link = value.get("link")
        if isinstance(link, str) and link:
            text = value.get("text")
            return {"text": text if isinstance(text, str) and text else link, "link": link}
        return None
    if isinstance(value, str) and value:
        return {"text": value, "link": value}
    return None


def _links(value: Any) -> list[str] | None:
    if isinstance(value, dict):
        ids = value.get("link_record_ids") or value.get("record_ids") or []
        return [str(i) for i in ids] or None
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict):
                out.extend(str(i) for i in item.get("record_ids") or item.get("link_record_ids") or [])
        return list(dict.fromkeys(out)) or None
    return None


def _attachments(value: Any) -> list[dict[str, Any]] | None:
    items = value if isinstance(value, list) else [value]
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        entry: dict[str, Any] = {
            "name": item.get("name") or "",
            "url": item.get("url") or item.get("tmp_url") or "",
        }
        if item.get("type"):
            entry["type"] = item["type"]
        if isinstance(item.get("size"), int):
            entry["size"] = item["size"]
        if item.get("file_token"):
            entry["file_token"] = item["file_token"]
        out.append(entry)
    return out or None


def _computed(value: Any) -> Any:
    """A formula or lookup value: unwrap ``{"type", "value"}``, join text segments."""
    if isinstance(value, dict) and "value" in value and "type" in value:
        value = value["value"]
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "text" in v for v in value):
            return text_of(value)
        if len(value) == 1 and not isinstance(value[0], dict | list):
            return value[0]
    return value


def _place(value: Any) -> Any:
    """A location: Feishu's object without its empty parts (a bare "lng,lat" becomes the object)."""
    if isinstance(value, str):
        return {"location": value} if value else None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in (None, "", [], {})} or None
    return value


def _chats(value: Any) -> Any:
    if isinstance(value, list):
        return [{"id": v.get("id"), "name": v.get("name", "")} if isinstance(v, dict) else v for v in value]
    return value


def _auto_number(field: FieldInfo) -> Reader:
    prop = field.extra.get("property")
    serial = prop.get("auto_serial") if isinstance(prop, dict) else None
    plain = not isinstance(serial, dict) or serial.get("type") != "custom"

    def read(value: Any) -> Any:
        text = text_of(value)
        if not text:
            return None
        return int(text) if plain and text.isdigit() else text

    return read


def _text(value: Any) -> str | None:
    """A text cell; the common shapes (a string, plain segments) without the general walk."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is list and all(type(s) is dict and type(s.get("text")) is str for s in value):
        return "".join([s["text"] for s in value]) or None
    return text_of(value) or None


def _fast_number(value: Any) -> int | float | None:
    kind = type(value)
    return value if kind is int or kind is float else _number(value)


def _fast_ms(value: Any) -> int | None:
    return value if type(value) is int else _ms(value)


def _reader(field: FieldInfo) -> Reader:
    t = field.type
    if t in (FieldType.text, FieldType.email, FieldType.phone):
        return _text
    if t is FieldType.number:
        return _fast_number
    if t in (FieldType.date, FieldType.created_time, FieldType.modified_time):
        return _fast_ms
    if t is FieldType.checkbox:
        return _checkbox
    if t is FieldType.single_select:
        return _single
    if t is FieldType.multi_select:
        return _multi
    if t in (FieldType.user, FieldType.created_by, FieldType.modified_by):
        return _users
    if t is FieldType.url:
        return _url
    if t is FieldType.link:
        return _links
    if t is FieldType.attachment:
        return _attachments
    if t is FieldType.auto_number or field.extra.get("type") == AUTO_NUMBER:
        return _auto_number(field)
    if t is FieldType.location:
        return _place
    if field.extra.get("type") == GROUP_CHAT:
        return _chats
    if t is FieldType.formula or field.read_only:
        return _computed
    return lambda v: v


class RecordReader:
    """Feishu records -> canonical records for one table (the per-field choice made once)."""

    def __init__(self, table: TableSchema) -> None:
        self.readers = {f.name: _reader(f) for f in table.fields}

    def __call__(self, raw: dict[str, Any]) -> Record:
        values: dict[str, Any] = {}
        cells = raw.get("fields")
        if type(cells) is dict:
            readers = self.readers
            for name, value in cells.items():
                read = readers.get(name)
                if read is None or value is None:
                    continue
                canonical = read(value)
                if canonical is not None and canonical != [] and canonical != "":
                    values[name] = canonical
        rid = raw.get("record_id") or raw.get("id")
        return {"id": str(rid), "fields": values}


# ---------------------------------------------------------------------------------------- write


def check_value(field: FieldInfo, value: Any) -> str | None:
    """What is wrong with a canonical value for this Feishu field (None: it fits)."""
    if value is None:
        return None
    if field.type is FieldType.phone and isinstance(value, str) and not PHONE.match(value):
        return "Feishu phone fields hold digits with an optional leading +, like +8613800000000"
    if field.type is FieldType.attachment:
        bad = [a for a in value if not isinstance(a, dict) or not isinstance(a.get("file_token"), str)]
        if bad:
            return (
                'write attachments as [{"file_token": "..."}] of files uploaded to this base '
                "(Feishu drive media upload); Feishu cannot fetch a file from a url"
            )
    if field.type is FieldType.location and _location(value) is None:
        return 'write a location as "longitude,latitude", like "116.397755,39.903179"'
    return None


def _location(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("location")
    if isinstance(value, str) and _LOCATION.match(value):
        return value.replace(" ", "")
    return None


def check_rows(table: TableSchema, rows: list[dict[str, Any]]) -> None:
    """Feishu's value rules beyond the contract types, on every row before anything is sent."""
    watched = {
        f.name: f
        for f in table.fields
        if f.type in (FieldType.phone, FieldType.attachment, FieldType.location)
    }
    if not watched:
        return
    for i, row in enumerate(rows):
        for name, field in watched.items():
            if name in row:
                problem = check_value(field, row[name])
                if problem:
                    raise InputError(
                        f"Record {i}: field {name!r} ({field.type.value}) cannot take {short(row[name])}: {problem}."
                    )


def _writer(field: FieldInfo) -> Callable[[Any], Any] | None:
    """How a canonical value of ``field`` is written; None: as it is (text, numbers, dates in ms,
    checkboxes, selects by name, links as record ids)."""
    t = field.type
    if t in (FieldType.user, FieldType.created_by, FieldType.modified_by):
        return lambda v: [{"id": u["id"]} for u in v]
    if t is FieldType.url:
        return lambda v: {"text": v.get("text") or v["link"], "link": v["link"]}
    if t is FieldType.attachment:
        return lambda v: [{"file_token": a["file_token"]} for a in v]
    if t is FieldType.location:
        return _location
    return None


class RecordWriter:
    """Canonical values -> the ``fields`` object Feishu writes (None clears a cell on update).

    A record with no value to convert is sent as it is, not copied: bulk writes call this for
    every record."""

    def __init__(self, table: TableSchema) -> None:
        self.writers = {f.name: w for f in table.fields if (w := _writer(f)) is not None}

    def __call__(self, values: dict[str, Any]) -> dict[str, Any]:
        writers = self.writers
        if writers.keys().isdisjoint(values):
            return values
        return {
            name: write(value) if value is not None and (write := writers.get(name)) is not None else value
            for name, value in values.items()
        }
