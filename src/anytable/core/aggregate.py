"""aggregate_records: counts, sums, averages... per group, without pulling rows into the context.

``parse_plan`` checks the arguments against the table (before anything is read) and gives a
``Plan``; ``Groups`` folds canonical records into it in the server (any provider); a provider
with a native aggregate (SQL on local) answers the same ``Plan`` itself. ``finish`` sorts, limits
and renders the groups the same way for both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from anytable.core.catalog import Catalog
from anytable.core.progress import Progress
from anytable.core.reading import Reader
from anytable.errors import InputError
from anytable.providers.base import Record
from anytable.schemas.aggregate import LIST_TYPES, GroupBy, Metric, Plan, parse_plan, period_start
from anytable.schemas.fields import DATE_TYPES, FieldType
from anytable.schemas.filters import parse_where
from anytable.schemas.values import is_empty, render_date


# --------------------------------------------------------------------------------- in the server
def _group_values(g: GroupBy, value: Any, tz: tzinfo) -> list[Any]:
    """The group values of one record's value (several for list fields; [None] when empty)."""
    t = g.field.type
    if t is FieldType.checkbox:
        return [bool(value)]
    if is_empty(value):
        return [None]
    if t in LIST_TYPES:
        items = value if isinstance(value, list) else [value]
        out = [str(v.get("id")) if isinstance(v, dict) else v for v in items]
        return list(dict.fromkeys(out)) or [None]
    if t in DATE_TYPES and isinstance(value, int | float):
        return [period_start(value, g.by, tz) if g.by else render_date(value, tz)]
    if t is FieldType.url and isinstance(value, dict):
        return [value.get("link")]
    return [value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class _Acc:
    count: int = 0
    values: list[list[Any]] = field(default_factory=list)


class Groups:
    """Folds records into the plan's groups, in the server."""

    def __init__(self, plan: Plan, tz: tzinfo) -> None:
        self.plan = plan
        self.tz = tz
        self.scanned = 0
        self._groups: dict[tuple[Any, ...], _Acc] = {}
        if not plan.group_by:
            self._groups[()] = self._new()

    def _new(self) -> _Acc:
        return _Acc(values=[[] for _ in self.plan.metrics])

    def add(self, records: Iterable[Record]) -> None:
        for record in records:
            self.scanned += 1
            values = record["fields"]
            keys: list[tuple[Any, ...]] = [()]
            for g in self.plan.group_by:
                options = _group_values(g, values.get(g.field.name), self.tz)
                keys = [(*k, v) for k in keys for v in options]
            for key in keys:
                acc = self._groups.get(key)
                if acc is None:
                    acc = self._groups[key] = self._new()
                acc.count += 1
                for i, m in enumerate(self.plan.metrics):
                    if m.field is not None:
                        acc.values[i].append(values.get(m.field.name))

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for key, acc in self._groups.items():
            row: dict[str, Any] = {g.field.name: v for g, v in zip(self.plan.group_by, key, strict=True)}
            for i, m in enumerate(self.plan.metrics):
                row[m.label] = self._metric(m, acc.count, acc.values[i])
            out.append(row)
        return out

    def _metric(self, m: Metric, count: int, values: list[Any]) -> Any:
        if m.field is None:
            return count
        present = [v for v in values if not is_empty(v)]
        if m.op == "count":
            return len(present)
        if m.op == "count_distinct":
            seen: set[Any] = set()
            for v in present:
                items = v if isinstance(v, list) else [v]
                seen |= {str(x.get("id")) if isinstance(x, dict) else x for x in items}
            return len(seen)
        numbers = [n for n in (_number(v) for v in present) if n is not None]
        if m.op == "sum":
            return _tidy(math.fsum(numbers))
        if not numbers:
            return None
        if m.op == "avg":
            return _tidy(math.fsum(numbers) / len(numbers))
        return min(numbers) if m.op == "min" else max(numbers)


def _tidy(x: float) -> float | int:
    return int(x) if x.is_integer() and abs(x) < 2**53 else round(x, 10)


def finish(plan: Plan, rows: list[dict[str, Any]], tz: tzinfo) -> tuple[list[dict[str, Any]], int]:
    """Groups sorted (by ``plan.sort``, then by group values; empties last), limited, dates rendered."""
    for m in plan.metrics:
        if m.op in ("min", "max") and m.field is not None and m.field.type in DATE_TYPES:
            for row in rows:
                if isinstance(row.get(m.label), int | float):
                    row[m.label] = render_date(row[m.label], tz)
    keys = [*plan.sort, *((g.field.name, False) for g in plan.group_by)]
    for name, desc in reversed(keys):
        present = [r for r in rows if r.get(name) is not None]
        empty = [r for r in rows if r.get(name) is None]
        present.sort(key=_by(name), reverse=desc)
        rows = present + empty
    return rows[: plan.limit], len(rows)


def _by(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda row: _order(row[name])


def _order(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


class Aggregator:
    """aggregate_records: the provider's native aggregate where it has one; else a count from the
    provider's page total where that answers it; else pages read (needed fields only) and folded here."""

    def __init__(self, catalog: Catalog, reader: Reader, tz: tzinfo) -> None:
        self.catalog = catalog
        self.reader = reader
        self.tz = tz

    async def aggregate_records(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        *,
        where: Any = None,
        group_by: Any = None,
        metrics: Any = None,
        sort: Any = None,
        limit: Any = None,
        progress: Progress = None,
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "records", "query", "aggregate_records")
        schema = await self.catalog.schema(addr)
        if where == {"all": True}:
            where = None
        if where == {}:
            raise InputError("where is empty: leave it out to aggregate every record.")
        node = parse_where(where, schema, self.tz)
        plan = parse_plan(schema, group_by, metrics, sort, limit)
        scan = self.reader.plan(addr, schema, node, plan.fields)
        rows: list[dict[str, Any]] | None = None
        computed = False
        if scan.residual is None:
            native = await addr.provider.aggregate(addr.base, schema, scan.compiled.native, plan, self.tz)
            if native is not None:
                rows, scanned = native.rows, native.scanned
        plain_count = not plan.group_by and [(m.op, m.field) for m in plan.metrics] == [("count", None)]
        if rows is None and plain_count and addr.provider.limits.page_total:
            total = await self.reader.count(addr, schema, scan)
            if total is not None:
                rows, scanned = [{plan.metrics[0].label: total}], total
        if rows is None:
            computed = True
            if scan.fields == []:
                scan.fields = [schema.fields[0].name]
            groups = Groups(plan, self.tz)
            async with aclosing(self.reader.scan(addr, schema, scan, progress, "aggregated")) as pages:
                async for page in pages:
                    groups.add(page)
            rows, scanned = groups.rows(), groups.scanned
        out, total_groups = finish(plan, rows, self.tz)
        return {"groups": out, "total_groups": total_groups, "scanned": scanned, "server_computed": computed}
