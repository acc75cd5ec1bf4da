"""A view's filter (A.20/A.21 ``property.filter_info``) to and from the ``where`` language.

A view filter is one level: ``{"conjunction": "and"|"or", "conditions": [{"field_id", "operator",
"value"}]}`` (at most 50 conditions, A.20), ``value`` a JSON string of a list (A.20's example:
``'["optbdVHf4q", "optrpd3eIJ"]'`` - select options by id). Feishu evaluates it, so only conditions
whose meaning carries over are accepted; anything else is refused with what would work (unlike a
query, nothing can be checked afterwards by the server):

- text, email, phone, url: eq neq contains not_contains; numbers: eq neq gt gte lt lte;
- checkbox: eq / neq (Feishu's view filter has ``is`` only);
- single_select: eq neq, in (any of the options); multi_select and user: eq neq (the exact set),
  contains / not_contains of one option or user;
- dates: whole days (``"2026-11-22"``), eq gt lt, gte / lte as the day before / after;
- every field: is_empty / is_not_empty.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import DATE_TYPES, TEXT_TYPES, USER_TYPES, FieldInfo, FieldType, TableSchema
from anytable.schemas.filters import Cond, DayRange, Group, Node
from anytable.schemas.values import day_range, from_epoch_ms

MAX_CONDITIONS = 50  # A.20: conditions 最大长度 50
OPERATORS = {
    "eq": "is",
    "neq": "isNot",
    "contains": "contains",
    "not_contains": "doesNotContain",
    "is_empty": "isEmpty",
    "is_not_empty": "isNotEmpty",
    "gt": "isGreater",
    "gte": "isGreaterEqual",
    "lt": "isLess",
    "lte": "isLessEqual",
}
BACK = {native: op for op, native in OPERATORS.items()}
EMPTY = {"is_empty", "is_not_empty"}
CLEAR: dict[str, Any] = {"conjunction": "and", "conditions": []}


def to_filter_info(node: Node | None, tz: tzinfo) -> dict[str, Any]:
    """The filter_info of a checked ``where`` (None: no filter)."""
    if node is None:
        return dict(CLEAR)
    conds = [node] if isinstance(node, Cond) else list(node.items)
    if any(isinstance(c, Group) for c in conds):
        raise InputError(
            'data.filter: a view filter is one level: a condition, or {"and": [conditions]} / {"or": '
            "[conditions]} without groups inside."
        )
    if len(conds) > MAX_CONDITIONS:
        raise InputError(f"data.filter has {len(conds)} conditions; a view takes at most {MAX_CONDITIONS}.")
    kind = node.kind if isinstance(node, Group) else "and"
    return {"conjunction": kind, "conditions": [_condition(c, tz) for c in conds if isinstance(c, Cond)]}


def _refuse(cond: Cond, what: str) -> InputError:
    return InputError(
        f"data.filter: {cond.op!r} on {cond.field.name!r} ({cond.field.type.value}) cannot be a view filter; "
        f"{what}."
    )


def _option_ids(field: FieldInfo, names: list[str]) -> list[str]:
    prop = field.extra.get("property")
    options = prop.get("options") if isinstance(prop, dict) else None
    ids = {o.get("name"): o.get("id") for o in options or [] if isinstance(o, dict)}
    return [str(ids[n]) for n in names if ids.get(n)]


def _condition(cond: Cond, tz: tzinfo) -> dict[str, Any]:
    field, op = cond.field, cond.op
    out: dict[str, Any] = {"field_id": field.id, "operator": OPERATORS.get(op, "is")}
    if op in EMPTY:
        return out
    values: list[Any]
    t = field.type
    if t in TEXT_TYPES or t is FieldType.url:
        if op not in ("eq", "neq", "contains", "not_contains"):
            raise _refuse(cond, "use eq, neq, contains or not_contains")
        values = [cond.value]
    elif t is FieldType.number:
        if op in ("contains", "not_contains", "in"):
            raise _refuse(cond, "use eq, neq, gt, gte, lt or lte")
        values = [str(cond.value)]
    elif t is FieldType.checkbox:
        out["operator"] = "is"
        values = ["true" if cond.value == (op == "eq") else "false"]
    elif t is FieldType.single_select:
        if op not in ("eq", "neq", "in"):
            raise _refuse(cond, "use eq, neq or in (any of a list of options)")
        names = cond.value if op == "in" else [cond.value]
        out["operator"] = "isNot" if op == "neq" else "is"
        values = _option_ids(field, names)
    elif t is FieldType.multi_select or t in USER_TYPES:
        items = cond.value if isinstance(cond.value, list) else [cond.value]
        if op in ("contains", "not_contains") and len(items) != 1:
            raise _refuse(cond, "give one option or user per contains, and combine them with and")
        if op not in ("eq", "neq", "contains", "not_contains"):
            raise _refuse(cond, "use eq, neq, contains or not_contains")
        values = _option_ids(field, items) if t is FieldType.multi_select else items
    elif t in DATE_TYPES:
        if not isinstance(cond.value, DayRange) or op not in ("eq", "gt", "gte", "lt", "lte"):
            raise _refuse(
                cond,
                "views compare whole days: give a date without time ('2026-11-22') with eq, gt, "
                "gte, lt or lte",
            )
        day = cond.value.start
        if op == "gte":
            op, day = "gt", day_range(day - 1, tz)[0]  # after the day before
        elif op == "lte":
            op, day = "lt", cond.value.end  # before the day after
        out["operator"] = OPERATORS[op]
        values = ["ExactDate", str(day)]
    else:
        raise _refuse(cond, "a view can test this field only with is_empty or is_not_empty")
    out["value"] = json.dumps(values, ensure_ascii=False)
    return out


def from_filter_info(info: Any, table: TableSchema, tz: tzinfo) -> dict[str, Any] | None:
    """A view's filter_info as ``where`` (conditions on fields since deleted are left out)."""
    if not isinstance(info, dict) or not info.get("conditions"):
        return None
    conds = []
    for raw in info["conditions"]:
        field = table.find_field(str(raw.get("field_id", ""))) if isinstance(raw, dict) else None
        if field is None:
            continue
        conds.append(_where(field, str(raw.get("operator", "")), _values(raw.get("value")), tz))
    if not conds:
        return None
    if len(conds) == 1:
        return conds[0]
    return {"or" if info.get("conjunction") == "or" else "and": conds}


