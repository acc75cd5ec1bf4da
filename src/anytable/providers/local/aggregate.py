"""aggregate_records and upsert key lookups as SQL, for the embedded store.

Plain SQL over the storage layout of ``store.py`` (a column per field, lists as JSON text, NULL for
empty): GROUP BY with list fields expanded through ``json_each``, dates bucketed by a registered
``anytable_period`` function (the timezone's calendar), keys looked up through an expression index.
The statements are built here and run by the store, so another SQL backend can reuse the shapes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from anytable.core.aggregate import period_start
from anytable.providers.base import Aggregated
from anytable.schemas.aggregate import LIST_TYPES, Plan
from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.values import render_date

Columns = Callable[[FieldInfo], str]
TEXT_KEYS = frozenset({FieldType.text, FieldType.email, FieldType.phone, FieldType.single_select})
NUMBER_KEYS = frozenset({FieldType.number, FieldType.auto_number})


def aggregate_sql(
    plan: Plan, table: str, column: Columns, where: tuple[str, list[Any]]
) -> tuple[str, list[Any]] | None:
    """The GROUP BY statement of ``plan`` (None: a metric SQL here does not express)."""
    joins: list[str] = []
    groups: list[str] = []
    for i, g in enumerate(plan.group_by):
        c = f"t.{column(g.field)}"
        t = g.field.type
        if t in LIST_TYPES:
            joins.append(f"LEFT JOIN json_each({c}) AS g{i}")
            expr = f"json_extract(g{i}.value, '$.id')" if t in USER_TYPES else f"g{i}.value"
        elif t is FieldType.checkbox:
            expr = f"COALESCE({c}, 0)"
        elif t in DATE_TYPES and g.by:
            expr = f"anytable_period({c}, '{g.by}')"
        elif t is FieldType.url:
            expr = f"json_extract({c}, '$.link')"
        else:
            expr = c
        groups.append(expr)
    metrics: list[str] = []
    for m in plan.metrics:
        if m.field is None:
            metrics.append("COUNT(*)")
            continue
        c = f"t.{column(m.field)}"
        if m.op == "count":
            metrics.append(f"COUNT({c})")
        elif m.op == "count_distinct":
            if m.field.type in LIST_TYPES | {FieldType.url, FieldType.checkbox}:
                return None
            metrics.append(f"COUNT(DISTINCT {c})")
        elif m.op == "sum":
            metrics.append(f"COALESCE(SUM({c}), 0)")
        else:
            metrics.append(f"{m.op.upper()}({c})")
    where_sql, params = where
    select = ", ".join([*groups, *metrics])
    sql = f"SELECT {select} FROM {table} AS t {' '.join(joins)} WHERE {where_sql}"
    if groups:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))
    return sql, list(params)


def run_aggregate(
    conn: sqlite3.Connection,
    plan: Plan,
    table: str,
    column: Columns,
    where: tuple[str, list[Any]],
    tz: tzinfo,
) -> Aggregated | None:
    built = aggregate_sql(plan, table, column, where)
    if built is None:
        return None
    conn.create_function(
        "anytable_period",
        2,
        lambda ms, by: None if ms is None else period_start(ms, by, tz),
        deterministic=True,
    )
    sql, params = built
    rows = conn.execute(sql, params).fetchall()
    scanned = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where[0]}", where[1]).fetchone()[0]
    n = len(plan.group_by)
    out: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {}
        for g, value in zip(plan.group_by, row[:n], strict=True):
            if g.field.type is FieldType.checkbox:
                value = bool(value)
            elif g.field.type in DATE_TYPES and not g.by and value is not None:
                value = render_date(value, tz)
            item[g.field.name] = value
        for m, value in zip(plan.metrics, row[n:], strict=True):
            if isinstance(value, float) and value.is_integer() and m.op in ("sum", "avg"):
                value = int(value)
            elif isinstance(value, float):
                value = round(value, 10)
            item[m.label] = value
        out.append(item)
    return Aggregated(rows=out, scanned=scanned)


def key_lookup(
    conn: sqlite3.Connection, table: str, column: Columns, fields: list[FieldInfo], keys: list[list[Any]]
) -> list[tuple[list[Any], list[str]]] | None:
    """Records whose key fields equal one of ``keys`` (as ``anytable.core.upsert.key_part`` makes
    them), through an index on the first key field. None where SQL would not compare as the
    contract does (non-ASCII text: SQLite's lower() folds ASCII only; other field types)."""
    first = fields[0]
    if any(f.type not in TEXT_KEYS | NUMBER_KEYS for f in fields):
        return None
    if any(isinstance(part, str) and not part.isascii() for key in keys for part in key):
        return None
    c = column(first)
    expr = f"lower(trim({c}))" if first.type in TEXT_KEYS else c
    index = f'"ix_{table.strip(chr(34))}_{c.strip(chr(34))}_key"'
    conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({expr})")
    wanted = {tuple(k) for k in keys}
    candidates = sorted({k[0] for k in keys}, key=str)
    cols = ", ".join(column(f) for f in fields)
    found: dict[tuple[Any, ...], list[str]] = {}
    for i in range(0, len(candidates), 500):
        part = candidates[i : i + 500]
        marks = ",".join("?" * len(part))
        sql = f"SELECT rid, {cols} FROM {table} WHERE {expr} IN ({marks}) ORDER BY seq"
        for rid, *values in conn.execute(sql, part):
            key = tuple(
                (v.strip().casefold() if isinstance(v, str) else float(v) if v is not None else None)
                for v in values
            )
            if key in wanted:
                found.setdefault(key, []).append(rid)
    return [(list(k), ids) for k, ids in found.items()]
