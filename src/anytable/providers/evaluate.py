"""The filter language and sort evaluated in the server, on canonical records.

Providers that cannot express a condition leave it to this module (``server_filtered: true``).
The meaning is the contract's, the same everywhere: ``neq``/``not_contains`` match empty values,
``gt``..``lte`` never do, text ``contains`` ignores case, a date without time compares whole days.
The local provider's SQL compiles the same meaning; the contract tests hold both to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.filters import Cond, DayRange, Node, SortKey
from anytable.schemas.values import is_empty

SET_TYPES = frozenset({FieldType.multi_select, FieldType.link}) | USER_TYPES
Record = dict[str, Any]  # {"id": str, "fields": {name: canonical value}}
Predicate = Callable[[Record], bool]


def matches(node: Node | None, record: Record) -> bool:
    if node is None:
        return True
    if isinstance(node, Cond):
        return _match_cond(node, record["fields"].get(node.field.name))
    if node.kind == "and":
        return all(matches(item, record) for item in node.items)
    return any(matches(item, record) for item in node.items)


def _ids(value: Any) -> list[str]:
    """Ids of a user or link value (users are [{"id", ...}], links are [ids])."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v.get("id")) if isinstance(v, dict) else str(v) for v in items]


def _text_of(field: FieldInfo, value: Any) -> str:
    """The text a textual operator sees for any value."""
    if isinstance(value, str):
        return value
    if field.type is FieldType.url and isinstance(value, dict):
        return str(value.get("link") or "")
    if field.type is FieldType.attachment and isinstance(value, list):
        return "\n".join(str(a.get("name", "")) for a in value if isinstance(a, dict))
    if isinstance(value, list):
        return ",".join(_text_of(field, v) for v in value)
    if isinstance(value, dict):
        return str(value.get("text") or value.get("name") or value.get("id") or "")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _match_cond(cond: Cond, value: Any) -> bool:
    op, field, target = cond.op, cond.field, cond.value
    t = field.type
    if t is FieldType.checkbox:
        checked = bool(value)
        return bool(checked == target) if op == "eq" else bool(checked != target)
    empty = is_empty(value)
    if op == "is_empty":
        return empty
    if op == "is_not_empty":
        return not empty
    if op == "in":  # any of the values; for a list-valued field, has any of them
        each = "contains" if t in SET_TYPES else "eq"
        return not empty and any(_match_cond(Cond(field, each, item, item), value) for item in target)
    negated = {"neq": "eq", "not_contains": "contains"}
    if op in negated:
        return empty or not _match_cond(Cond(field, negated[op], target, cond.raw), value)
    if empty:
        return False
    if t is FieldType.multi_select or t in USER_TYPES or t is FieldType.link:
        have = set(_ids(value)) if t is not FieldType.multi_select else set(value)
        want = set(target)
        if op == "eq":
            return have == want
        if op == "contains":
            return want <= have
        return False
    if t in DATE_TYPES:
        v = _number(value)
        if v is None:
            return False
        if isinstance(target, DayRange):
            return {
                "eq": target.start <= v < target.end,
                "gt": v >= target.end,
                "gte": v >= target.start,
                "lt": v < target.start,
                "lte": v < target.end,
            }[op]
        return _compare(op, v, target)
    if t is FieldType.number or (t is FieldType.auto_number and not isinstance(target, str)):
        v = _number(value)
        return v is not None and _compare(op, v, target)
    text = _text_of(field, value)
    if op == "contains":
        needle = str(target).lower()
        if t is FieldType.url and isinstance(value, dict):
            return needle in text.lower() or needle in str(value.get("text") or "").lower()
        return needle in text.lower()
    if isinstance(target, int | float) and not isinstance(target, bool):
        num = _number(value)
        return num is not None and _compare(op, num, target)
    return _compare(op, text, str(target))


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    if op == "lte":
        return bool(left <= right)
    return False


def sort_key_value(field: FieldInfo, value: Any) -> Any:
    """A comparable value for sorting (None for empty: empties sort last either way)."""
    if field.type is FieldType.checkbox:
        return (0, 1 if value else 0)
    if is_empty(value):
        return None
    if field.type is FieldType.number or field.type in DATE_TYPES:
        n = _number(value)
        return (0, n) if n is not None else (1, str(value))
    if field.type is FieldType.auto_number:
        n = _number(value)
        return (0, n) if n is not None else (1, str(value))
    return (1, _text_of(field, value))


def sort_records(records: Sequence[Record], keys: Sequence[SortKey]) -> list[Record]:
    """Records ordered by ``keys``; ties keep their incoming order; empty values always last."""
    if not keys:
        return list(records)

    def compare(a: tuple[int, list[Any]], b: tuple[int, list[Any]]) -> int:
        for key, va, vb in zip(keys, a[1], b[1], strict=True):
            if va is None and vb is None:
                continue
            if va is None:
                return 1
            if vb is None:
                return -1
            if va != vb:
                less = va < vb
                return (1 if less else -1) if key.desc else (-1 if less else 1)
        return a[0] - b[0]

    decorated = [
        (i, [sort_key_value(k.field, r["fields"].get(k.field.name)) for k in keys])
        for i, r in enumerate(records)
    ]
    decorated.sort(key=functools.cmp_to_key(compare))
    return [records[i] for i, _ in decorated]
