"""aggregate_records and upsert key lookups as SQL, for the embedded store.

Plain SQL over the storage layout of ``catalog.py`` (a column per field, lists as JSON text, NULL
for empty), through the backend seam (``Db``, ``Dialect``): GROUP BY with a list field expanded
through the dialect's ``json_each``, dates by the dialect's ``period`` (the zone's calendar); keys
looked up through an expression index. What SQL here does not express answers None: the engine
then reads pages and computes in the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from anytable.providers.base import Aggregated
from anytable.providers.local.backend import Db, Dialect
from anytable.schemas.aggregate import LIST_TYPES, Plan
from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.values import SPACE, render_date

Columns = Callable[[FieldInfo], str]
TEXT_KEYS = frozenset({FieldType.text, FieldType.email, FieldType.phone, FieldType.single_select})
NUMBER_KEYS = frozenset({FieldType.number, FieldType.auto_number})


def aggregate_sql(
    plan: Plan, table: str, column: Columns, where: tuple[str, list[Any]], dialect: Dialect, tz: tzinfo
) -> tuple[str, list[Any]] | None:
    """The GROUP BY statement of ``plan`` (None: SQL here does not express it)."""
    joins: list[str] = []
    groups: list[str] = []
    params: list[Any] = []
    for g in plan.group_by:
        c = f"t.{column(g.field)}"
        t = g.field.type
        if t in LIST_TYPES:
            if joins:
                return None  # one expanded list field per statement (the dialect's alias is fixed)
            joins.append(f"LEFT JOIN {dialect.json_each(c)} ON TRUE")
            expr = dialect.json_item("id" if t in USER_TYPES else None)
        elif t is FieldType.checkbox:
            expr = f"COALESCE({c}, 0)"
        elif t in DATE_TYPES and g.by:
            if not isinstance(tz, ZoneInfo):
                return None  # a bare offset: the server's calendar
            expr = dialect.period(c, g.by, tz.key, params)
        elif t is FieldType.url:
            expr = dialect.json_get(c, "link")
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
    where_sql, where_params = where
    params += where_params
    select = ", ".join([*groups, *metrics, "COUNT(*)"])
    sql = f"SELECT {select} FROM {table} AS t {' '.join(joins)} WHERE {where_sql}"
    if groups:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))
    return sql, list(params)


async def run_aggregate(
    db: Db,
    dialect: Dialect,
    plan: Plan,
    table: str,
    column: Columns,
    where: tuple[str, list[Any]],
    tz: tzinfo,
) -> Aggregated | None:
    built = aggregate_sql(plan, table, column, where, dialect, tz)
    if built is None:
        return None
    sql, params = built
    rows = await db.fetchall(sql, params)
    expanded = any(g.field.type in LIST_TYPES for g in plan.group_by)
    if expanded:  # a record counts in several groups: count the matches themselves
        counted = await db.fetchone(f"SELECT COUNT(*) FROM {table} WHERE {where[0]}", where[1])
        scanned = int(counted[0]) if counted else 0
    else:  # every match is in exactly one group: the last column counts them
        scanned = sum(int(row[-1]) for row in rows)
    n = len(plan.group_by)
    out: list[dict[str, Any]] = []
    for raw in rows:
        row = [dialect.plain(value) for value in raw]  # e.g. PostgreSQL's NUMERIC as int or float
        item: dict[str, Any] = {}
        for g, value in zip(plan.group_by, row[:n], strict=True):
            if g.field.type is FieldType.checkbox:
                value = bool(value)
            elif g.field.type in DATE_TYPES and not g.by and value is not None:
                value = render_date(value, tz)
            item[g.field.name] = value
        for m, value in zip(plan.metrics, row[n:-1], strict=True):
            if isinstance(value, float) and value.is_integer() and m.op in ("sum", "avg"):
                value = int(value)
            elif isinstance(value, float):
                value = round(value, 10)
            item[m.label] = value
        out.append(item)
    return Aggregated(rows=out, scanned=scanned)


async def key_lookup(
    db: Db, dialect: Dialect, table: str, column: Columns, fields: list[FieldInfo], keys: list[list[Any]]
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
    expr = f"lower({dialect.trim_space(c)})" if first.type in TEXT_KEYS else c
    name = f"ix_{table.strip(chr(34))}_{c.strip(chr(34))}"
    await db.execute(f'DROP INDEX IF EXISTS "{name}_key"')  # on lower(trim(c)): ASCII spaces only
    await db.execute(f'CREATE INDEX IF NOT EXISTS "{name}_keyspace" ON {table} ({expr})')
    wanted = {tuple(k) for k in keys}
    candidates = sorted({k[0] for k in keys}, key=str)
    cols = ", ".join(column(f) for f in fields)
    found: dict[tuple[Any, ...], list[str]] = {}
    for i in range(0, len(candidates), 500):
        part = candidates[i : i + 500]
        marks = ",".join("?" * len(part))
        sql = f"SELECT rid, {cols} FROM {table} WHERE {expr} IN ({marks}) ORDER BY seq"
        for rid, *values in await db.fetchall(sql, part):
            key = tuple(
                (v.strip(SPACE).lower() if isinstance(v, str) else float(v) if v is not None else None)
                for v in values
            )
            if key in wanted:
                found.setdefault(key, []).append(rid)
    return [(list(k), ids) for k, ids in found.items()]
