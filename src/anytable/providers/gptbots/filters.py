"""``where`` to what records/page can filter natively.

records/page takes ``filter``, an equality on ONE field that must be unique (the newer EN page:
"Must include a field with unique: true, and only one field is supported"), and ``keyword``, a
"fuzzy search". Everything else is filtered by the server (``server_filtered: true``).

- A top-level condition (alone or inside a top-level ``and``) ``eq`` (or ``in`` with one value) on a
  unique TEXT or INT field goes to ``filter``. It is exact only for INT alone: a TEXT comparison
  in GPTBots' database may ignore case and trailing spaces (a superset of ours), so the server
  re-checks it. FLOAT (binary float equality) and DATETIME (whole-day ranges, seconds) are not sent.
- Otherwise a top-level ``contains`` on a TEXT field goes to ``keyword``, read as a case-insensitive
  substring search over the text values: a superset of ``contains`` on one field, so the server
  re-checks every record it returns.

A native filter never excludes a record the evaluator would match; whatever it lets through is
checked again in the server unless the filter is exact.
"""

from __future__ import annotations

from typing import Any

from anytable.providers.base import CompiledFilter
from anytable.schemas.fields import TableSchema
from anytable.schemas.filters import Cond, Group, Node


def compile_where(where: Node | None, table: TableSchema) -> CompiledFilter:
    if where is None:
        return CompiledFilter(native=None, exact=True)
    conjuncts = list(where.items) if isinstance(where, Group) and where.kind == "and" else [where]
    for node in conjuncts:
        native = _unique_equality(node)
        if native is not None:
            field_name, value, exact = native
            alone = len(conjuncts) == 1
            return CompiledFilter(native={"filter": {field_name: value}}, exact=exact and alone)
    for node in conjuncts:
        if (
            isinstance(node, Cond)
            and node.op == "contains"
            and node.field.native_type == "TEXT"
            and isinstance(node.value, str)
            and node.value.strip()
        ):
            return CompiledFilter(native={"keyword": node.value}, exact=False)
    return CompiledFilter(native=None, exact=False)


def _unique_equality(node: Node) -> tuple[str, Any, bool] | None:
    """(field name, native value, exact) when ``node`` is an equality the API can filter on."""
    if not isinstance(node, Cond) or not node.field.unique:
        return None
    if node.op == "eq":
        value = node.value
    elif node.op == "in" and isinstance(node.value, list) and len(node.value) == 1:
        value = node.value[0]
    else:
        return None
    native = node.field.native_type
    if native == "TEXT" and isinstance(value, str) and value:
        return node.field.name, value, False
    if native == "INT" and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            return None  # no whole number equals it: leave it to the server (it matches nothing)
        return node.field.name, int(value), True
    return None
