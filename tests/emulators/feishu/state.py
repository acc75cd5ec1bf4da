"""Feishu emulator: field types and limits, the stored state (apps, tables, fields, views, records, users), seeding and inspection.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import copy
import json
import re
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
PREFIX = "/open-apis/bitable/v1/apps/{app_token}"

# ---------------------------------------------------------------------------------------------
# Field types (ref A.3 / A.5, docs/provider-api-notes.md §2.6)

TEXT, NUMBER, SINGLE_SELECT, MULTI_SELECT, DATETIME, CHECKBOX = 1, 2, 3, 4, 5, 7
USER, PHONE, URL, ATTACHMENT, SINGLE_LINK, LOOKUP, FORMULA, DUPLEX_LINK = 11, 13, 15, 17, 18, 19, 20, 21
LOCATION, GROUP_CHAT = 22, 23
CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER = 1001, 1002, 1003, 1004, 1005

DEFAULT_UI_TYPE = {
    TEXT: "Text",
    NUMBER: "Number",
    SINGLE_SELECT: "SingleSelect",
    MULTI_SELECT: "MultiSelect",
    DATETIME: "DateTime",
    CHECKBOX: "Checkbox",
    USER: "User",
    PHONE: "Phone",
    URL: "Url",
    ATTACHMENT: "Attachment",
    SINGLE_LINK: "SingleLink",
    LOOKUP: "Lookup",
    FORMULA: "Formula",
    DUPLEX_LINK: "DuplexLink",
    LOCATION: "Location",
    GROUP_CHAT: "GroupChat",
    CREATED_TIME: "CreatedTime",
    MODIFIED_TIME: "ModifiedTime",
    CREATED_USER: "CreatedUser",
    MODIFIED_USER: "ModifiedUser",
    AUTO_NUMBER: "AutoNumber",
}
UI_TYPES = {TEXT: {"Text", "Email", "Barcode"}, NUMBER: {"Number", "Progress", "Currency", "Rating"}}
CREATABLE_TYPES = set(DEFAULT_UI_TYPE) - {LOOKUP}
INDEX_TYPES = {TEXT, NUMBER, DATETIME, PHONE, URL, FORMULA, LOCATION}
READ_ONLY_TYPES = {LOOKUP, FORMULA, CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER}
LINK_TYPES = {SINGLE_LINK, DUPLEX_LINK}
PLAIN_TYPES = frozenset({TEXT, NUMBER, DATETIME, CHECKBOX, PHONE})  # stored as read (numbers: but in lists)

CONV_ERROR = {
    TEXT: 1254060,
    NUMBER: 1254061,
    SINGLE_SELECT: 1254062,
    MULTI_SELECT: 1254063,
    DATETIME: 1254064,
    CHECKBOX: 1254065,
    USER: 1254066,
    SINGLE_LINK: 1254067,
    DUPLEX_LINK: 1254067,
    URL: 1254068,
    ATTACHMENT: 1254069,
    PHONE: 1254072,
}
PROPERTY_ERROR = {
    TEXT: 1254080,
    NUMBER: 1254081,
    SINGLE_SELECT: 1254082,
    MULTI_SELECT: 1254083,
    DATETIME: 1254084,
    CHECKBOX: 1254085,
    USER: 1254086,
    URL: 1254087,
    ATTACHMENT: 1254088,
    SINGLE_LINK: 1254089,
    LOOKUP: 1254090,
    FORMULA: 1254091,
    DUPLEX_LINK: 1254092,
    CREATED_TIME: 1254093,
    MODIFIED_TIME: 1254094,
    CREATED_USER: 1254095,
    MODIFIED_USER: 1254096,
}
NUMBER_FORMATTERS = {
    "0", "0.0", "0.00", "0.000", "0.0000", "1,000", "1,000.00", "%", "0.00%", "¥", "¥0.00", "$", "$0.00",
}  # fmt: skip
DATE_FORMATTERS = {
    "yyyy/MM/dd", "yyyy/MM/dd HH:mm", "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "MM-dd", "MM/dd/yyyy", "dd/MM/yyyy",
}  # fmt: skip
VIEW_TYPES = {"grid", "kanban", "gallery", "gantt", "form"}
SHARED_LIMITS = {"off", "tenant_editable", "anyone_editable"}  # A.25
TABLE_PERMS = {0, 1, 2, 4}  # A.42: none, read, edit records, edit fields and records
ROLE_OPERATORS = {"is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty"}  # A.44
MEMBER_ID_TYPES = ("open_id", "union_id", "user_id", "chat_id", "department_id", "open_department_id")


DEFAULT_RATE_LIMITS: dict[str, float] = {
    # docs/provider-api-notes.md §2.2 [DOC]
    "records.search": 20,
    "records.batch_create": 50,
    # docs/provider-api-notes.md §2.2 [3P]
    "records.create": 50,
    "records.update": 50,
    "records.delete": 50,
    "records.batch_update": 50,
    "records.batch_delete": 50,
    "records.batch_get": 50,
    "records.list": 20,
    "records.get": 20,
    # QPS printed on the reference pages (A.12-A.24, A.37-A.40)
    "tables.list": 20,
    "tables.create": 10,
    "tables.batch_create": 10,
    "tables.patch": 10,
    "tables.delete": 10,
    "tables.batch_delete": 10,
    "fields.list": 20,
    "fields.create": 10,
    "fields.update": 10,
    "fields.delete": 10,
    "views.list": 20,
    "views.create": 10,
    "views.get": 20,
    "views.patch": 10,
    "views.delete": 10,
    # A.10, A.11, A.19, A.25-A.28 print their QPS; copying dashboards, roles and members print none
    # (they get the default of 50/s like any other route not listed here).
    "apps.get": 20,
    "apps.update": 10,
    "dashboards.list": 20,
    "forms.get": 20,
    "forms.patch": 10,
    "form_fields.list": 20,
    "form_fields.patch": 10,
}

FILTER_OPERATORS = {
    "is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty",
    "isGreater", "isGreaterEqual", "isLess", "isLessEqual",
}  # fmt: skip
TEXT_OPS = {"is", "isNot", "contains", "doesNotContain", "isEmpty", "isNotEmpty"}
NUMBER_OPS = {"is", "isNot", "isGreater", "isGreaterEqual", "isLess", "isLessEqual", "isEmpty", "isNotEmpty"}
DATE_OPS = {"is", "isGreater", "isLess", "isEmpty", "isNotEmpty"}
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PHONE_RE = re.compile(r"^\+?\d*$")
BAD_NAME_CHARS = re.compile(r"[\[\]:\\/?*]")
ALNUM = string.ascii_letters + string.digits
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Field:
    field_id: str
    name: str
    type: int
    ui_type: str
    property: dict[str, Any] | None
    description: str | None = None
    disable_sync: bool = False


@dataclass(slots=True)
class Record:
    record_id: str
    seq: int  # 1-based creation number in the table (drives AutoNumber)
    values: dict[str, Any]  # field_id -> stored value (select: option ids, user: open_ids, ...)
    created_time: int
    modified_time: int
    created_by: str | None
    modified_by: str | None


@dataclass
class View:
    view_id: str
    name: str
    type: str = "grid"
    filter_info: dict[str, Any] | None = None
    hidden_fields: list[str] | None = None
    # A form view's metadata (A.25/A.26) and questions (A.27/A.28): field_id -> {title, description,
    # required, visible}, in question order; fields added later become questions at the end.
    form: dict[str, Any] | None = None
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Table:
    table_id: str
    name: str
    revision: int = 1
    fields: dict[str, Field] = field(default_factory=dict)  # in column order; the first is primary
    views: dict[str, View] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)  # insertion (creation) order
    seq: int = 0
    writing: bool = False
    version: int = 0  # bumped by every change; keys the query cache
    query_cache: dict[str, list[str]] = field(default_factory=dict)
    cache_version: int = -1

    @property
    def primary(self) -> Field:
        return next(iter(self.fields.values()))

    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields.values()}

    def touch(self) -> None:
        self.version += 1
        self.revision += 1


@dataclass
class App:
    """One base (多维表格): its metadata (A.10/A.11), tables, dashboards (A.18/A.19) and the custom
    roles of its advanced permissions with their members (A.41-A.49)."""

    app_token: str
    name: str
    revision: int = 1
    is_advanced: bool = False
    time_zone: str = "Asia/Shanghai"
    tables: dict[str, Table] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)  # file_token -> metadata
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # block_id -> {block_id, name}
    # role_id -> {role_id, role_name, table_roles, block_roles, members: [(kind, id)]}
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    advanced_allowed: bool = True  # False: a base inside Docs, Sheets or the Wiki (A.11, A.7)
    row_column_perms: bool = True  # False: an edition without row/column permissions (1254304)
    advanced_ready_at: float = 0.0  # role APIs answer 1254301 until then after enabling (A.7)


@dataclass
class User:
    open_id: str
    name: str
    en_name: str = ""
    email: str = ""
    union_id: str | None = None
    user_id: str | None = None
    avatar_url: str | None = None

    def id_for(self, id_type: str) -> str:
        return {"open_id": self.open_id, "union_id": self.union_id, "user_id": self.user_id}.get(
            id_type
        ) or ""


class SeedingMixin:
    """Feishu emulator: field types and limits, the stored state (apps, tables, fields, views, records, users), seeding and inspection (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ seeding and inspection

    def add_credentials(self, app_id: str, app_secret: str) -> None:
        self.credentials[app_id] = app_secret

    def add_app(self, app_token: str, name: str = "多维表格", *, time_zone: str = "Asia/Shanghai") -> App:
        """Create an empty base (no tables). Returns its state object."""
        app = App(app_token=app_token, name=name, time_zone=time_zone)
        self.apps[app_token] = app
        return app

    def add_table(
        self,
        app_token: str,
        name: str,
        fields: list[dict[str, Any]] | None = None,
        records: list[dict[str, Any]] | None = None,
        *,
        default_view_name: str | None = None,
    ) -> str:
        """Create a table (fields in the API's create-field shape; records as ``{field name: write
        value}``) through the same validation as the API. Returns the table_id."""
        app = self._app(app_token)
        table = self._create_table(
            app, {"name": name, "fields": fields, "default_view_name": default_view_name}
        )
        for fields_in in records or []:
            validated = self._validate_fields(app, table, fields_in, "open_id")
            self._insert(app, table, validated)
        return table.table_id

    def add_user(
        self,
        open_id: str,
        name: str,
        *,
        union_id: str | None = None,
        user_id: str | None = None,
        en_name: str = "",
        email: str = "",
        avatar_url: str | None = None,
    ) -> None:
        self.users[open_id] = User(open_id, name, en_name, email, union_id, user_id, avatar_url)

    def add_chat(self, chat_id: str, name: str, avatar_url: str = "") -> None:
        self.chats[chat_id] = {"id": chat_id, "name": name, "avatar_url": avatar_url}

    def add_department(
        self, open_department_id: str, name: str, *, department_id: str | None = None, en_name: str = ""
    ) -> None:
        self.departments[open_department_id] = {
            "open_department_id": open_department_id,
            "department_id": department_id or open_department_id.removeprefix("od-"),
            "name": name,
            "en_name": en_name or name,
        }

    def add_dashboard(self, app_token: str, name: str) -> str:
        """A dashboard (仪表盘) of the base; returns its block_id."""
        block_id = self._new_id("blk", 13)
        self._app(app_token).dashboards[block_id] = {"block_id": block_id, "name": name}
        return block_id

    def add_role(
        self,
        app_token: str,
        role_name: str,
        table_roles: list[dict[str, Any]] | None = None,
        block_roles: list[dict[str, Any]] | None = None,
    ) -> str:
        """A custom role (the create body's shapes, A.42) through the API's validation; the base's
        advanced permissions are switched on if they are not. Returns the role_id."""
        app = self._app(app_token)
        app.is_advanced = True
        body = {"role_name": role_name, "table_roles": table_roles or [], "block_roles": block_roles or []}
        return str(self._create_role(app, body)["role_id"])

    def add_attachment(
        self,
        app_token: str,
        file_token: str,
        name: str,
        size: int = 0,
        mime: str = "application/octet-stream",
    ) -> None:
        """Register a file as uploaded into this base (drive media upload), so records may use it."""
        self._app(app_token).attachments[file_token] = {"name": name, "size": size, "type": mime}

    def issue_token(self, app_id: str | None = None) -> str:
        """A valid tenant_access_token without an HTTP round trip."""
        return self._issue_token(app_id or self.app_id)[0]

    def app(self, app_token: str) -> App:
        return self._app(app_token)

    def table(self, app_token: str, table: str) -> Table:
        """A table by id or name."""
        app = self._app(app_token)
        if table in app.tables:
            return app.tables[table]
        for t in app.tables.values():
            if t.name == table:
                return t
        raise KeyError(table)

    def records(self, app_token: str, table: str) -> list[dict[str, Any]]:
        """All records as records/search returns them (user ids as open_id), in creation order."""
        app = self._app(app_token)
        t = self.table(app_token, table)
        return [self._render_record(app, t, r, "search", "open_id") for r in t.records.values()]

    def cell(self, app_token: str, table: str, record_id: str, field_name: str) -> Any:
        """One value in write format (text str, number, option name(s), ms, bool, user open_ids, ...)."""
        t = self.table(app_token, table)
        f = t.by_name()[field_name]
        stored = t.records[record_id].values.get(f.field_id)
        if stored is None:
            return None
        if f.type == SINGLE_SELECT:
            return self._option_name(f, stored)
        if f.type == MULTI_SELECT:
            return [n for n in (self._option_name(f, o) for o in stored) if n is not None]
        return copy.deepcopy(stored)

    def field_list(self, app_token: str, table: str) -> list[dict[str, Any]]:
        t = self.table(app_token, table)
        return [self._field_json(t, f) for f in t.fields.values()]
