"""GPTBots values, both ways (the field types are in ``fields``).

``number`` is created as FLOAT: the contract's number takes any number ("4.5", -0.25), and an INT
field would refuse every fraction. Both read back as numbers (a whole FLOAT reads as an int, so
``3`` round-trips as ``3``). A table made in GPTBots may have INT fields: writing a fraction there
is refused before anything is sent (``check_value``).

DATETIME values are wall-clock strings ``YYYY-MM-DD HH:MM:SS`` with no zone (the read examples
show ``"2029-10-01 12:00:00"``). They are written and read as wall-clock time in ANYTABLE_TIMEZONE,
so a user sees in GPTBots the time they wrote; they keep whole seconds (milliseconds are dropped).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, tzinfo
from typing import Any

from anytable.schemas.fields import FieldInfo
from anytable.schemas.values import from_epoch_ms, short, to_epoch_ms

MAX_UNIQUE_CHARS = 256  # a unique field's value (import page)
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MIN_DATETIME = datetime(1000, 1, 1)  # MySQL DATETIME range (GPTBots stores in MySQL: error 1062)
_MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59)


# ------------------------------------------------------------------------------- write


def check_value(field: FieldInfo, value: Any, tz: tzinfo) -> str | None:
    """What would fit instead, when GPTBots would refuse this canonical value (None: it fits)."""
    native = field.native_type
    if value is None:
        return None
    if native == "INT" and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            return "it is a whole-number (GPTBots INT) field: write a whole number"
        if not INT_MIN <= int(value) <= INT_MAX:
            return "it is a GPTBots INT field: write a whole number within the signed 64-bit range"
    if native == "DATETIME" and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            local = from_epoch_ms(value, tz).replace(tzinfo=None)
        except (OverflowError, ValueError, OSError):
            local = None
        if local is None or not _MIN_DATETIME <= local <= _MAX_DATETIME:
            return "GPTBots dates run from year 1000 to year 9999"
    if field.unique and isinstance(value, str) and len(value) > MAX_UNIQUE_CHARS:
        return f"it is a unique field, whose values are at most {MAX_UNIQUE_CHARS} characters in GPTBots"
    return None


def to_native(field: FieldInfo, value: Any, tz: tzinfo) -> Any:
    """The JSON value GPTBots takes for a canonical value (None stays None: clears the field)."""
    if value is None:
        return None
    native = field.native_type
    if native == "DATETIME" and isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch_ms(value, tz).strftime(DATETIME_FORMAT)
    if native == "INT" and isinstance(value, float) and value.is_integer():
        return int(value)
    if native == "FLOAT" and isinstance(value, int) and not isinstance(value, bool):
        return value  # a JSON number either way
    if native == "TEXT" and not isinstance(value, str):
        return str(value)
    return value


def unique_key(field: FieldInfo, native: Any) -> Any:
    """A comparable form of a native value of a unique field (1 and 1.0 are the same number)."""
    if isinstance(native, bool) or native is None:
        return native
    if isinstance(native, int | float):
        return float(native) if field.native_type == "FLOAT" else native
    return native


# ------------------------------------------------------------------------------- read


def from_native(field: FieldInfo, value: Any, tz: tzinfo) -> Any:
    """The canonical value of what GPTBots returned (None: empty)."""
    if value is None or value == "":
        return None
    native = field.native_type
    try:
        if native in ("INT", "FLOAT"):
            return _number(value)
        if native == "DATETIME":
            return _datetime_ms(value, tz)
        if native == "BOOLEAN":
            return _boolean(value)
        if native == "TEXT":
            return value if isinstance(value, str) else _text(value)
    except (ValueError, TypeError, OverflowError):
        return value  # not what the type says: shown as GPTBots gave it
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    raise TypeError(f"not a number: {short(value)}")


def _datetime_ms(value: Any, tz: tzinfo) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value if abs(value) >= 1e11 else value * 1000)  # epoch ms, else seconds
    if not isinstance(value, str):
        raise TypeError("not a date")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return to_epoch_ms(datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz))
    dt = datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return to_epoch_ms(dt)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise ValueError("not a boolean")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
