"""DingTalk emulator: the records/list filter, compiled over stored records."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import _invalid
from .state import EMPTY_ONLY, LINK_TYPES, OPERATORS, OPERATORS_BY_TYPE, Base, Record, Sheet

if TYPE_CHECKING:
    pass


def _compare(op: str, targets: list[Any]) -> Any:
    first = targets[0]
    if op == "equal":
        return lambda v: v in targets
    if op == "notEqual":
        return lambda v: v in targets  # negated by the caller
    if op == "greater":
        return lambda v: v > first
    if op == "greaterEqual":
        return lambda v: v >= first
    if op == "less":
        return lambda v: v < first
    return lambda v: v <= first  # lessEqual


def _set_test(op: str, wanted: set[str]) -> Any:
    if op in ("equal", "notEqual"):
        return lambda v: set(v) == wanted
    return lambda v: bool(set(v) & wanted)  # contain / notContain (negated by the caller)


class SearchMixin:
    """DingTalk emulator: the records/list filter, compiled over stored records (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ filters

    def _compile_filter(self, base: Base, sheet: Sheet, flt: Any) -> Any:
        if flt is None:
            return None
        if not isinstance(flt, dict):
            raise _invalid("filter must be an object")
        combination = flt.get("combination", "and")
        if combination is None:
            combination = "and"
        if combination not in ("and", "or"):
            raise _invalid(f"filter.combination must be 'and' or 'or', got '{combination}'")
        conditions = flt.get("conditions")
        if not isinstance(conditions, list):
            raise _invalid("filter.conditions is required and must be an array")
        tests = [self._compile_condition(base, sheet, c) for c in conditions]
        if not tests:
            return None
        if combination == "and":
            return lambda rec: all(t(rec) for t in tests)
        return lambda rec: any(t(rec) for t in tests)

    def _compile_condition(self, base: Base, sheet: Sheet, cond: Any) -> Any:
        if not isinstance(cond, dict):
            raise _invalid("each filter condition must be an object")
        name, op = cond.get("field"), cond.get("operator")
        if not isinstance(name, str) or not name:
            raise _invalid("filter condition needs a field")
        f = self._field(sheet, name)
        if op not in OPERATORS:
            raise _invalid(f"unknown filter operator '{op}'")
        allowed = OPERATORS_BY_TYPE.get(f.type, EMPTY_ONLY)
        if op not in allowed:
            raise _invalid(f"operator '{op}' is not supported for field '{f.name}' of type '{f.type}'")
        fid = f.id

        def present(rec: Record) -> Any:
            stored = rec.values.get(fid)
            if stored is None:
                return None
            if f.type in LINK_TYPES:
                return self._live_links(base, f, stored) or None
            if f.type == "singleSelect":
                return stored if stored in f.choice_ids() else None
            if f.type == "multipleSelect":
                ids = f.choice_ids()
                return [c for c in stored if c in ids] or None
            return stored

        if op == "empty":
            return lambda rec: present(rec) is None
        if op == "notEmpty":
            return lambda rec: present(rec) is not None

        values = cond.get("value")
        if not isinstance(values, list) or not values:
            raise _invalid(f"filter condition on '{f.name}' needs value as a non-empty array")
        bad = _invalid(
            f"filter value {json.dumps(values, ensure_ascii=False)} is invalid for field '{f.name}'"
        )
        negative = op in ("notEqual", "notContain")

        def make(test: Any) -> Any:
            if negative:
                return lambda rec: (v := present(rec)) is None or not test(v)
            return lambda rec: (v := present(rec)) is not None and test(v)

        t = f.type
        if t == "text":
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
                raise bad
            strs = [str(v) for v in values]
            if op in ("equal", "notEqual"):
                return make(lambda v: v in strs)
            lowered = [s.lower() for s in strs]
            return make(lambda v: any(s in v.lower() for s in lowered))
        if t == "number":
            nums = [self._parse_number(v) for v in values]
            if any(n is None for n in nums):
                raise bad
            return make(_compare(op, nums))
        if t == "date":
            stamps = [self._parse_date(v) for v in values]
            if any(s is None for s in stamps):
                raise bad
            return make(_compare(op, stamps))
        if t == "checkbox":
            if not all(isinstance(v, bool) for v in values):
                raise bad
            want = values[0]
            if op == "equal":
                return (lambda rec: present(rec) is True) if want else (lambda rec: present(rec) is None)
            return (lambda rec: present(rec) is None) if want else (lambda rec: present(rec) is True)
        if t in ("singleSelect", "multipleSelect"):
            if not all(isinstance(v, str) for v in values):
                raise bad
            ids = f.choice_ids()
            wanted: set[str] = set()
            for v in values:
                if v in ids:
                    wanted.add(v)
                else:
                    choice = f.choice_by_name(v)
                    wanted.add(choice["id"] if choice else f"\0{v}")  # unknown: matches nothing
            if t == "singleSelect":
                return make(lambda v: v in wanted)
            return make(_set_test(op, wanted))
        if t in ("user", "department"):
            key = "unionId" if t == "user" else "deptId"
            if not all(isinstance(v, dict) and v.get(key) not in (None, "") for v in values):
                raise bad
            wanted_ids = {str(v[key]) for v in values}
            test = _set_test(op, wanted_ids)
            return make(lambda v: test([str(x) for x in v]))
        raise bad  # pragma: no cover (EMPTY_ONLY types returned above)
