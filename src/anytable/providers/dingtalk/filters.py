"""``where`` -> the ``filter`` of ``POST .../records/list``: ``{combination: and|or, conditions:
[{field, operator, value: [...]}]}`` (docs/reference/dingtalk-notable-list-records.txt [DOC]).

The native filter has one level (one combination over conditions) and its per-type operators are
those of the DingTalk MCP reference (docs/provider-api-notes.md §1.6): text, number, single/multiple
select, date, user, department. What each operator does beyond its name is not documented, so a
condition is sent only where its meaning is clear, and marked exact only where it is the contract's
meaning whatever the details; otherwise it is sent as a wider condition (the server then re-checks
every record: ``server_filtered: true``), or not at all. A native filter never leaves out a record
the contract's filter matches:

- exact: text ``eq`` (equal), text ``contains`` of a value with no upper/lower case letters (digits,
  CJK...: case sensitivity cannot matter), number ``eq gt gte lt lte``, single_select ``eq``,
  ``is_empty``/``is_not_empty`` on those types, multi_select / user ``contains`` as one ``contain``
  per value (all must hold), ``in`` as an ``or`` of ``equal``/``contain`` conditions.
- wider: multi_select / user ``eq`` (contains every value, maybe more); dates (``greater``/``less``
  two days beyond the bound: right whether DingTalk compares instants or calendar days, in any
  time zone); one condition standing for a nested ``and`` inside an ``or``.
- server only: more than MAX_CONDITIONS alternatives; ``neq`` and ``not_contains`` (whether DingTalk counts empty cells is not
  documented), ``contains`` of cased text (case sensitivity is not documented), checkbox, url,
  link and attachment fields (no documented operators), and nesting the one level cannot hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anytable.providers.base import CompiledFilter
from anytable.schemas.filters import Cond, DayRange, Group, Node

# Most conditions sent in one filter. The documents state no cap [INF]; a long "in" list goes to
# the server rather than risk a refusal (an "and" keeps its first conditions, which only widens it).
MAX_CONDITIONS = 20
DAY_MS = 86_400_000
DATE_MARGIN_MS = 2 * DAY_MS
EMPTY_TYPES = frozenset({"text", "number", "singleSelect", "multipleSelect", "date", "user", "department"})
_COMPARE = {"eq": "equal", "gt": "greater", "gte": "greaterEqual", "lt": "less", "lte": "lessEqual"}


@dataclass
class Part:
    """Conditions joined by ``mode`` that match at least what one contract condition matches."""

    mode: str  # "and" | "or" (one condition: either)
    conditions: list[dict[str, Any]]
    exact: bool


def compile_where(node: Node | None) -> CompiledFilter:
    if node is None:
        return CompiledFilter(native=None, exact=True)
    if isinstance(node, Cond):
        part = translate(node)
        if part is None:
            return CompiledFilter(native=None, exact=False)
        return _native(part.mode, part.conditions, part.exact)
    if node.kind == "and":
        return _compile_and(node)
    return _compile_or(node)


def _native(mode: str, conditions: list[dict[str, Any]], exact: bool) -> CompiledFilter:
    if len(conditions) > MAX_CONDITIONS:
        if mode == "or" and len(conditions) > 1:
            return CompiledFilter(native=None, exact=False)
        conditions, exact = conditions[:MAX_CONDITIONS], False
    if not conditions:
        return CompiledFilter(native=None, exact=False)
    return CompiledFilter(native={"combination": mode, "conditions": conditions}, exact=exact)


def _flatten(group: Group) -> list[Node]:
    out: list[Node] = []
    for item in group.items:
        if isinstance(item, Group) and item.kind == group.kind:
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _compile_and(group: Group) -> CompiledFilter:
    conditions: list[dict[str, Any]] = []
    exact = True
    for item in _flatten(group):
        part = translate(item) if isinstance(item, Cond) else None
        if part is None or (part.mode == "or" and len(part.conditions) > 1):
            exact = False  # left to the server: an and of the rest matches at least as much
            continue
        conditions.extend(part.conditions)
        exact = exact and part.exact
    return _native("and", conditions, exact)


def _compile_or(group: Group) -> CompiledFilter:
    conditions: list[dict[str, Any]] = []
    exact = True
    for item in _flatten(group):
        if isinstance(item, Cond):
            part = translate(item)
            if part is None:
                return CompiledFilter(native=None, exact=False)  # a branch DingTalk cannot select
            if part.mode == "or" or len(part.conditions) == 1:
                conditions.extend(part.conditions)
                exact = exact and part.exact
            else:  # an and of several: any one of them is wider
                conditions.append(part.conditions[0])
                exact = False
            continue
        # A nested and: one of its conditions alone matches at least what the and matches.
        wider = _one_condition(item)
        if wider is None:
            return CompiledFilter(native=None, exact=False)
        conditions.append(wider)
        exact = False
    return _native("or", conditions, exact)


def _one_condition(group: Group) -> dict[str, Any] | None:
    for item in _flatten(group):
        if isinstance(item, Cond):
            part = translate(item)
            if part is not None and (part.mode == "and" or len(part.conditions) == 1):
                return part.conditions[0]
    return None


def translate(cond: Cond) -> Part | None:
    """The native conditions standing for one contract condition, or None (server only)."""
    field = cond.field
    native = field.native_type or ""
    op = cond.op

    def one(operator: str, value: list[Any] | None, exact: bool = True) -> Part:
        condition: dict[str, Any] = {"field": field.id, "operator": operator}
        if value is not None:
            condition["value"] = value
        return Part("and", [condition], exact)

    if op in ("is_empty", "is_not_empty"):
        if native not in EMPTY_TYPES:
            return None
        return one("empty" if op == "is_empty" else "notEmpty", None)
    if native == "text":
        if op == "eq":
            return one("equal", [cond.value])
        if op == "contains" and _caseless(cond.value):
            return one("contain", [cond.value])
        if op == "in":
            return _any("equal", [[v] for v in cond.value], field.id)
        return None
    if native == "number":
        if op in _COMPARE:
            return one(_COMPARE[op], [cond.value])
        if op == "in":
            return _any("equal", [[v] for v in cond.value], field.id)
        return None
    if native == "singleSelect":
        if op == "eq":
            return one("equal", [cond.value])
        if op == "in":
            return _any("equal", [[v] for v in cond.value], field.id)
        return None
    if native in ("multipleSelect", "user"):
        wrap = (lambda v: {"unionId": v}) if native == "user" else (lambda v: v)
        if op in ("contains", "eq"):
            values = cond.value
            conditions = [{"field": field.id, "operator": "contain", "value": [wrap(v)]} for v in values]
            return Part("and", conditions, op == "contains")
        if op == "in":
            return _any("contain", [[wrap(v) for v in item] for item in cond.value], field.id)
        return None
    if native == "date":
        return _date(cond, field.id)
    return None


def _any(operator: str, values: list[list[Any]], field_id: str) -> Part | None:
    """``in``: any of the values, as an ``or`` of one condition per value (each value of ``in`` on a
    list-valued field is itself a list that must all be present: only single values are exact)."""
    conditions: list[dict[str, Any]] = []
    exact = True
    for value in values:
        if not value:
            return None
        if len(value) > 1:
            exact = False  # "has a and b" widened to "has a"
        conditions.append({"field": field_id, "operator": operator, "value": [value[0]]})
    return Part("or", conditions, exact)


def _caseless(value: Any) -> bool:
    return isinstance(value, str) and value == value.lower() and value == value.upper()


def _date(cond: Cond, field_id: str) -> Part | None:
    value = cond.value
    if isinstance(value, DayRange):
        start, end = value.start, value.end  # the day is [start, end)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        start = end = int(value)
    else:
        return None
    # The first instant a match can have, and the last (DingTalk's date operators are greater/less).
    lowest = {"eq": start, "gt": end, "gte": start}.get(cond.op)
    highest = {"eq": end, "lt": start, "lte": end}.get(cond.op)
    conditions: list[dict[str, Any]] = []
    if lowest is not None:
        conditions.append({"field": field_id, "operator": "greater", "value": [lowest - DATE_MARGIN_MS]})
    if highest is not None:
        conditions.append({"field": field_id, "operator": "less", "value": [highest + DATE_MARGIN_MS]})
    return Part("and", conditions, False) if conditions else None
