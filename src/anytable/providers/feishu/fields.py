"""Feishu fields and the contract's field types, both ways.

Feishu describes a field by ``type`` (int) and ``ui_type`` (A.3, A.5, docs/provider-api-notes.md §2.6);
``property`` holds its settings. A field update is a full replacement of ``property`` (A.5: "更新
字段时为全量更新"), so :func:`update_body` starts from the field's current native description and
changes only what the caller asked for.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import copy
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType

TEXT, NUMBER, SINGLE_SELECT, MULTI_SELECT, DATETIME, CHECKBOX = 1, 2, 3, 4, 5, 7
USER, PHONE, URL, ATTACHMENT, SINGLE_LINK, LOOKUP, FORMULA, DUPLEX_LINK = 11, 13, 15, 17, 18, 19, 20, 21
LOCATION, GROUP_CHAT = 22, 23
CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER = 1001, 1002, 1003, 1004, 1005

# Feishu type -> contract type (Text with ui_type Email is email; see contract_type).
TYPE_MAP: dict[int, FieldType] = {
    TEXT: FieldType.text,
    NUMBER: FieldType.number,
    SINGLE_SELECT: FieldType.single_select,
    MULTI_SELECT: FieldType.multi_select,
    DATETIME: FieldType.date,
    CHECKBOX: FieldType.checkbox,
    USER: FieldType.user,
    PHONE: FieldType.phone,
    URL: FieldType.url,
    ATTACHMENT: FieldType.attachment,
    SINGLE_LINK: FieldType.link,
    DUPLEX_LINK: FieldType.link,
    LOOKUP: FieldType.other,
    FORMULA: FieldType.formula,
    LOCATION: FieldType.location,
    GROUP_CHAT: FieldType.other,
    CREATED_TIME: FieldType.created_time,
    MODIFIED_TIME: FieldType.modified_time,
    CREATED_USER: FieldType.created_by,
    MODIFIED_USER: FieldType.modified_by,
    AUTO_NUMBER: FieldType.auto_number,
}
READ_ONLY = frozenset(
    {LOOKUP, FORMULA, CREATED_TIME, MODIFIED_TIME, CREATED_USER, MODIFIED_USER, AUTO_NUMBER}
)

# Contract type -> (Feishu type, ui_type, default property) for create_table / create_field.
# Formula is left out: the contract has no way to give its expression, so it would stay empty.
CREATE: dict[FieldType, tuple[int, str, dict[str, Any] | None]] = {
    FieldType.text: (TEXT, "Text", None),
    FieldType.email: (TEXT, "Email", None),
    FieldType.phone: (PHONE, "Phone", None),
    FieldType.number: (NUMBER, "Number", None),
    FieldType.checkbox: (CHECKBOX, "Checkbox", None),
    FieldType.single_select: (SINGLE_SELECT, "SingleSelect", None),
    FieldType.multi_select: (MULTI_SELECT, "MultiSelect", None),
    # Show the time too: contract dates carry one (the stored value is epoch ms either way).
    FieldType.date: (DATETIME, "DateTime", {"date_formatter": "yyyy/MM/dd HH:mm"}),
    FieldType.user: (USER, "User", {"multiple": True}),
    FieldType.url: (URL, "Url", None),
    FieldType.attachment: (ATTACHMENT, "Attachment", None),
    FieldType.link: (SINGLE_LINK, "SingleLink", None),
    FieldType.location: (LOCATION, "Location", None),
    FieldType.created_time: (CREATED_TIME, "CreatedTime", {"date_formatter": "yyyy/MM/dd HH:mm"}),
    FieldType.modified_time: (MODIFIED_TIME, "ModifiedTime", {"date_formatter": "yyyy/MM/dd HH:mm"}),
    FieldType.created_by: (CREATED_USER, "CreatedUser", None),
    FieldType.modified_by: (MODIFIED_USER, "ModifiedUser", None),
    FieldType.auto_number: (AUTO_NUMBER, "AutoNumber", {"auto_serial": {"type": "auto_increment_number"}}),
}
FIELD_TYPES = [t.value for t in CREATE]
# The primary (first) field must be one of these (the SDK docs' index field types).
PRIMARY_TYPES = frozenset({TEXT, NUMBER, DATETIME, PHONE, URL, FORMULA, LOCATION})
PRIMARY_NAMES = "text, email, number, date, phone, url or location"
# Keys of property that Feishu only ever returns (A.5 "仅在响应体中返回"): never sent back.
RESPONSE_ONLY = ("table_name", "back_field_id")


def contract_type(ftype: int, ui_type: str | None) -> FieldType:
    if ftype == TEXT and ui_type == "Email":
        return FieldType.email
    return TYPE_MAP.get(ftype, FieldType.other)


def field_info(raw: dict[str, Any]) -> FieldInfo:
    """A field of Feishu's field list (A.37) as the contract describes it, keeping the native data."""
    ftype = raw.get("type")
    ftype = ftype if isinstance(ftype, int) else -1
    ui_type = raw.get("ui_type") if isinstance(raw.get("ui_type"), str) else None
    prop = raw.get("property") if isinstance(raw.get("property"), dict) else None
    ctype = contract_type(ftype, ui_type)
    options: list[str] | None = None
    if ctype in (FieldType.single_select, FieldType.multi_select):
        options = [
            o["name"] for o in (prop or {}).get("options") or [] if isinstance(o, dict) and "name" in o
        ]
    elif ctype is FieldType.link and prop and isinstance(prop.get("table_id"), str):
        options = [prop["table_id"]]
    return FieldInfo(
        id=str(raw.get("field_id", "")),
        name=str(raw.get("field_name", "")),
        type=ctype,
        options=options,
        primary=bool(raw.get("is_primary")),
        read_only=ftype == LOOKUP,
        native_type=ui_type or str(ftype),
        extra={
            "type": ftype,
            "ui_type": ui_type,
            "property": copy.deepcopy(prop),
            "description": _description_text(raw.get("description")),
        },
    )


