"""The filter language (``where``) and ``sort``: parsing, checking against a table, normal form.

A caller writes::

    {"field": "Status", "op": "eq", "value": "Done"}
    {"and": [cond, {"or": [cond, cond]}]}

``parse_where`` checks it against the table schema and returns a tree of :class:`Cond` and
:class:`Group` whose values are already canonical (dates as epoch ms or day ranges, select option
names checked, users and links as id lists). Providers compile that tree to their own filter;
``anytable.providers.evaluate`` evaluates it in the server for what they cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from anytable.errors import InputError
from anytable.schemas.fields import DATE_TYPES, TEXT_TYPES, USER_TYPES, FieldInfo, FieldType, TableSchema
from anytable.schemas.values import (
    MAX_VALUE_CHARS,
    DateOutOfRange,
    _coerce_number,
    day_range,
    parse_date,
    short,
)

MAX_IN_VALUES = 1000  # values of one 'in' list

Op = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "is_empty", "is_not_empty", "in"
]
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
MAX_DEPTH = 8
MAX_CONDITIONS = 200

_ORDER = ("gt", "gte", "lt", "lte")
_EMPTY = ("is_empty", "is_not_empty")
_TEXTUAL = ("eq", "neq", "contains", "not_contains", *_EMPTY, "in")
_SETS = ("eq", "neq", "contains", "not_contains", *_EMPTY, "in")
_ALL = (*_TEXTUAL, *_ORDER)

SUPPORTED_OPS: dict[FieldType, tuple[str, ...]] = {
    FieldType.text: _ALL,
    FieldType.email: _ALL,
    FieldType.phone: _ALL,
    FieldType.number: ("eq", "neq", *_ORDER, *_EMPTY, "in"),
    FieldType.auto_number: ("eq", "neq", *_ORDER, *_EMPTY, "in"),
    FieldType.date: ("eq", "neq", *_ORDER, *_EMPTY, "in"),
    FieldType.created_time: ("eq", "neq", *_ORDER, *_EMPTY, "in"),
    FieldType.modified_time: ("eq", "neq", *_ORDER, *_EMPTY, "in"),
    FieldType.checkbox: ("eq", "neq"),
    FieldType.single_select: _TEXTUAL,
    FieldType.multi_select: _SETS,
    FieldType.user: _SETS,
    FieldType.created_by: _SETS,
    FieldType.modified_by: _SETS,
    FieldType.link: _SETS,
    FieldType.url: _TEXTUAL,
    FieldType.attachment: ("contains", "not_contains", *_EMPTY),
    FieldType.formula: _ALL,
    FieldType.location: ("contains", "not_contains", *_EMPTY),
    FieldType.other: ("contains", "not_contains", *_EMPTY),
}

# JSON schema of ``where`` as tools publish it: short, because every byte costs the agent context.
# The language itself is in the server instructions, once.
WHERE_SCHEMA: dict[str, Any] = {"type": "object"}
SORT_SCHEMA: dict[str, Any] = {"type": "array"}  # [{"field","desc"}], as the server instructions say


@dataclass(frozen=True)
class DayRange:
    """A whole calendar day in ANYTABLE_TIMEZONE: [start, end) epoch milliseconds."""

    start: int
    end: int


@dataclass(frozen=True)
class Cond:
    field: FieldInfo
    op: str
    value: Any  # canonical: see the module docstring; a list for "in"
    raw: Any  # the value as the caller wrote it (some providers take it as is)


@dataclass(frozen=True)
class Group:
    kind: Literal["and", "or"]
    items: tuple[Node, ...]


Node = Cond | Group


@dataclass(frozen=True)
class SortKey:
    field: FieldInfo
    desc: bool = False


def parse_where(where: Any, table: TableSchema, tz: tzinfo) -> Node | None:
    """The checked, canonical form of ``where`` (None: no filter). Raises InputError."""
    if where is None or where == {}:
        return None
    counter = [0]
    return _parse_node(where, table, tz, depth=0, path="where", counter=counter)


def _parse_node(raw: Any, table: TableSchema, tz: tzinfo, depth: int, path: str, counter: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise InputError(f"{path}: filters nest at most {MAX_DEPTH} levels deep.")
    if not isinstance(raw, dict):
        raise InputError(
            f'{path} must be an object: {{"field": "Status", "op": "eq", "value": "Done"}} '
            f'or {{"and": [...]}} / {{"or": [...]}}; got {short(raw)}.'
        )
    keys = set(raw)
    for kind in ("and", "or"):
        if kind in keys:
            if keys != {kind}:
                raise InputError(
                    f'{path}: an "{kind}" group takes only the key "{kind}"; got {sorted(keys)}.'
                )
            items = raw[kind]
            if not isinstance(items, list) or not items:
                raise InputError(f"{path}.{kind} must be a non-empty list of conditions.")
            nodes = tuple(
                _parse_node(item, table, tz, depth + 1, f"{path}.{kind}[{i}]", counter)
                for i, item in enumerate(items)
            )
            return nodes[0] if len(nodes) == 1 else Group(kind, nodes)
    if "field" not in keys or "op" not in keys:
        raise InputError(
            f'{path} must have "field" and "op" (and "value"), or be an "and"/"or" group; got keys '
            f"{sorted(keys)}."
        )
    unknown = keys - {"field", "op", "value"}
    if unknown:
        raise InputError(f"{path}: unknown keys {sorted(unknown)}; a condition has field, op and value.")
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise InputError(f"where has more than {MAX_CONDITIONS} conditions; simplify it.")
    return parse_condition(raw["field"], raw["op"], raw.get("value"), "value" in keys, table, tz, path)


def parse_condition(
    field_key: Any, op: Any, value: Any, has_value: bool, table: TableSchema, tz: tzinfo, path: str = "where"
) -> Cond:
    if not isinstance(field_key, str):
        raise InputError(f"{path}.field must be a field name or id; got {short(field_key)}.")
    field = table.find_field(field_key)
    if field is None:
        names = ", ".join(repr(f.name) for f in table.fields[:40])
        raise InputError(f"{path}: no field {field_key!r} in table {table.name!r}; fields are {names}.")
    if op not in OPS:
        raise InputError(f"{path}.op {short(op)} is not an operator; use one of {', '.join(OPS)}.")
    allowed = SUPPORTED_OPS.get(field.type, ())
    if op not in allowed:
        raise InputError(
            f"{path}: op {op!r} does not apply to field {field.name!r} ({field.type.value}); "
            f"use one of {', '.join(allowed)}."
        )
    if op in _EMPTY:
        return Cond(field, op, None, None)
    if not has_value or value is None:
        raise InputError(
            f"{path}: op {op!r} on {field.name!r} needs a value (to test emptiness use is_empty)."
        )
    if op == "in":
        if not isinstance(value, list) or not value:
            raise InputError(f"{path}: op 'in' takes a non-empty list of values; got {short(value)}.")
        if len(value) > MAX_IN_VALUES:
            raise InputError(
                f"{path}: op 'in' takes at most {MAX_IN_VALUES:,} values; got {len(value):,}. Split the query "
                "into several, or filter on another field."
            )
        items = [_canonical(field, "eq", v, tz, path) for v in value]
        return Cond(field, op, items, value)
    return Cond(field, op, _canonical(field, op, value, tz, path), value)


def _canonical(field: FieldInfo, op: str, value: Any, tz: tzinfo, path: str) -> Any:
    t = field.type
    where = f"{path}: value {short(value)} for {field.name!r} ({t.value})"
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise InputError(f"{path}: a filter value over {MAX_VALUE_CHARS:,} characters is not allowed.")
    if t in DATE_TYPES:
        try:
            ms, has_time = parse_date(value, tz)
        except DateOutOfRange as exc:
            raise InputError(f"{where} is {exc}.") from None
        except (ValueError, OverflowError):
            raise InputError(
                f"{where} is not a date: use '2026-11-22' (whole day), '2026-11-22T09:30:00+08:00' or epoch ms."
            ) from None
        return ms if has_time else DayRange(*day_range(ms, tz))
    if t in (FieldType.number,) or (t is FieldType.auto_number and not isinstance(value, str)):
        try:
            return _coerce_number(field, value)
        except InputError:
            raise InputError(f"{where} is not a number.") from None
    if t is FieldType.checkbox:
        if not isinstance(value, bool):
            raise InputError(f"{where}: use true or false.")
        return value
    if t is FieldType.single_select and op in ("eq", "neq"):
        if not isinstance(value, str):
            raise InputError(f"{where}: use an option name.")
        _check_filter_option(field, value, path)
        return value
    if t is FieldType.multi_select:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise InputError(f"{where}: use an option name or a list of option names.")
        if not items:
            raise InputError(f"{where}: use at least one option name.")
        for item in items:
            _check_filter_option(field, item, path)
        return list(dict.fromkeys(items))
    if t in USER_TYPES or t is FieldType.link:
        items = value if isinstance(value, list) else [value]
        ids: list[str] = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                item = item["id"]
            if not isinstance(item, str) or not item:
                raise InputError(f"{where}: use an id string or a list of ids.")
            ids.append(item)
        if not ids:
            raise InputError(f"{where}: use at least one id.")
        return list(dict.fromkeys(ids))
    if t in TEXT_TYPES or t in (FieldType.single_select, FieldType.url, FieldType.auto_number):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InputError(f"{where}: use a string.")
        if op in ("eq", "neq") and value == "":
            raise InputError(f"{path}: to match an empty {field.name!r} use op 'is_empty'.")
        return value if isinstance(value, str) else str(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"{where}: use a string or a number.")
    return value


def _check_filter_option(field: FieldInfo, name: str, path: str) -> None:
    options = field.options
    if options is not None and name not in options:
        shown = ", ".join(repr(o) for o in options[:25])
        raise InputError(f"{path}: {field.name!r} has no option {name!r}; options are {shown or '(none)'}.")


def parse_sort(sort: Any, table: TableSchema) -> list[SortKey]:
    if sort is None:
        return []
    if isinstance(sort, dict):
        sort = [sort]
    if not isinstance(sort, list):
        raise InputError('sort must be a list like [{"field": "Due", "desc": true}].')
    keys: list[SortKey] = []
    for i, item in enumerate(sort):
        if isinstance(item, str):
            item = {"field": item}
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise InputError(f'sort[{i}] must be {{"field": "<name>", "desc": false}}; got {short(item)}.')
        unknown = set(item) - {"field", "desc"}
        if unknown:
            raise InputError(f"sort[{i}]: unknown keys {sorted(unknown)}; use field and desc.")
        field = table.find_field(item["field"])
        if field is None:
            names = ", ".join(repr(f.name) for f in table.fields[:40])
            raise InputError(
                f"sort[{i}]: no field {item['field']!r} in table {table.name!r}; fields are {names}."
            )
        if field.type is FieldType.attachment:
            raise InputError(f"sort[{i}]: attachment field {field.name!r} cannot be sorted on.")
        desc = item.get("desc", False)
        if not isinstance(desc, bool):
            raise InputError(f"sort[{i}].desc must be true or false.")
        keys.append(SortKey(field, desc))
    return keys


def fields_of(node: Node | None) -> set[str]:
    """Names of the fields a filter reads."""
    if node is None:
        return set()
    if isinstance(node, Cond):
        return {node.field.name}
    out: set[str] = set()
    for item in node.items:
        out |= fields_of(item)
    return out
