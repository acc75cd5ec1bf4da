"""Feishu emulator: the search filter and sort, compiled over stored records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .state import (
    ATTACHMENT,
    CHECKBOX,
    CREATED_TIME,
    CREATED_USER,
    DATE_OPS,
    DATETIME,
    DUPLEX_LINK,
    FILTER_OPERATORS,
    GROUP_CHAT,
    MODIFIED_TIME,
    MODIFIED_USER,
    MULTI_SELECT,
    NUMBER,
    NUMBER_OPS,
    SINGLE_LINK,
    SINGLE_SELECT,
    TEXT_OPS,
    USER,
    App,
    Field,
    Record,
    Table,
    View,
)

if TYPE_CHECKING:
    pass


class SearchMixin:
    """Feishu emulator: the search filter and sort, compiled over stored records (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ search filter / sort

    def _date_range(self, values: list[str]) -> tuple[int, int]:
        if not values or not isinstance(values[0], str):
            raise FeishuError(1254018)
        mode = values[0]
        today = self._today()
        weekday = (dt.date(1970, 1, 1) + dt.timedelta(days=today)).weekday()
        if mode == "ExactDate":
            if len(values) < 2:
                raise FeishuError(1254018)
            try:
                day = self._day(int(values[1]))
            except ValueError:
                raise FeishuError(1254018) from None
            return day, day
        if mode in ("CurrentMonth", "LastMonth"):
            date = dt.date(1970, 1, 1) + dt.timedelta(days=today)
            first = date.replace(day=1)
            if mode == "LastMonth":
                first = (first - dt.timedelta(days=1)).replace(day=1)
            nxt = (first + dt.timedelta(days=32)).replace(day=1)
            epoch = dt.date(1970, 1, 1)
            return (first - epoch).days, (nxt - epoch).days - 1
        ranges = {
            "Today": (today, today),
            "Tomorrow": (today + 1, today + 1),
            "Yesterday": (today - 1, today - 1),
            "CurrentWeek": (today - weekday, today - weekday + 6),
            "LastWeek": (today - weekday - 7, today - weekday - 1),
            "TheLastWeek": (today - 6, today),
            "TheNextWeek": (today, today + 6),
            "TheLastMonth": (today - 29, today),
            "TheNextMonth": (today, today + 29),
        }
        if mode not in ranges:
            raise FeishuError(1254018)
        return ranges[mode]

    def _kind(self, f: Field) -> str:
        t = f.type
        if t == NUMBER:
            return "number"
        if t in (DATETIME, CREATED_TIME, MODIFIED_TIME):
            return "date"
        if t == CHECKBOX:
            return "checkbox"
        if t == SINGLE_SELECT:
            return "select"
        if t in (MULTI_SELECT, USER, CREATED_USER, MODIFIED_USER, SINGLE_LINK, DUPLEX_LINK, GROUP_CHAT):
            return "set"
        if t == ATTACHMENT:
            return "attachment"
        return "text"

    def _compile_condition(
        self, f: Field, op: Any, values: Any, id_type: str, app: App | None = None, table: Table | None = None
    ) -> Callable[[Record], bool]:
        if op not in FILTER_OPERATORS:  # includes like / in: "暂未支持"
            raise FeishuError(1254018)
        if values is None:
            values = []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise FeishuError(1254018)
        kind = self._kind(f)
        allowed = {
            "number": NUMBER_OPS,
            "date": DATE_OPS,
            "checkbox": {"is"},
            "attachment": {"isEmpty", "isNotEmpty"},
        }.get(kind, TEXT_OPS)
        if op not in allowed:
            raise FeishuError(1254018)
        value = self._value
        if op in ("isEmpty", "isNotEmpty"):
            want_empty = op == "isEmpty"

            def empty(r: Record) -> bool:
                return (value(table, f, r) in (None, "", [])) == want_empty  # type: ignore[arg-type]

            return empty
        if not values:
            raise FeishuError(1254018)
        if kind == "number":
            try:
                x = float(values[0])
            except ValueError:
                raise FeishuError(1254018) from None
            compare: dict[str, Callable[[float], bool]] = {
                "is": lambda n: n == x,
                "isGreater": lambda n: n > x,
                "isGreaterEqual": lambda n: n >= x,
                "isLess": lambda n: n < x,
                "isLessEqual": lambda n: n <= x,
            }
            if op == "isNot":
                return lambda r: value(table, f, r) != x  # type: ignore[arg-type]
            test = compare[op]
            return lambda r: (n := value(table, f, r)) is not None and test(n)  # type: ignore[arg-type]
        if kind == "date":
            start, end = self._date_range(values)
            day = self._day

            def date_test(r: Record) -> bool:
                ms = value(table, f, r)  # type: ignore[arg-type]
                if ms is None:
                    return False
                d = day(ms)
                if op == "is":
                    return start <= d <= end
                return d > end if op == "isGreater" else d < start

            return date_test
        if kind == "checkbox":
            if values[0] not in ("true", "false"):
                raise FeishuError(1254018)
            want = values[0] == "true"
            return lambda r: bool(value(table, f, r)) == want  # type: ignore[arg-type]
        if kind == "select":
            wanted = set(values)

            def select_test(r: Record) -> bool:
                stored = value(table, f, r)  # type: ignore[arg-type]
                hit = stored is not None and self._option_name(f, stored) in wanted
                return hit if op in ("is", "contains") else not hit

            return select_test
        if kind == "set":
            wanted = set(values)

            def members(r: Record) -> set[str]:
                stored = value(table, f, r)  # type: ignore[arg-type]
                if not stored:
                    return set()
                if f.type == MULTI_SELECT:
                    return {self._option_name(f, o) or "" for o in stored}
                if f.type in (USER, CREATED_USER, MODIFIED_USER):
                    return {self._user_json(u, id_type)["id"] for u in stored}
                return set(stored)

            if op == "is":
                return lambda r: members(r) == wanted
            if op == "isNot":
                return lambda r: members(r) != wanted
            if op == "contains":
                return lambda r: bool(members(r) & wanted)
            return lambda r: not members(r) & wanted
        lowered = [v.lower() for v in values]

        def text_test(r: Record) -> bool:
            stored = value(table, f, r)  # type: ignore[arg-type]
            text = self._display(app, table, f, stored, r) if stored is not None else ""  # type: ignore[arg-type]
            if op == "is":
                return text == values[0]
            if op == "isNot":
                return text != values[0]
            hit = any(v in text.lower() for v in lowered)
            return hit if op == "contains" else not hit

        return text_test

    def _compile_filter(
        self, app: App, table: Table, filt: Any, id_type: str, depth: int = 0
    ) -> Callable[[Record], bool] | None:
        if filt is None:
            return None
        if not isinstance(filt, dict):
            raise FeishuError(1254018)
        conditions = filt.get("conditions") or []
        children = filt.get("children") or []
        if not isinstance(conditions, list) or not isinstance(children, list):
            raise FeishuError(1254018)
        if depth > 0 and children:
            raise FeishuError(1254018)
        if not conditions and not children:
            return None
        conjunction = filt.get("conjunction")
        if conjunction not in ("and", "or"):
            raise FeishuError(1254018)
        index = table.by_name()
        parts: list[Callable[[Record], bool]] = []
        for cond in conditions:
            if not isinstance(cond, dict) or not isinstance(cond.get("field_name"), str):
                raise FeishuError(1254018)
            f = index.get(cond["field_name"])
            if f is None:
                raise FeishuError(1254045)
            parts.append(
                self._compile_condition(f, cond.get("operator"), cond.get("value"), id_type, app, table)
            )
        for child in children:
            compiled = self._compile_filter(app, table, child, id_type, depth + 1)
            if compiled is None:
                if not isinstance(child, dict):
                    raise FeishuError(1254018)
                continue
            parts.append(compiled)
        if conjunction == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)

    def _compile_view_filter(self, app: App, table: Table, view: View) -> Callable[[Record], bool] | None:
        info = view.filter_info
        if not info or not info.get("conditions"):
            return None
        parts = []
        for cond in info["conditions"]:
            f = table.fields.get(cond["field_id"])
            if f is None:
                continue
            try:
                values = self._view_option_names(f, cond["operator"], self._view_values(cond.get("value")))
            except FeishuError:
                continue  # an option deleted since: the condition no longer applies
            parts.append(self._compile_condition(f, cond["operator"], values, "open_id", app, table))
        if info.get("conjunction") == "or":
            return lambda r: any(p(r) for p in parts)
        return lambda r: all(p(r) for p in parts)

    def _sort_key(self, app: App, table: Table, f: Field) -> Callable[[Record], Any]:
        kind = self._kind(f)
        if kind in ("number", "date"):
            return lambda r: self._value(table, f, r)
        if kind == "checkbox":
            return lambda r: bool(self._value(table, f, r))
        if f.type in (SINGLE_SELECT, MULTI_SELECT):
            order = {o["id"]: i for i, o in enumerate((f.property or {}).get("options", []))}

            def option_key(r: Record) -> Any:
                stored = self._value(table, f, r)
                if stored is None:
                    return None
                first = stored if f.type == SINGLE_SELECT else stored[0]
                return order.get(first, len(order))

            return option_key

        def text_key(r: Record) -> Any:
            stored = self._value(table, f, r)
            return None if stored is None else self._display(app, table, f, stored, r)

        return text_key

    def _stamp(self, app: App) -> list[int]:
        """What a cached query result depends on besides its own table: the day (relative dates) and
        every table of the app (link texts)."""
        return [self._today(), *(t.version for t in app.tables.values())]

    def _query(
        self,
        app: App,
        table: Table,
        cache_key: str,
        predicate: Callable[[Record], bool] | None,
        sort: list[tuple[Field, bool]],
    ) -> list[str]:
        """Matching record ids in order; cached per table version (paging re-runs the same query)."""
        if table.cache_version != table.version:
            table.query_cache = {}
            table.cache_version = table.version
        cached = table.query_cache.get(cache_key)
        if cached is not None:
            return cached
        records = [r for r in table.records.values() if predicate is None or predicate(r)]
        for f, desc in reversed(sort):
            key = self._sort_key(app, table, f)
            present = [(key(r), r) for r in records]
            full = [(k, r) for k, r in present if k is not None]
            empty = [r for k, r in present if k is None]
            full.sort(key=lambda kr: kr[0], reverse=desc)
            records = [r for _, r in full] + empty
        ids = [r.record_id for r in records]
        if len(table.query_cache) > 64:
            table.query_cache.clear()
        table.query_cache[cache_key] = ids
        return ids
