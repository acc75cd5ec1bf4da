"""Values: the contract's formats, the same for every provider.

``coerce_write`` turns what a caller writes into the canonical value providers receive;
``render_read`` turns a canonical value into what the caller reads. Canonical values:

- text, phone, email: str            - number: int | float     - checkbox: bool
- single_select: option name (str)   - multi_select: list[str] - link: list of record ids
- date, created_time, modified_time: int epoch milliseconds (rendered as ISO 8601 with offset)
- user, created_by, modified_by: list of {"id", "name"?}
- url: {"text", "link"}              - attachment: list of {"name", "url", "type"?, "size"?}
- auto_number: int | str              - formula / location / other: as the provider gives it
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import COMPUTED_TYPES, DATE_TYPES, USER_TYPES, FieldInfo, FieldType, TableSchema

# Every character str.isspace() calls white space (what str.strip() removes): keys are compared
# with these trimmed off both ends, in Python and in SQL (SQLite's and PostgreSQL's trim() without
# a character list remove the ASCII space only, so a full-width or no-break space would differ).
SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

MAX_VALUE_CHARS = 100_000
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"-?\d{11,}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLASH_DAY = re.compile(r"\d{4}/\d{2}/\d{2}")


def short(value: Any, limit: int = 60) -> str:
    """A value as it appears in an error message: JSON, cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _options_hint(field: FieldInfo) -> str:
    options = field.options or []
    shown = ", ".join(json.dumps(o, ensure_ascii=False) for o in options[:25])
    more = f" and {len(options) - 25} more" if len(options) > 25 else ""
    if not options:
        return "the field has no options yet; add them with update_field(options=[...])"
    return f"options are {shown}{more}"


def value_error(field: FieldInfo, value: Any, fits: str) -> InputError:
    return InputError(f"Field {field.name!r} ({field.type.value}) cannot take {short(value)}: {fits}.")


def check_length(field: FieldInfo, value: Any) -> None:
    """A single value over 100,000 characters is refused (any string inside it)."""
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise InputError(
                f"Field {field.name!r}: a value of {len(value):,} characters is over the "
                f"{MAX_VALUE_CHARS:,}-character limit; shorten it or split it across records."
            )
    elif isinstance(value, dict):
        for v in value.values():
            check_length(field, v)
    elif isinstance(value, list):
        for v in value:
            check_length(field, v)


# ---------------------------------------------------------------------------------------- dates


# Dates every provider and the read path can hold (ISO 8601 with any offset, JavaScript dates):
# 1900-01-01 to 9998-12-31, UTC.
MIN_DATE_MS = -2_208_988_800_000
MAX_DATE_MS = 253_402_128_000_000 - 1
DATE_RANGE = "dates from 1900-01-01 to 9998-12-31"
MAX_INT = 2**63 - 1  # integers beyond 64 bits are refused (no provider stores them)
MAX_PARSED_DATES = 10_000  # date texts one coercer remembers


class DateOutOfRange(ValueError):
    def __init__(self) -> None:
        super().__init__(f"out of range: {DATE_RANGE} can be stored")


def check_date_ms(ms: int) -> int:
    if not MIN_DATE_MS <= ms <= MAX_DATE_MS:
        raise DateOutOfRange()
    return ms


def to_epoch_ms(dt: datetime) -> int:
    delta = dt - _EPOCH  # floor to the millisecond, as // timedelta(milliseconds=1) does
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_ms(ms: int | float, tz: tzinfo) -> datetime:
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)


def render_date(ms: int | float, tz: tzinfo) -> str:
    dt = from_epoch_ms(ms, tz)
    spec = "milliseconds" if dt.microsecond else "seconds"
    return dt.isoformat(timespec=spec)


