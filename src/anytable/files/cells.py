"""Values in files: the contract's read format turned into cells, and cells back into values
that ``create_records`` takes.

CSV and XLSX cells are text (XLSX keeps numbers and checkboxes as such): multi_select, user and
link values are ``;``-separated lists, a url whose text differs from its link is ``[text](link)``,
dates are ISO 8601 with offset, checkboxes ``true``/``false``. JSONL keeps the JSON values of the
read format as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import USER_TYPES, FieldInfo, FieldType
from anytable.schemas.values import short

SEP = ";"
LIST_TYPES = frozenset({FieldType.multi_select, FieldType.link}) | USER_TYPES
_MARKDOWN_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<link>[^)\s]+)\)")
_TRUE = frozenset({"true", "1", "yes", "y", "x", "✓", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "否"})


def number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)


def cell_writer(field: FieldInfo, *, typed: bool) -> Callable[[Any], Any]:
    """A function turning one read-format value of ``field`` into a CSV cell (``typed=False``:
    text) or an XLSX cell (numbers and checkboxes kept as such); the choice is made once per field."""
    t = field.type
    empty = None if typed else ""

    def text(value: Any) -> Any:
        if value is None:
            return empty
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return value if typed else ("true" if value else "false")
        if isinstance(value, int | float):
            return value if typed else number_text(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return SEP.join(value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    if t is FieldType.checkbox:
        if typed:
            return lambda value: bool(value)
        return lambda value: "true" if value else "false"
    if t in USER_TYPES:

        def users(value: Any) -> Any:
            if isinstance(value, list):
                return SEP.join(str(u.get("id", "")) if isinstance(u, dict) else str(u) for u in value)
            return text(value)

        return users
    if t is FieldType.url:

        def url(value: Any) -> Any:
            if isinstance(value, dict):
                label, link = value.get("text") or "", value.get("link") or ""
                return link if label in ("", link) else f"[{label}]({link})"
            return text(value)

        return url
    if t is FieldType.attachment:

        def files(value: Any) -> Any:
            if isinstance(value, list):
                return SEP.join(
                    str(a.get("url") or a.get("name") or "") for a in value if isinstance(a, dict)
                )
            return text(value)

        return files

    def fast(value: Any) -> Any:  # most values of the other types are strings already
        return value if type(value) is str else text(value)

    return fast


def cell_reader(field: FieldInfo) -> Callable[[Any], Any]:
    """A function turning one CSV/XLSX cell of ``field`` into a value create_records takes
    (None: no value). Raises InputError naming the field when the cell cannot be one."""
    t = field.type

    def text(cell: Any) -> Any:
        if isinstance(cell, datetime):
            return cell.isoformat()
        if isinstance(cell, date | time):
            return cell.isoformat()
        return cell

    def as_list(cell: Any) -> Any:
        cell = text(cell)
        if not isinstance(cell, str):
            return cell
        return split_list(cell)

    def split_list(cell: str) -> list[str]:
        if SEP not in cell:  # one item (``read`` passes no empty or blank cell)
            return [cell.strip()]
        return [part.strip() for part in cell.split(SEP) if part.strip()]

    def checkbox(cell: Any) -> Any:
        if isinstance(cell, bool):
            return cell
        if isinstance(cell, int | float):
            return bool(cell)
        return checkbox_word(str(cell))

    def checkbox_word(cell: str) -> bool:
        word = cell.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InputError(f"Field {field.name!r} (checkbox) cannot take {short(cell)}: write true or false.")

    def url(cell: Any) -> Any:
        if not isinstance(cell, str):
            return cell
        m = _MARKDOWN_LINK.fullmatch(cell.strip())
        if m:
            return {"text": m["text"] or m["link"], "link": m["link"]}
        return cell.strip()

    def raw_json(cell: Any) -> Any:
        if isinstance(cell, str):
            try:
                return json.loads(cell)
            except ValueError:
                return cell
        return cell

    def number(cell: Any) -> Any:
        if isinstance(cell, str) and "_" not in cell:  # common forms here; others go to the coercion as text
            try:
                return int(cell)
            except ValueError:
                pass
            try:
                value = float(cell)
            except ValueError:
                return cell
            return value if value == value and value not in (float("inf"), float("-inf")) else cell
        return text(cell)

    if t in LIST_TYPES:
        convert = as_list
    elif t is FieldType.number:
        convert = number
    elif t is FieldType.checkbox:
        convert = checkbox
    elif t is FieldType.url:
        convert = url
    elif t in (FieldType.location, FieldType.other):
        convert = raw_json
    else:
        convert = text

    plain = convert is text
    # CSV cells are all text: the converters of the common types have a path for text alone
    of_text: Callable[[str], Any] = {as_list: split_list, checkbox: checkbox_word, number: number}.get(
        convert, convert
    )

    def read(cell: Any) -> Any:
        if type(cell) is str:
            if not cell or cell.isspace():
                return None
            return cell if plain else of_text(cell)
        if cell is None:
            return None
        return convert(cell)

    return read


def json_reader(field: FieldInfo) -> Callable[[Any], Any]:
    """JSONL values are already in the read format; only the ;-list form of a string is split."""
    t = field.type

    def read(value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        if t in LIST_TYPES and isinstance(value, str) and SEP in value:
            return [part.strip() for part in value.split(SEP) if part.strip()]
        return value

    return read
