"""The filter language compiled to SQL, with the meaning of ``anytable.providers.evaluate``.

Storage (see catalog.py): scalar values in their own column, lists and objects as JSON, an
empty value always as NULL, checkbox as 0/1, dates as epoch milliseconds. What differs between
databases is asked of the :class:`~anytable.providers.local.backend.Dialect`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anytable.providers.local.backend import JSON_LIST_TYPES, Dialect
from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.filters import Cond, DayRange, Node, SortKey

Columns = Callable[[FieldInfo], str]  # the SQL expression holding a field's value


def compile_where(node: Node | None, column: Columns, dialect: Dialect) -> tuple[str, list[Any]]:
    """(SQL condition, parameters) for a filter tree; no tree is TRUE."""
    if node is None:
        return "TRUE", []
    compiler = _Compiler(column, dialect)
    return compiler.node(node), compiler.params


class _Compiler:
    def __init__(self, column: Columns, dialect: Dialect) -> None:
        self.column, self.d = column, dialect
        self.params: list[Any] = []

    def node(self, node: Node) -> str:
        if isinstance(node, Cond):
            return self.cond(node)
        joiner = " AND " if node.kind == "and" else " OR "
        return "(" + joiner.join(self.node(item) for item in node.items) + ")"

    def cond(self, cond: Cond) -> str:
        field, op, value = cond.field, cond.op, cond.value
        c, d, params = self.column(field), self.d, self.params
        t = field.type
        if t is FieldType.checkbox:
            checked = value if op == "eq" else not value
            return f"(COALESCE({c}, 0) = {1 if checked else 0})"
        if op == "is_empty":
            return f"({c} IS NULL)"
        if op == "is_not_empty":
            return f"({c} IS NOT NULL)"
        if op in ("neq", "not_contains"):
            positive = self.cond(Cond(field, "eq" if op == "neq" else "contains", value, cond.raw))
            return f"({c} IS NULL OR NOT {positive})"
        if op == "in":
            each = "contains" if t in JSON_LIST_TYPES else "eq"
            return "(" + " OR ".join(self.cond(Cond(field, each, item, item)) for item in value) + ")"
        if t in JSON_LIST_TYPES:
            return self.json_list(field, op, value, c)
        if t is FieldType.url:
            if op == "contains":
                link = d.icontains(d.json_get(c, "link"), value, params)
                text = d.icontains(d.json_get(c, "text"), value, params)
                return f"({link} OR {text})"
            params.append(value)
            return f"({d.json_get(c, 'link')} {_SQL_OPS[op]} ?)"
        if t in DATE_TYPES and isinstance(value, DayRange):
            return self.day_range(op, value, c)
        if op == "contains":
            return d.icontains(d.as_text(c), str(value), params)
        if t is FieldType.auto_number and isinstance(value, str):
            params.append(value)
            return f"({d.as_text(c)} {_SQL_OPS[op]} ?)"
        params.append(value)
        return f"({c} {_SQL_OPS[op]} ?)"

    def day_range(self, op: str, value: DayRange, c: str) -> str:
        bounds = {
            "eq": f"({c} >= ? AND {c} < ?)",
            "gt": f"({c} >= ?)",
            "gte": f"({c} >= ?)",
            "lt": f"({c} < ?)",
            "lte": f"({c} < ?)",
        }[op]
        self.params.extend(
            {
                "eq": [value.start, value.end],
                "gt": [value.end],
                "gte": [value.start],
                "lt": [value.start],
                "lte": [value.end],
            }[op]
        )
        return bounds

    def json_list(self, field: FieldInfo, op: str, value: list[str], c: str) -> str:
        d, params = self.d, self.params
        if field.type is FieldType.attachment:  # contains: a file name contains the text
            needle = d.icontains(d.json_item("name"), str(value), params)
            return f"EXISTS (SELECT 1 FROM {d.json_each(c)} WHERE {needle})"
        item = d.json_item("id" if field.type in USER_TYPES else None)
        has = []
        for v in value:
            params.append(v)
            has.append(f"EXISTS (SELECT 1 FROM {d.json_each(c)} WHERE {item} = ?)")
        contains_all = "(" + " AND ".join(has) + ")"
        if op == "contains":
            return contains_all
        if op == "eq":
            params.append(len(value))
            return f"({contains_all} AND {d.json_len(c)} = ?)"
        return "FALSE"


_SQL_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def order_by(keys: list[SortKey], column: Columns, dialect: Dialect) -> list[tuple[str, bool]]:
    """(expression, descending) components: each key's emptiness first (empties last), then its value."""
    parts: list[tuple[str, bool]] = []
    for key in keys:
        c = column(key.field)
        if key.field.type is FieldType.checkbox:
            parts.append((f"COALESCE({c}, 0)", key.desc))
            continue
        if key.field.type is FieldType.url:
            c = dialect.json_get(c, "link")
        parts.append((f"({c} IS NULL)", False))
        parts.append((c, key.desc))
    parts.append(("seq", False))
    return parts


def after(parts: list[tuple[str, bool]], last: list[Any], dialect: Dialect) -> tuple[str, list[Any]]:
    """Rows strictly after ``last`` (the previous page's last row) in the order of ``parts``."""
    clauses: list[str] = []
    params: list[Any] = []
    for i, (expr, desc) in enumerate(parts):
        terms = [dialect.same(parts[j][0]) for j in range(i)]
        params.extend(last[:i])
        terms.append(f"{expr} {'<' if desc else '>'} ?")
        params.append(last[i])
        clauses.append("(" + " AND ".join(terms) + ")")
    return "(" + " OR ".join(clauses) + ")", params