def _values(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return [str(raw)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _where(field: FieldInfo, operator: str, values: list[str], tz: tzinfo) -> dict[str, Any]:
    op = BACK.get(operator, operator)
    out: dict[str, Any] = {"field": field.name, "op": op}
    if op in EMPTY:
        return out
    t = field.type
    value: Any = values
    if t in (FieldType.single_select, FieldType.multi_select):
        prop = field.extra.get("property")
        options = prop.get("options") if isinstance(prop, dict) else None
        names = {o.get("id"): o.get("name") for o in options or [] if isinstance(o, dict)}
        value = [names.get(v, v) for v in values]
        if t is FieldType.single_select:
            if len(value) > 1 and op == "eq":
                out["op"] = "in"
            else:
                value = value[0] if value else None
        elif op in ("contains", "not_contains") and len(value) == 1:
            value = value[0]
    elif t is FieldType.checkbox:
        value = bool(values) and values[0] == "true"
    elif t is FieldType.number and values:
        number = float(values[0])
        value = int(number) if number.is_integer() else number
    elif (
        t in DATE_TYPES and len(values) == 2 and values[0] == "ExactDate" and values[1].lstrip("-").isdigit()
    ):
        value = from_epoch_ms(int(values[1]), tz).date().isoformat()
    elif t in DATE_TYPES and len(values) == 1:
        value = values[0]  # Today, CurrentWeek...: Feishu's relative days
    elif len(values) == 1 and t not in USER_TYPES:
        value = values[0]
    out["value"] = value
    return out
