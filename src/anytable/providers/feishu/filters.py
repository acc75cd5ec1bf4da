"""``where`` compiled to the records/search filter (docs/provider-api-notes.md §2.5).

Feishu's filter is ``{"conjunction": "and"|"or", "conditions": [...], "children": [{"conjunction",
"conditions"}]}``: two levels at most, conditions ``{"field_name", "operator", "value": [strings]}``
with the operators is, isNot, contains, doesNotContain, isEmpty, isNotEmpty, isGreater,
isGreaterEqual, isLess, isLessEqual (like and in: not supported; dates: only is, isGreater, isLess
and the emptiness tests, with day values such as ``["ExactDate", "<ms>"]``).

Rule: the native filter never drops a record the contract's meaning (``providers.evaluate``)
would keep. Where a condition maps onto documented operators with the same meaning, it is exact;
where Feishu's meaning is unknown or different it is widened (or left out) and the server checks
every record (``exact=False``, ``server_filtered: true``). Choices:

- Negations (neq, not_contains) match empty values in the contract: they become
  ``isNot OR isEmpty`` so the answer is right whether or not Feishu's isNot keeps empty cells.
- Order comparisons never match empty values: ``isGreater AND isNotEmpty``.
- Dates compare whole days in the base's time zone, which we do not know: a condition becomes
  day bounds widened by two days on each side (``isGreater ExactDate(start - 2d)`` ...) and the server
  checks the exact instant or day in ANYTABLE_TIMEZONE.
- multi_select/user contains a list = has all of them: one ``contains`` per value, all required.
  ``eq`` (exactly this set) is widened to the same, the server checks the rest.
- single_select contains/not_contains (substring of the option name) become the options whose
  names match, from the schema.
- text gt..lte, links, urls, formulas, auto numbers, attachments (beyond emptiness): the server.
- More nesting than two levels is widened: an AND keeps the parts it can express, an OR keeps
  one condition of each AND inside it.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from anytable.providers.base import CompiledFilter
from anytable.schemas.fields import DATE_TYPES, TEXT_TYPES, USER_TYPES, FieldInfo, FieldType
from anytable.schemas.filters import Cond, DayRange, Group, Node

DAY_MS = 86_400_000
MARGIN_MS = 2 * DAY_MS  # wider than any time zone offset plus a DST shift
MAX_FILTER_CHARS = 2_000  # docs/provider-api-notes.md §2.5 [3P]; A.30 documents the same limit (1254107)


@dataclass(frozen=True)
class Leaf:
    field: str
    operator: str
    value: tuple[str, ...] = ()

    def native(self) -> dict[str, Any]:
        return {"field_name": self.field, "operator": self.operator, "value": list(self.value)}


@dataclass(frozen=True)
class All:
    """A group: ``kind`` of ``items`` (Leaf or All)."""

    kind: Literal["and", "or"]
    items: tuple[Any, ...]


TRUE = None  # "no restriction": what cannot be expressed


@dataclass
class FeishuFilter:
    """The compiled filter and the checked tree it came from (for filtering here when Feishu
    cannot apply it: with a view, or when a deployment refuses it)."""

    filter: dict[str, Any] | None
    node: Node

    @property
    def key(self) -> str:
        return json.dumps(self.filter, sort_keys=True, ensure_ascii=False)


def compile_where(where: Node | None) -> CompiledFilter:
    if where is None:
        return CompiledFilter(native=None, exact=True)
    expr, exact = _node(where)
    native, fits = _shape(expr)
    exact = exact and fits
    if native is not None and len(json.dumps(native, ensure_ascii=False)) > MAX_FILTER_CHARS:
        native, exact = None, False
    if native is None:
        return CompiledFilter(native=None, exact=False)
    return CompiledFilter(native=FeishuFilter(native, where), exact=exact)


# ------------------------------------------------------------------------------ the tree


def _group(kind: Literal["and", "or"], parts: list[tuple[Any, bool]]) -> tuple[Any, bool]:
    """Combine compiled parts; TRUE parts vanish from an AND and swallow an OR."""
    exact = all(e for _, e in parts)
    items: list[Any] = []
    for expr, _ in parts:
        if expr is TRUE:
            if kind == "or":
                return TRUE, False
            continue
        if isinstance(expr, All) and expr.kind == kind:
            items.extend(expr.items)
        else:
            items.append(expr)
    if not items:
        return TRUE, False
    return (items[0] if len(items) == 1 else All(kind, tuple(items))), exact


def _node(node: Node) -> tuple[Any, bool]:
    if isinstance(node, Group):
        return _group(node.kind, [_node(item) for item in node.items])
    return _cond(node)


def _shape(expr: Any) -> tuple[dict[str, Any] | None, bool]:
    """Feishu's two-level form of ``expr`` (widened where deeper), and whether it is unchanged."""
    if expr is TRUE:
        return None, False
    if isinstance(expr, Leaf):
        return {"conjunction": "and", "conditions": [expr.native()]}, True
    conditions: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []
    exact = True
    for item in expr.items:
        if isinstance(item, Leaf):
            conditions.append(item.native())
            continue
        flat, fits = _flatten(item)
        exact = exact and fits
        if flat is TRUE:
            if expr.kind == "or":
                return None, False
            continue
        if isinstance(flat, Leaf):
            conditions.append(flat.native())
        else:
            children.append({"conjunction": flat.kind, "conditions": [leaf.native() for leaf in flat.items]})
    if not conditions and not children:
        return None, False
    out: dict[str, Any] = {"conjunction": expr.kind, "conditions": conditions}
    if children:
        out["children"] = children
    return out, exact


