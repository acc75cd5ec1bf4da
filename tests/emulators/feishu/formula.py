"""Feishu emulator: the formula filter of the deprecated records list (CurrentValue.[field] comparisons).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import FeishuError
from .render import RenderMixin
from .state import App, Field, Record, Table

if TYPE_CHECKING:
    from .emulator import FeishuEmulator
# ---------------------------------------------------------------------------------------------
# The deprecated list's formula filter (A.4 记录筛选开发指南): CurrentValue.[字段] comparisons,
# .contains(), AND/OR/NOT, && / ||, TODAY(), TODATE(), DATE(), YEAR/MONTH/DAY, WEEKDAY.


@dataclass(frozen=True)
class Day:
    """A calendar day (days since 1970-01-01 in the emulator's time zone)."""

    n: int


class FormulaFilter:
    TOKEN = re.compile(
        r"\s*(?:(?P<num>\d+(?:\.\d+)?)|\"(?P<str>(?:[^\"\\]|\\.)*)\"|CurrentValue\.\[(?P<field>[^\]]*)\]"
        r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||==|!=|<>|>=|<=|[=<>+\-(),.]))"
    )

    def __init__(self, emu: FeishuEmulator, app: App, table: Table, text: str) -> None:
        self.emu, self.app, self.table = emu, app, table
        self.index = table.by_name()
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise FeishuError(1254018)
            kind = m.lastgroup or ""
            raw = m.group(kind)
            if kind == "str":
                raw = raw.replace('\\"', '"')
            self.tokens.append((kind, raw))
            pos = m.end()
        self.i = 0

    def compile(self) -> Callable[[Record], bool]:
        node = self._or()
        if self.i != len(self.tokens):
            raise FeishuError(1254018)
        return lambda r: self._truthy(node(r))

    # -- parser
    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (value is not None and tok[1] != value):
            raise FeishuError(1254018)
        self.i += 1
        return tok

    def _or(self) -> Callable[[Record], Any]:
        left = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            a, b = left, self._and()
            left = lambda r, a=a, b=b: self._truthy(a(r)) or self._truthy(b(r))  # noqa: E731
        return left

    def _and(self) -> Callable[[Record], Any]:
        left = self._cmp()
        while self._peek() == ("op", "&&"):
            self._take()
            a, b = left, self._cmp()
            left = lambda r, a=a, b=b: self._truthy(a(r)) and self._truthy(b(r))  # noqa: E731
        return left

    def _cmp(self) -> Callable[[Record], Any]:
        left = self._add()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "==", "!=", "<>", ">", ">=", "<", "<="):
            self._take()
            right = self._add()
            op = tok[1]
            return lambda r: self._compare(op, left(r), right(r))
        return left

    def _add(self) -> Callable[[Record], Any]:
        left = self._unary()
        while (tok := self._peek()) and tok[0] == "op" and tok[1] in ("+", "-"):
            self._take()
            a, b, sign = left, self._unary(), 1 if tok[1] == "+" else -1
            left = lambda r, a=a, b=b, sign=sign: self._arith(a(r), b(r), sign)  # noqa: E731
        return left

    def _unary(self) -> Callable[[Record], Any]:
        if self._peek() == ("op", "-"):
            self._take()
            inner = self._unary()
            return lambda r: -inner(r)
        return self._postfix()

    def _postfix(self) -> Callable[[Record], Any]:
        node = self._primary()
        while self._peek() == ("op", "."):
            self._take()
            kind, name = self._take()
            if kind != "ident" or name.lower() != "contains":
                raise FeishuError(1254018)
            args = self._args()
            if len(args) != 1:
                raise FeishuError(1254018)
            base, arg = node, args[0]
            node = lambda r, base=base, arg=arg: self._contains(base(r), arg(r))  # noqa: E731
        return node

    def _args(self) -> list[Callable[[Record], Any]]:
        self._take("(")
        args = []
        if self._peek() != ("op", ")"):
            args.append(self._or())
            while self._peek() == ("op", ","):
                self._take()
                args.append(self._or())
        self._take(")")
        return args

    def _primary(self) -> Callable[[Record], Any]:
        tok = self._peek()
        if tok is None:
            raise FeishuError(1254018)
        kind, raw = self._take()
        if kind == "num":
            number = float(raw)
            return lambda r: number
        if kind == "str":
            return lambda r: raw
        if kind == "field":
            f = self.index.get(raw)
            if f is None:
                raise FeishuError(1254045)
            return lambda r: self._field_value(f, r)
        if kind == "op" and raw == "(":
            node = self._or()
            self._take(")")
            return node
        if kind == "ident":
            name = raw.upper()
            if name in ("TRUE", "FALSE") and self._peek() != ("op", "("):
                return lambda r: name == "TRUE"
            args = self._args()
            return self._function(name, args)
        raise FeishuError(1254018)

    def _function(self, name: str, args: list[Callable[[Record], Any]]) -> Callable[[Record], Any]:
        emu = self.emu
        epoch = dt.date(1970, 1, 1)

        def to_date(value: Any) -> dt.date:
            if not isinstance(value, Day):
                raise FeishuError(1254018)
            return epoch + dt.timedelta(days=value.n)

        if name == "AND":
            return lambda r: all(self._truthy(a(r)) for a in args)
        if name == "OR":
            return lambda r: any(self._truthy(a(r)) for a in args)
        if name == "NOT" and len(args) == 1:
            return lambda r: not self._truthy(args[0](r))
        if name in ("TRUE", "FALSE") and not args:
            return lambda r: name == "TRUE"
        if name == "TODAY" and not args:
            return lambda r: Day(emu._today())
        if name == "TODATE" and len(args) == 1:

            def todate(r: Record) -> Day:
                text = str(args[0](r))
                try:
                    parsed = dt.date.fromisoformat(text.replace("/", "-"))
                except ValueError:
                    y, m, d = (int(p) for p in re.split(r"[-/]", text))  # "2021-06-31" style
                    parsed = dt.date(y, m, 1) + dt.timedelta(days=d - 1)
                return Day((parsed - epoch).days)

            return todate
        if name == "DATE" and len(args) == 3:

            def make(r: Record) -> Day:
                y, m, d = (int(a(r)) for a in args)
                y += (m - 1) // 12
                m = (m - 1) % 12 + 1
                return Day((dt.date(y, m, 1) - epoch).days + d - 1)

            return make
        if name in ("YEAR", "MONTH", "DAY") and len(args) == 1:
            attr = {"YEAR": "year", "MONTH": "month", "DAY": "day"}[name]
            return lambda r: float(getattr(to_date(args[0](r)), attr))
        if name == "WEEKDAY" and len(args) in (1, 2):

            def weekday(r: Record) -> float:
                day = to_date(args[0](r))
                mode = int(args[1](r)) if len(args) == 2 else 1
                return float(day.isoweekday() if mode == 2 else day.isoweekday() % 7 + 1)

            return weekday
        raise FeishuError(1254018)

    # -- evaluation
    def _field_value(self, f: Field, r: Record) -> Any:
        emu, table = self.emu, self.table
        stored = emu._value(table, f, r)
        kind = emu._kind(f)
        if kind == "number":
            return stored
        if kind == "date":
            return None if stored is None else Day(emu._day(stored))
        if kind == "checkbox":
            return bool(stored)
        if kind in ("set", "attachment"):
            if not stored:
                return []
            return [p for p in emu._display(self.app, table, f, stored, r).split(",") if p]
        return "" if stored is None else emu._display(self.app, table, f, stored, r)

    @staticmethod
    def _truthy(value: Any) -> bool:
        if isinstance(value, list):
            return bool(value)
        return bool(value) and value != ""

    @staticmethod
    def _arith(a: Any, b: Any, sign: int) -> Any:
        if isinstance(a, Day) and isinstance(b, (int, float)):
            return Day(a.n + sign * int(b))
        if isinstance(a, Day) and isinstance(b, Day) and sign < 0:
            return float(a.n - b.n)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a + sign * b
        raise FeishuError(1254018)

    @staticmethod
    def _contains(base: Any, needle: Any) -> bool:
        needle = str(needle).lower() if not isinstance(needle, float) else RenderMixin._number_text(needle)
        if isinstance(base, list):
            return any(needle in str(x).lower() for x in base)
        if base is None:
            return False
        return needle in str(base).lower()

    @staticmethod
    def _compare(op: str, a: Any, b: Any) -> bool:
        if op in ("==",):
            op = "="
        if op == "<>":
            op = "!="
        if isinstance(a, list):
            hit = (
                (not a)
                if b == ""
                else str(b if not isinstance(b, float) else RenderMixin._number_text(b)) in a
            )
            return hit if op == "=" else (not hit if op == "!=" else False)
        if isinstance(a, bool) and isinstance(b, (int, float)) and not isinstance(b, bool):
            b = bool(b)
        if a is None or a == "":
            empty_b = b is None or b == ""
            if op == "=":
                return empty_b
            if op == "!=":
                return not empty_b
            return False
        if isinstance(a, Day) and isinstance(b, Day):
            a, b = a.n, b.n
        elif isinstance(a, (int, float)) and isinstance(b, str):
            try:
                b = float(b)
            except ValueError:
                return op == "!="
        elif isinstance(a, str) and isinstance(b, float):
            b = RenderMixin._number_text(b)
        if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return op == "!="
        try:
            return {
                "=": a == b,
                "!=": a != b,
                ">": a > b,
                ">=": a >= b,
                "<": a < b,
                "<=": a <= b,
            }[op]
        except TypeError:
            return False
