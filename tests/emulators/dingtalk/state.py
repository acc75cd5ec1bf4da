"""DingTalk emulator: field types, operators and limits, the stored state (bases, sheets, fields, records, users), seeding and inspection."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    pass

API_PREFIX = "/v1.0/notable/bases/{baseId}"
SHEETS = API_PREFIX + "/sheets"
SHEET = SHEETS + "/{sheetIdOrName}"
FIELDS = SHEET + "/fields"
FIELD = FIELDS + "/{fieldIdOrName}"
RECORDS = SHEET + "/records"

READ_SCOPE = "Notable.Base.Read.All"
WRITE_SCOPE = "Notable.Base.Write.All"

FIELD_TYPES = (
    "text",
    "number",
    "singleSelect",
    "multipleSelect",
    "date",
    "user",
    "department",
    "attachment",
    "unidirectionalLink",
    "bidirectionalLink",
    "url",
    "checkbox",  # [INF] undocumented in v1.0
)
LINK_TYPES = ("unidirectionalLink", "bidirectionalLink")
NUMBER_FORMATTERS = (
    "INT",
    "FLOAT_1",
    "FLOAT_2",
    "FLOAT_3",
    "FLOAT_4",
    "THOUSAND",
    "THOUSAND_FLOAT",
    "PRESENT",
    "PRESENT_FLOAT",
    "CNY",
    "CNY_FLOAT",
    "HKD",
    "HKD_FLOAT",
    "USD",
    "USD_FLOAT",
    "EUR",
    "EUR_FLOAT",
    "JPY",
    "JPY_FLOAT",
)
DATE_FORMATTERS = ("YYYY-MM-DD", "YYYY-MM-DD HH:mm", "YYYY-MM-DD HH:mm:ss", "YYYY/MM/DD", "YYYY/MM/DD HH:mm")

OPERATORS = (
    "equal",
    "notEqual",
    "greater",
    "greaterEqual",
    "less",
    "lessEqual",
    "contain",
    "notContain",
    "empty",
    "notEmpty",
)
_EQ_CONTAIN = frozenset({"equal", "notEqual", "contain", "notContain", "empty", "notEmpty"})
OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    "text": _EQ_CONTAIN,
    "number": frozenset(
        {"equal", "notEqual", "greater", "greaterEqual", "less", "lessEqual", "empty", "notEmpty"}
    ),
    "singleSelect": _EQ_CONTAIN,
    "multipleSelect": _EQ_CONTAIN,
    "date": frozenset({"equal", "greater", "less", "empty", "notEmpty"}),
    "user": _EQ_CONTAIN,
    "department": _EQ_CONTAIN,
    "checkbox": frozenset({"equal", "notEqual", "empty", "notEmpty"}),  # [INF]
}
EMPTY_ONLY = frozenset({"empty", "notEmpty"})  # url, links, attachment [INF]

MAX_PAGE = 100
MAX_FIELD_NAMES = 100
DEFAULT_PRIMARY_NAME = "标题"

NUMERIC_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
DATE_SLASH_RE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(.*)")


ALNUM = string.ascii_letters + string.digits


@dataclass
class User:
    user_id: str
    union_id: str
    name: str
    unionid_empty: bool = False


@dataclass
class Field:
    id: str
    name: str
    type: str
    property: dict[str, Any] | None  # as rendered (None: no property key)

    def choice_by_name(self, name: str) -> dict[str, str] | None:
        for choice in (self.property or {}).get("choices", []):
            if choice["name"] == name:
                return choice
        return None

    def choice_ids(self) -> dict[str, str]:
        return {c["id"]: c["name"] for c in (self.property or {}).get("choices", [])}

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.property is not None:
            out["property"] = json.loads(json.dumps(self.property))
        return out


@dataclass
class Record:
    id: str
    seq: int
    values: dict[str, Any]  # field id -> stored native value (never empty)
    created_time: int
    created_by: str
    modified_time: int
    modified_by: str
    deleted: bool = False


@dataclass
class Sheet:
    id: str
    name: str
    fields: dict[str, Field] = field(default_factory=dict)  # id -> Field, in column order
    records: dict[str, Record] = field(default_factory=dict)  # id -> Record, insertion order
    order: list[Record] = field(default_factory=list)  # append-only (by seq), compacted lazily
    dead: int = 0

    def field_by(self, id_or_name: str) -> Field | None:
        f = self.fields.get(id_or_name)
        if f is not None:
            return f
        for f in self.fields.values():
            if f.name == id_or_name:
                return f
        return None

    def field_named(self, name: str) -> Field | None:
        for f in self.fields.values():
            if f.name == name:
                return f
        return None

    def primary(self) -> Field | None:
        return next(iter(self.fields.values()), None)


@dataclass
class Base:
    id: str
    name: str
    members: set[str] | None  # unionIds; None: every known user
    sheets: dict[str, Sheet] = field(default_factory=dict)
    client_tokens: dict[str, list[str]] = field(default_factory=dict)  # clientToken -> record ids
    state: Literal["ok", "initializing", "broken"] = "ok"
    used_ids: set[str] = field(default_factory=set)

    def sheet_by(self, id_or_name: str) -> Sheet | None:
        s = self.sheets.get(id_or_name)
        if s is not None:
            return s
        for s in self.sheets.values():
            if s.name == id_or_name:
                return s
        return None


@dataclass
class Token:
    app_key: str
    expires_at: float


class SeedingMixin:
    """DingTalk emulator: field types, operators and limits, the stored state (bases, sheets, fields, records, users), seeding and inspection (a part of :class:`DingTalkEmulator`)."""

    # ------------------------------------------------------------------ seeding / inspection helpers

    def add_app(self, app_key: str, app_secret: str) -> None:
        self.apps[app_key] = app_secret

    def add_user(self, user_id: str, union_id: str, name: str = "", *, unionid_empty: bool = False) -> None:
        """A user of the org: ``user_id`` (legacy userId) and ``union_id`` (what operatorId takes)."""
        user = User(user_id, union_id, name or user_id, unionid_empty)
        self.users[user_id] = user
        self.users_by_union[union_id] = user

    def add_base(self, base_id: str, name: str = "AI Table", members: Iterable[str] | None = None) -> Base:
        """An AI table (base) with no sheets. ``members``: unionIds that may use it (None: every user)."""
        base = Base(base_id, name, set(members) if members is not None else None)
        self.bases[base_id] = base
        return base

    def set_members(self, base_id: str, members: Iterable[str] | None) -> None:
        self.bases[base_id].members = set(members) if members is not None else None

    def set_base_state(self, base_id: str, state: Literal["ok", "initializing", "broken"]) -> None:
        self.bases[base_id].state = state

    def add_sheet(self, base_id: str, name: str, fields: list[dict[str, Any]] | None = None) -> str:
        """Create a sheet as the API would (same validation; ApiError if invalid); returns its id."""
        return self._do_create_sheet(self.bases[base_id], {"name": name, "fields": fields}).id

    def add_records(
        self, base_id: str, sheet: str, records: list[dict[str, Any]], operator: str | None = None
    ) -> list[str]:
        """Insert ``[{field name: write value}]`` as the API would (no batch cap); returns record ids."""
        base = self.bases[base_id]
        s = self._sheet(base, sheet)
        op = operator or next(iter(sorted(base.members or self.users_by_union)), "")
        prepared = [self._prepare_fields(base, s, fields, for_insert=True) for fields in records]
        return [self._insert(base, s, changes, op).id for changes in prepared]

    def sheet_id(self, base_id: str, name: str) -> str:
        return self._sheet(self.bases[base_id], name).id

    def fields(self, base_id: str, sheet: str) -> list[dict[str, Any]]:
        """The fields as the list-fields API renders them."""
        return [f.render() for f in self._sheet(self.bases[base_id], sheet).fields.values()]

    def records(self, base_id: str, sheet: str) -> list[dict[str, Any]]:
        """The stored records of a sheet, in insertion order, rendered exactly as the API returns them."""
        base = self.bases[base_id]
        s = self._sheet(base, sheet)
        return [self._render_record(base, s, rec, None) for rec in s.records.values()]

    def issue_token(self, app_key: str | None = None) -> str:
        """A valid v1.0 accessToken without HTTP (as ``POST /v1.0/oauth2/accessToken`` would give)."""
        return self._issue(self.tokens, app_key or self.app_key)