def _flatten(group: All) -> tuple[Any, bool]:
    """A one-level superset of ``group`` (whose groups alternate kinds below it)."""
    leaves: list[Leaf] = []
    exact = True
    for item in group.items:
        if isinstance(item, Leaf):
            leaves.append(item)
            continue
        exact = False
        if group.kind == "and":
            continue  # fewer conditions in an AND: a superset
        # In an OR, an AND is widened to one of its conditions.
        first = next((i for i in item.items if isinstance(i, Leaf)), None)
        if first is None:
            return TRUE, False
        leaves.append(first)
    if not leaves:
        return TRUE, False
    return (leaves[0] if len(leaves) == 1 else All(group.kind, tuple(leaves))), exact


# ------------------------------------------------------------------------------ conditions


def _num(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


def _any(parts: list[Any]) -> Any:
    return parts[0] if len(parts) == 1 else All("or", tuple(parts))


def _every(parts: list[Any]) -> Any:
    return parts[0] if len(parts) == 1 else All("and", tuple(parts))


def _cond(cond: Cond) -> tuple[Any, bool]:
    field, op, value = cond.field, cond.op, cond.value
    name = field.name
    t = field.type
    empty = Leaf(name, "isEmpty")
    filled = Leaf(name, "isNotEmpty")
    if op == "is_empty":
        return (empty, True) if _emptiness_native(field) else (TRUE, False)
    if op == "is_not_empty":
        return (filled, True) if _emptiness_native(field) else (TRUE, False)
    if t in TEXT_TYPES:
        return _text(name, op, value)
    if t is FieldType.number:
        return _number(name, op, value)
    if t is FieldType.checkbox:
        checked = value if op == "eq" else not value
        return Leaf(name, "is", ("true" if checked else "false",)), True
    if t is FieldType.single_select:
        return _single(field, op, value)
    if t is FieldType.multi_select or t in USER_TYPES:
        return _set(name, op, value)
    if t in DATE_TYPES:
        return _date(name, op, value)
    return TRUE, False


def _emptiness_native(field: FieldInfo) -> bool:
    return field.type not in (FieldType.formula, FieldType.auto_number, FieldType.other)


def _text(name: str, op: str, value: Any) -> tuple[Any, bool]:
    empty = Leaf(name, "isEmpty")
    if op == "eq":
        return Leaf(name, "is", (value,)), True
    if op == "neq":
        return All("or", (Leaf(name, "isNot", (value,)), empty)), True
    if op == "contains":
        return Leaf(name, "contains", (value,)), True
    if op == "not_contains":
        return All("or", (Leaf(name, "doesNotContain", (value,)), empty)), True
    if op == "in":
        return _any([Leaf(name, "is", (v,)) for v in value]), True
    return TRUE, False  # gt..lte on text: the server


def _number(name: str, op: str, value: Any) -> tuple[Any, bool]:
    filled = Leaf(name, "isNotEmpty")
    order = {"gt": "isGreater", "gte": "isGreaterEqual", "lt": "isLess", "lte": "isLessEqual"}
    if op == "eq":
        return Leaf(name, "is", (_num(value),)), True
    if op == "neq":
        return All("or", (Leaf(name, "isNot", (_num(value),)), Leaf(name, "isEmpty"))), True
    if op in order:
        return All("and", (Leaf(name, order[op], (_num(value),)), filled)), True
    if op == "in":
        return _any([Leaf(name, "is", (_num(v),)) for v in value]), True
    return TRUE, False


def _single(field: FieldInfo, op: str, value: Any) -> tuple[Any, bool]:
    name = field.name
    empty = Leaf(name, "isEmpty")
    if op == "eq":
        return Leaf(name, "is", (value,)), True
    if op == "neq":
        return All("or", (Leaf(name, "isNot", (value,)), empty)), True
    if op == "in":
        return _any([Leaf(name, "is", (v,)) for v in value]), True
    if op in ("contains", "not_contains") and field.options is not None:
        needle = str(value).lower()
        hits = [o for o in field.options if needle in o.lower()]
        if op == "contains":
            return (_any([Leaf(name, "is", (o,)) for o in hits]), True) if hits else (TRUE, False)
        misses = [o for o in field.options if o not in hits]
        return _any([*(Leaf(name, "is", (o,)) for o in misses), empty]), True
    return TRUE, False


def _set(name: str, op: str, value: list[Any]) -> tuple[Any, bool]:
    """multi_select (option names) and users (ids): Feishu's contains = has that value."""
    if op == "contains":
        return _every([Leaf(name, "contains", (v,)) for v in value]), True
    if op == "not_contains":
        return _any([*(Leaf(name, "doesNotContain", (v,)) for v in value), Leaf(name, "isEmpty")]), True
    if op == "in":  # any of the items, each a list of values that must all be there
        return _any([_every([Leaf(name, "contains", (v,)) for v in item]) for item in value]), True
    if op == "eq":  # exactly this set: has all of them (the server checks nothing else is there)
        return _every([Leaf(name, "contains", (v,)) for v in value]), False
    return TRUE, False


def _day(ms: int) -> tuple[str, ...]:
    return ("ExactDate", str(ms))


def _date(name: str, op: str, value: Any) -> tuple[Any, bool]:
    """Day bounds widened by MARGIN_MS: Feishu compares days in the base's zone, not ours."""
    if op in ("neq", "in"):
        return TRUE, False
    whole = isinstance(value, DayRange)
    start, end = (value.start, value.end) if whole else (value, value)

    def after(ms: int) -> Leaf:  # every value >= ms passes
        return Leaf(name, "isGreater", _day(ms - MARGIN_MS))

    def before(ms: int) -> Leaf:  # every value <= ms passes
        return Leaf(name, "isLess", _day(ms + MARGIN_MS))

    if op == "eq":
        return All("and", (after(start), before(end))), False
    if op == "gt":
        return after(end), False
    if op == "gte":
        return after(start), False
    if op == "lt":
        return before(start), False
    if op == "lte":
        return before(end), False
    return TRUE, False