def _description_text(description: Any) -> str | None:
    if isinstance(description, str):
        return description
    if isinstance(description, list):  # text_field_as_array form
        return "".join(str(s.get("text", "")) for s in description if isinstance(s, dict))
    if isinstance(description, dict) and isinstance(text := description.get("text"), str):
        return text
    return None


def create_body(spec: FieldSpec) -> dict[str, Any]:
    """The create-field body (A.38) of a contract field spec (link options name the table's id)."""
    if spec.type not in CREATE:
        raise InputError(
            f"Field {spec.name!r}: type {spec.type.value!r} cannot be created on Feishu; use one of "
            f"{', '.join(FIELD_TYPES)}."
        )
    ftype, ui_type, default = CREATE[spec.type]
    prop: dict[str, Any] | None = copy.deepcopy(default)
    if spec.type in (FieldType.single_select, FieldType.multi_select):
        prop = {"options": [{"name": name} for name in spec.options or []]}
    elif spec.type is FieldType.link:
        if not spec.options:
            raise InputError(
                f'Field {spec.name!r}: a link field needs the linked table: options=["<table id or name>"].'
            )
        prop = {"multiple": True, "table_id": spec.options[0]}
    body: dict[str, Any] = {"field_name": spec.name, "type": ftype, "ui_type": ui_type}
    if prop is not None:
        body["property"] = prop
    return body


def check_primary(spec: FieldSpec) -> None:
    """The first field of a new table becomes its primary field, which Feishu restricts."""
    if spec.type not in CREATE or CREATE[spec.type][0] not in PRIMARY_TYPES:
        raise InputError(
            f"The first field is the table's primary field and on Feishu must be {PRIMARY_NAMES}; "
            f"{spec.name!r} is {spec.type.value}. Put another field first."
        )


def update_body(field: FieldInfo, name: str | None, options: list[str] | None) -> dict[str, Any] | None:
    """The full update-field body (A.39) that renames ``field`` and/or replaces its options and
    keeps everything else as it is (ui_type, description, the rest of property, and the id and
    color of every option that stays). None when nothing would change."""
    extra = field.extra
    raw_prop = extra.get("property")
    prop: dict[str, Any] | None = copy.deepcopy(raw_prop) if isinstance(raw_prop, dict) else None
    if prop is not None:
        for key in RESPONSE_ONLY:
            prop.pop(key, None)
    changed = False
    if options is not None:
        old = [o for o in (prop or {}).get("options") or [] if isinstance(o, dict)]
        by_name = {o.get("name"): o for o in old}
        new_options = [
            {k: by_name[n][k] for k in ("name", "id", "color") if k in by_name[n]}
            if n in by_name
            else {"name": n}
            for n in options
        ]
        changed = [o.get("name") for o in old] != list(options)
        prop = {**(prop or {}), "options": new_options}
    new_name = name if name is not None else field.name
    changed = changed or new_name != field.name
    if not changed:
        return None
    body: dict[str, Any] = {"field_name": new_name, "type": extra.get("type")}
    if extra.get("ui_type"):
        body["ui_type"] = extra["ui_type"]
    if prop is not None:
        body["property"] = prop
    if extra.get("description"):
        body["description"] = {"text": extra["description"]}
    return body