def parse_date(value: Any, tz: tzinfo) -> tuple[int, bool]:
    """(epoch ms, has_time). A date without time is midnight in ``tz``; a naive time is in ``tz``.

    Raises ValueError when ``value`` is not an ISO 8601 date/datetime or epoch milliseconds.
    """
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("not finite")
        return check_date_ms(int(value)), True
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    if _EPOCH_MS.fullmatch(text):  # epoch milliseconds as a string
        return check_date_ms(int(text[:20])), True
    if _ISO_DAY.fullmatch(text):
        d = date.fromisoformat(text)
        return check_date_ms(to_epoch_ms(datetime.combine(d, time(0), tzinfo=tz))), False
    if _SLASH_DAY.fullmatch(text):
        d = date.fromisoformat(text.replace("/", "-"))
        return check_date_ms(to_epoch_ms(datetime.combine(d, time(0), tzinfo=tz))), False
    dt = datetime.fromisoformat(text.replace("/", "-"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return check_date_ms(to_epoch_ms(dt)), True


def day_range(ms: int, tz: tzinfo) -> tuple[int, int]:
    """[start, end) epoch ms of the calendar day (in ``tz``) containing ``ms``."""
    local = from_epoch_ms(ms, tz).date()
    start = datetime.combine(local, time(0), tzinfo=tz)
    end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=tz)
    return to_epoch_ms(start), to_epoch_ms(end)


# ---------------------------------------------------------------------------------------- write


def coerce_write(field: FieldInfo, value: Any, tz: tzinfo) -> Any:
    """The canonical value to store for ``value`` written to ``field``; None clears the field.

    Raises InputError naming the field, the value and what would fit.
    """
    if field.computed:
        raise InputError(
            f"Field {field.name!r} is a {field.type.value} field: its value is computed and cannot be "
            f"written; leave it out of the record."
        )
    if value is None:
        return None
    coerce = _COERCERS.get(field.type)
    if coerce is None:  # location, other: passed to the provider as given
        check_length(field, value)
        return value
    return coerce(field, value, tz)


def _coerce_text(field: FieldInfo, value: Any, tz: tzinfo) -> str:
    if type(value) is str:
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
    else:
        raise value_error(field, value, "write a string")
    if len(text) > MAX_VALUE_CHARS:
        check_length(field, text)
    if field.type is FieldType.email and text and "@" not in text:
        raise value_error(field, value, "write an email address like name@example.com")
    return text


def _coerce_checkbox(field: FieldInfo, value: Any, tz: tzinfo) -> bool:
    if isinstance(value, bool):
        return value
    raise value_error(field, value, "write true or false")


def _coerce_single(field: FieldInfo, value: Any, tz: tzinfo) -> str:
    if not isinstance(value, str):
        raise value_error(field, value, f"write one option name; {_options_hint(field)}")
    return _check_option(field, value)


def _coerce_multi(field: FieldInfo, value: Any, tz: tzinfo) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise value_error(field, value, f"write a list of option names; {_options_hint(field)}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise value_error(field, value, f"write a list of option names; {_options_hint(field)}")
        name = _check_option(field, item)
        if name not in out:
            out.append(name)
    return out


def _coerce_date(field: FieldInfo, value: Any, tz: tzinfo) -> int:
    try:
        return parse_date(value, tz)[0]
    except DateOutOfRange as exc:
        raise value_error(field, value, f"{exc}; write a date in that range") from None
    except (ValueError, OverflowError):
        raise value_error(
            field,
            value,
            "write an ISO 8601 date or datetime ('2026-11-22', '2026-11-22T09:30:00+08:00') or epoch milliseconds",
        ) from None


def _coerce_link(field: FieldInfo, value: Any, tz: tzinfo) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise value_error(field, value, "write a list of record ids of the linked table")
    check_length(field, items)
    return list(dict.fromkeys(items))


def _coerce_attachment(field: FieldInfo, value: Any, tz: tzinfo) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
        raise value_error(
            field, value, 'write a list of attachments like [{"name": "a.pdf", "url": "https://..."}]'
        )
    check_length(field, items)
    return items


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _check_int(field: FieldInfo, value: int) -> int:
    if -MAX_INT - 1 <= value <= MAX_INT:
        return value
    raise InputError(
        f"Field {field.name!r} ({field.type.value}) cannot take a whole number of {value.bit_length()} bits: "
        f"at most 64 bits can be stored (from {-MAX_INT - 1} to {MAX_INT})."
    )


def _coerce_number(field: FieldInfo, value: Any, tz: tzinfo | None = None) -> int | float:
    if isinstance(value, bool):
        raise value_error(field, value, "write a number or a numeric string")
    if isinstance(value, int):
        return _check_int(field, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise value_error(field, value, "write a finite number")
        return value
    if isinstance(value, str) and _NUMERIC.match(value.strip().replace(",", "")):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"[+-]?\d+", text):
            return _check_int(field, int(text) if len(text) < 400 else MAX_INT + 1)
        number = float(text)
        if math.isfinite(number):
            return number
    raise value_error(field, value, "write a number or a numeric string like '12.5'")


def _check_option(field: FieldInfo, name: str) -> str:
    options = field.options or []
    if name in options:
        return name
    folded = [o for o in options if o.casefold() == name.casefold()]
    if len(folded) == 1:
        raise value_error(field, name, f"did you mean {folded[0]!r}? Option names are exact")
    raise value_error(field, name, _options_hint(field))


def _coerce_users(field: FieldInfo, value: Any, tz: tzinfo | None = None) -> list[dict[str, str]]:
    items = value if isinstance(value, list) else [value]
    out: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, str) and item:
            uid = item
        elif isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            uid = item["id"]
        else:
            raise value_error(field, value, 'write a user id, {"id": "..."} or a list of them')
        if uid not in (u["id"] for u in out):
            out.append({"id": uid})
    return out


def _coerce_url(field: FieldInfo, value: Any, tz: tzinfo | None = None) -> dict[str, str]:
    check_length(field, value)
    if isinstance(value, str) and value.strip():
        return {"text": value, "link": value}
    if isinstance(value, dict) and isinstance(value.get("link"), str) and value["link"].strip():
        text = value.get("text")
        if text is not None and not isinstance(text, str):
            raise value_error(field, value, '"text" must be a string')
        unknown = set(value) - {"text", "link"}
        if unknown:
            raise value_error(field, value, f"unknown keys {sorted(unknown)}; use text and link")
        return {"text": text or value["link"], "link": value["link"]}
    raise value_error(field, value, 'write a link string or {"text": "...", "link": "https://..."}')


_COERCERS: dict[FieldType, Any] = {
    FieldType.text: _coerce_text,
    FieldType.phone: _coerce_text,
    FieldType.email: _coerce_text,
    FieldType.number: _coerce_number,
    FieldType.checkbox: _coerce_checkbox,
    FieldType.single_select: _coerce_single,
    FieldType.multi_select: _coerce_multi,
    FieldType.date: _coerce_date,
    FieldType.user: _coerce_users,
    FieldType.url: _coerce_url,
    FieldType.link: _coerce_link,
    FieldType.attachment: _coerce_attachment,
}


def field_coercer(field: FieldInfo) -> Callable[[Any, tzinfo], Any]:
    """``coerce_write`` for one field, with the per-type choice made once and a fast path for the
    common, already-canonical values (bulk writes run this for every value; anything off the fast
    path gets the full coercion and its error)."""
    coerce = _COERCERS.get(field.type)
    if field.computed or coerce is None:
        return lambda value, tz: coerce_write(field, value, tz)

    def slow(value: Any, tz: tzinfo) -> Any:
        return None if value is None else coerce(field, value, tz)

    t = field.type
    options = frozenset(field.options or ())
    low, high = -MAX_INT - 1, MAX_INT
    isfinite = math.isfinite
    if t is FieldType.text:

        def write(value: Any, tz: tzinfo) -> Any:
            if type(value) is str and len(value) <= MAX_VALUE_CHARS:
                return value
            return slow(value, tz)

    elif t is FieldType.number:

        def write(value: Any, tz: tzinfo) -> Any:
            kind = type(value)
            if (kind is int and low <= value <= high) or (kind is float and isfinite(value)):
                return value
            return slow(value, tz)

    elif t is FieldType.date:
        parsed: dict[tuple[str, tzinfo], int] = {}  # dates repeat in bulk writes: parse each once

        def write(value: Any, tz: tzinfo) -> Any:
            kind = type(value)
            if kind is int and MIN_DATE_MS <= value <= MAX_DATE_MS:
                return value
            if kind is str:
                ms = parsed.get((value, tz))
                if ms is None:
                    ms = slow(value, tz)
                    if len(parsed) < MAX_PARSED_DATES:
                        parsed[value, tz] = ms
                return ms
            return slow(value, tz)

    elif t is FieldType.single_select:

        def write(value: Any, tz: tzinfo) -> Any:
            if type(value) is str and value in options:
                return value
            return slow(value, tz)

    elif t is FieldType.multi_select:

        def write(value: Any, tz: tzinfo) -> Any:
            if type(value) is list:
                try:
                    names = set(value)
                except TypeError:  # an unhashable item: the full coercion says what is wrong
                    return slow(value, tz)
                if len(names) == len(value) and names <= options:  # str only: options are str
                    return value
            return slow(value, tz)

    elif t is FieldType.checkbox:

        def write(value: Any, tz: tzinfo) -> Any:
            return value if type(value) is bool else slow(value, tz)

    elif t is FieldType.url:

        def write(value: Any, tz: tzinfo) -> Any:
            if type(value) is str and len(value) <= MAX_VALUE_CHARS and value.strip():
                return {"text": value, "link": value}
            return slow(value, tz)

    else:
        write = slow
    return write


def record_coercer(
    table: TableSchema, tz: tzinfo, *, keep_none: bool = True
) -> Callable[[Any, int | None], dict[str, Any]]:
    """A function turning one record written by the caller into canonical ``{field name: value}``.

    Built once per call (it indexes the fields and picks each field's coercion); raises
    InputError naming the record's position. ``keep_none=False`` leaves empty values out (create).
    """
    index = {
        key: (field.name, field_coercer(field), key != field.name)
        for key, field in table.field_index().items()
    }

    def fail(position: int | None, message: str) -> InputError:
        return InputError((f"Record {position}: " if position is not None else "") + message)

    def coerce(record: Any, position: int | None = None) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise fail(position, 'a record must be an object of field values like {"Name": "x"}.')
        out: dict[str, Any] = {}
        by_id = False
        for key, value in record.items():
            entry = index.get(key)
            if entry is None:
                names = ", ".join(repr(f.name) for f in table.fields[:40])
                raise fail(position, f"no field {key!r} in table {table.name!r}; fields are {names}.")
            name, write, is_id = entry
            by_id = by_id or is_id
            try:
                canonical = write(value, tz)
            except InputError as exc:
                raise fail(position, exc.message) from None
            if canonical is None or canonical == "" or canonical == []:
                if keep_none:
                    out[name] = None  # an empty value is no value
            else:
                out[name] = canonical
        if by_id:  # a field named once by name and once by id (only ids can repeat a name)
            seen: set[str] = set()
            for key in record:
                name = index[key][0]
                if name in seen:
                    raise fail(position, f"field {name!r} is given twice (by name and by id).")
                seen.add(name)
        return out

    return coerce


# ---------------------------------------------------------------------------------------- read


def render_read(field: FieldInfo, value: Any, tz: tzinfo) -> Any:
    """The contract's read format for a canonical value (dates become ISO strings)."""
    if value is None:
        return None
    if field.type in DATE_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        return render_date(value, tz)
    if field.type in USER_TYPES and isinstance(value, dict):
        return [value]
    return value


def read_users(raw: Any, id_keys: tuple[str, ...] = ("id",)) -> list[dict[str, str]] | None:
    """A provider's user value as the contract reads it: ``[{"id", "name"?}]`` (None: empty). Each
    item is an id, or an object whose id is under the first of ``id_keys`` it has."""
    out: list[dict[str, str]] = []
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, dict):
            uid = next((item[k] for k in id_keys if item.get(k)), None)
            if uid:
                user = {"id": str(uid)}
                if item.get("name"):
                    user["name"] = str(item["name"])
                out.append(user)
        elif isinstance(item, str) and item:
            out.append({"id": item})
    return out or None


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


__all__ = [
    "COMPUTED_TYPES",
    "MAX_VALUE_CHARS",
    "coerce_write",
    "day_range",
    "is_empty",
    "parse_date",
    "record_coercer",
    "render_date",
    "render_read",
    "short",
]
