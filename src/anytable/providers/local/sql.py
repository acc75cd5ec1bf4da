"""The filter language compiled to SQLite, with the meaning of ``anytable.providers.evaluate``.

Storage (see store.py): scalar values in their own column, lists and objects as JSON text, an
empty value always as NULL, checkbox as 0/1, dates as epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.filters import Cond, DayRange, Node, SortKey

Columns = Callable[[FieldInfo], str]  # the SQL expression holding a field's value
JSON_LIST_TYPES = frozenset({FieldType.multi_select, FieldType.link, FieldType.attachment}) | USER_TYPES


def compile_where(node: Node | None, column: Columns) -> tuple[str, list[Any]]:
    if node is None:
        return "1", []
    params: list[Any] = []
    sql = _node(node, column, params)
    return sql, params


def _node(node: Node, column: Columns, params: list[Any]) -> str:
    if isinstance(node, Cond):
        return _cond(node, column, params)
    joiner = " AND " if node.kind == "and" else " OR "
    return "(" + joiner.join(_node(item, column, params) for item in node.items) + ")"


def _like_escape(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _icontains(expr: str, needle: str, params: list[Any]) -> str:
    """Substring test ignoring case. SQLite's LIKE folds ASCII only, so other needles use a function."""
    if needle.isascii():
        params.append(_like_escape(needle))
        return f"({expr} LIKE ? ESCAPE '\\')"
    params.append(needle)
    return f"anytable_icontains({expr}, ?)"


def _cond(cond: Cond, column: Columns, params: list[Any]) -> str:
    field, op, value = cond.field, cond.op, cond.value
    c = column(field)
    t = field.type
    if t is FieldType.checkbox:
        checked = value if op == "eq" else not value
        return f"(COALESCE({c}, 0) = {1 if checked else 0})"
    if op == "is_empty":
        return f"({c} IS NULL)"
    if op == "is_not_empty":
        return f"({c} IS NOT NULL)"
    if op in ("neq", "not_contains"):
        positive = _cond(Cond(field, "eq" if op == "neq" else "contains", value, cond.raw), column, params)
        return f"({c} IS NULL OR NOT {positive})"
    if op == "in":
        each = "contains" if t in JSON_LIST_TYPES else "eq"
        parts = [_cond(Cond(field, each, item, item), column, params) for item in value]
        return "(" + " OR ".join(parts) + ")"
    if t in JSON_LIST_TYPES:
        return _json_list(field, op, value, c, params)
    if t is FieldType.url:
        if op == "contains":
            link = _icontains(f"json_extract({c}, '$.link')", value, params)
            text = _icontains(f"json_extract({c}, '$.text')", value, params)
            return f"({link} OR {text})"
        params.append(value)
        return f"(json_extract({c}, '$.link') {_SQL_OPS[op]} ?)"
    if t in DATE_TYPES and isinstance(value, DayRange):
        bounds = {
            "eq": f"({c} >= ? AND {c} < ?)",
            "gt": f"({c} >= ?)",
            "gte": f"({c} >= ?)",
            "lt": f"({c} < ?)",
            "lte": f"({c} < ?)",
        }[op]
        params.extend(
            {
                "eq": [value.start, value.end],
                "gt": [value.end],
                "gte": [value.start],
                "lt": [value.start],
                "lte": [value.end],
            }[op]
        )
        return bounds
    if op == "contains":
        return _icontains(f"CAST({c} AS TEXT)", str(value), params)
    if t is FieldType.auto_number and isinstance(value, str):
        params.append(value)
        return f"(CAST({c} AS TEXT) {_SQL_OPS[op]} ?)"
    params.append(value)
    return f"({c} {_SQL_OPS[op]} ?)"


_SQL_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _json_list(field: FieldInfo, op: str, value: list[str], c: str, params: list[Any]) -> str:
    if field.type is FieldType.attachment:  # contains: a file name contains the text
        needle = _icontains("json_extract(j.value, '$.name')", str(value), params)
        return f"EXISTS (SELECT 1 FROM json_each({c}) AS j WHERE {needle})"
    item = "json_extract(j.value, '$.id')" if field.type in USER_TYPES else "j.value"
    has = []
    for v in value:
        params.append(v)
        has.append(f"EXISTS (SELECT 1 FROM json_each({c}) AS j WHERE {item} = ?)")
    contains_all = "(" + " AND ".join(has) + ")"
    if op == "contains":
        return contains_all
    if op == "eq":
        params.append(len(value))
        return f"({contains_all} AND json_array_length({c}) = ?)"
    return "0"


def order_by(keys: list[SortKey], column: Columns) -> list[tuple[str, bool]]:
    """(expression, descending) components: each key's emptiness first (empties last), then its value."""
    parts: list[tuple[str, bool]] = []
    for key in keys:
        c = column(key.field)
        if key.field.type is FieldType.checkbox:
            parts.append((f"COALESCE({c}, 0)", key.desc))
            continue
        if key.field.type is FieldType.url:
            c = f"json_extract({c}, '$.link')"
        parts.append((f"({c} IS NULL)", False))
        parts.append((c, key.desc))
    parts.append(("seq", False))
    return parts


def after(parts: list[tuple[str, bool]], last: list[Any]) -> tuple[str, list[Any]]:
    """Rows strictly after ``last`` (the previous page's last row) in the order of ``parts``."""
    clauses: list[str] = []
    params: list[Any] = []
    for i, (expr, desc) in enumerate(parts):
        terms = [f"{parts[j][0]} IS ?" for j in range(i)]
        params.extend(last[:i])
        terms.append(f"{expr} {'<' if desc else '>'} ?")
        params.append(last[i])
        clauses.append("(" + " AND ".join(terms) + ")")
    return "(" + " OR ".join(clauses) + ")", params
