"""aggregate_records arguments: group_by, metrics, sort and limit checked against a table.

``parse_plan`` gives a ``Plan`` (before anything is read); ``anytable.core.aggregate`` computes it
in the server and a provider with a native aggregate (SQL on local) answers the same ``Plan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import DATE_TYPES, USER_TYPES, FieldInfo, FieldType, TableSchema
from anytable.schemas.values import from_epoch_ms, short

OPS = ("count", "count_distinct", "sum", "avg", "min", "max")
PERIODS = ("day", "week", "month", "quarter", "year")
MAX_GROUP_FIELDS = 3
DEFAULT_GROUPS = 100
MAX_GROUPS = 1000
NUMERIC = frozenset({FieldType.number, FieldType.auto_number, FieldType.formula})
LIST_TYPES = frozenset({FieldType.multi_select, FieldType.link}) | USER_TYPES


@dataclass(frozen=True)
class GroupBy:
    field: FieldInfo
    by: str | None  # a period, for date fields


@dataclass(frozen=True)
class Metric:
    op: str
    field: FieldInfo | None
    label: str


@dataclass
class Plan:
    group_by: list[GroupBy]
    metrics: list[Metric]
    sort: list[tuple[str, bool]]  # (group field name or metric label, descending)
    limit: int

    @property
    def fields(self) -> set[str]:
        """The fields the plan reads."""
        names = {g.field.name for g in self.group_by}
        return names | {m.field.name for m in self.metrics if m.field is not None}


def parse_plan(schema: TableSchema, group_by: Any, metrics: Any, sort: Any, limit: Any) -> Plan:
    groups = _parse_group_by(schema, group_by)
    parsed = _parse_metrics(schema, metrics)
    names = [g.field.name for g in groups]
    for m in parsed:
        if m.label in names:
            raise InputError(
                f"metrics: label {m.label!r} is also the group field {m.label!r}; give the metric another "
                'label with "as".'
            )
    labels = [m.label for m in parsed]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise InputError(
            f'metrics: label {twice[0]!r} is given twice; give one of them another label with "as".'
        )
    limit = DEFAULT_GROUPS if limit is None else limit
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_GROUPS:
        raise InputError(f"limit (groups) must be a whole number from 1 to {MAX_GROUPS}; got {short(limit)}.")
    return Plan(groups, parsed, _parse_sort(sort, names + labels), limit)


def _parse_group_by(schema: TableSchema, raw: Any) -> list[GroupBy]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError('group_by is a list of fields, like ["Owner", {"field": "Due", "by": "month"}].')
    if len(raw) > MAX_GROUP_FIELDS:
        raise InputError(f"group_by takes at most {MAX_GROUP_FIELDS} fields; got {len(raw)}.")
    out: list[GroupBy] = []
    for i, item in enumerate(raw):
        by = None
        key: Any = item
        if isinstance(item, dict):
            unknown = set(item) - {"field", "by"}
            if unknown or "field" not in item:
                raise InputError(f'group_by[{i}]: write a field name or {{"field": "Due", "by": "month"}}.')
            key, by = item["field"], item.get("by")
        fld = _field(schema, key, f"group_by[{i}]")
        if fld.type is FieldType.attachment:
            raise InputError(f"group_by[{i}]: {fld.name!r} is an attachment field; group by another field.")
        if by is not None and by not in PERIODS:
            raise InputError(
                f"group_by[{i}]: by {short(by)} is not a period; use one of {', '.join(PERIODS)}."
            )
        if by is not None and fld.type not in DATE_TYPES:
            raise InputError(f"group_by[{i}]: by applies to date fields; {fld.name!r} is {fld.type.value}.")
        if any(g.field.name == fld.name for g in out):
            raise InputError(f"group_by[{i}]: {fld.name!r} is given twice.")
        out.append(GroupBy(fld, by))
    return out


def _parse_metrics(schema: TableSchema, raw: Any) -> list[Metric]:
    if raw is None:
        return [Metric("count", None, "count")]
    if not isinstance(raw, list) or not raw:
        raise InputError(
            'metrics is a non-empty list like [{"op": "count"}, {"op": "avg", "field": "Priority"}].'
        )
    out: list[Metric] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"op", "field", "as"}:
            raise InputError(f'metrics[{i}]: write {{"op": "sum", "field": "<field>", "as"?: "<label>"}}.')
        op = item.get("op")
        if op not in OPS:
            raise InputError(f"metrics[{i}]: op {short(op)} is unknown; use one of {', '.join(OPS)}.")
        fld = None
        if item.get("field") is not None:
            fld = _field(schema, item["field"], f"metrics[{i}]")
        elif op != "count":
            raise InputError(f"metrics[{i}]: {op} needs a field.")
        if fld is not None and op in ("sum", "avg") and fld.type not in NUMERIC:
            raise InputError(
                f"metrics[{i}]: {op} applies to number fields; {fld.name!r} is {fld.type.value}. Use count or "
                "count_distinct, or pick a number field."
            )
        if fld is not None and op in ("min", "max") and fld.type not in NUMERIC | DATE_TYPES:
            raise InputError(
                f"metrics[{i}]: {op} applies to number and date fields; {fld.name!r} is {fld.type.value}."
            )
        label = item.get("as")
        if label is None:
            # the contract's defaults: count, count_distinct(F), sum(F), avg(F), min(F), max(F)
            label = op if fld is None or op == "count" else f"{op}({fld.name})"
        elif not isinstance(label, str) or not label.strip():
            raise InputError(f"metrics[{i}]: as must be a non-empty string.")
        out.append(Metric(op, fld, label))
    return out


def _parse_sort(raw: Any, names: list[str]) -> list[tuple[str, bool]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError('sort is a list like [{"field": "count", "desc": true}].')
    out: list[tuple[str, bool]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"field", "desc"} or item.get("field") not in names:
            got = item.get("field") if isinstance(item, dict) else item
            raise InputError(
                f"sort[{i}]: {short(got)} is neither a group field nor a metric label; sort by one of "
                f"{', '.join(repr(n) for n in names)}."
            )
        out.append((item["field"], bool(item.get("desc", False))))
    return out


def _field(schema: TableSchema, key: Any, what: str) -> FieldInfo:
    found = schema.find_field(key) if isinstance(key, str) else None
    if found is None:
        names = ", ".join(repr(f.name) for f in schema.fields[:40])
        raise InputError(f"{what}: no field {short(key)} in table {schema.name!r}; fields are {names}.")
    return found


def period_start(ms: float, by: str, tz: tzinfo) -> str:
    """The first day of the period holding ``ms`` in ``tz`` (weeks start on Monday)."""
    d = from_epoch_ms(ms, tz).date()
    if by == "week":
        d -= timedelta(days=d.weekday())
    elif by == "month":
        d = d.replace(day=1)
    elif by == "quarter":
        d = date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    elif by == "year":
        d = date(d.year, 1, 1)
    return d.isoformat()
