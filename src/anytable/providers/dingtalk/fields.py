"""DingTalk field types and properties <-> the contract's field types.

Documented types and properties (docs/provider-api-notes.md §1.7, from the official DingTalk MCP
reference [DOC]): text, number ``{formatter}``, singleSelect / multipleSelect ``{choices: [{name}]}``,
date ``{formatter}``, user ``{multiple}``, department ``{multiple}``, attachment, url,
unidirectionalLink ``{multiple, linkedSheetId}``, bidirectionalLink ``{multiple, linkedSheetId,
linkedFieldId?}``. checkbox is not documented for v1.0 [INF] but offered, as the lead asked.
Types with no contract equivalent (department, and any other DingTalk returns) read as ``other``:
their values pass through as DingTalk gives and takes them.

The first field of a sheet is its primary field (it cannot be deleted; §1.0 data-structure [DOC]).
A link field names its linked table in ``options`` (``[linkedSheetId]``); a link created through
anytable is a ``unidirectionalLink``: a bidirectional one would also add a field to the linked table,
which the caller did not ask for. Existing bidirectional links read and write the same way.
"""

from __future__ import annotations

from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType

TO_CONTRACT: dict[str, FieldType] = {
    "text": FieldType.text,
    "number": FieldType.number,
    "singleSelect": FieldType.single_select,
    "multipleSelect": FieldType.multi_select,
    "date": FieldType.date,
    "user": FieldType.user,
    "url": FieldType.url,
    "attachment": FieldType.attachment,
    "unidirectionalLink": FieldType.link,
    "bidirectionalLink": FieldType.link,
    "checkbox": FieldType.checkbox,
}
SELECTS = ("singleSelect", "multipleSelect")
LINKS = ("unidirectionalLink", "bidirectionalLink")

# What create_table / create_field may make, in the contract's names (Capabilities.field_types).
FIELD_TYPES = [
    "text",
    "number",
    "single_select",
    "multi_select",
    "date",
    "user",
    "url",
    "link",
    "attachment",
    "checkbox",
]
# A date field made here shows the time as well: the contract's dates are instants.
DATE_FORMATTER = "YYYY-MM-DD HH:mm"


def field_info(raw: dict[str, Any], primary: bool) -> FieldInfo:
    """A field of ``GET .../fields`` as the contract describes it (the property kept in ``extra``)."""
    native = str(raw.get("type") or "")
    raw_prop = raw.get("property")
    prop: dict[str, Any] = raw_prop if isinstance(raw_prop, dict) else {}
    ftype = TO_CONTRACT.get(native, FieldType.other)
    options: list[str] | None = None
    if native in SELECTS:
        options = [
            str(c.get("name")) for c in prop.get("choices") or [] if isinstance(c, dict) and c.get("name")
        ]
    elif native in LINKS and isinstance(prop.get("linkedSheetId"), str):
        options = [prop["linkedSheetId"]]
    return FieldInfo(
        id=str(raw.get("id")),
        name=str(raw.get("name")),
        type=ftype,
        options=options,
        primary=primary,
        native_type=native,
        extra={"property": prop},
    )


def fields_of(body: Any) -> list[FieldInfo]:
    """The fields of a ``{"value": [field]}`` answer, the first being the primary one."""
    items = body.get("value") if isinstance(body, dict) else None
    return [field_info(raw, i == 0) for i, raw in enumerate(items or []) if isinstance(raw, dict)]


def native_field(spec: FieldSpec) -> dict[str, Any]:
    """The body of one field for ``POST .../sheets`` (fields) and ``POST .../fields``."""
    t = spec.type
    out: dict[str, Any] = {"name": spec.name}
    if t is FieldType.text:
        out["type"] = "text"
    elif t is FieldType.number:
        out["type"] = "number"
    elif t in (FieldType.single_select, FieldType.multi_select):
        out["type"] = "singleSelect" if t is FieldType.single_select else "multipleSelect"
        out["property"] = {"choices": [{"name": o} for o in spec.options or []]}
    elif t is FieldType.date:
        out["type"] = "date"
        out["property"] = {"formatter": DATE_FORMATTER}
    elif t is FieldType.user:
        out["type"] = "user"
        out["property"] = {"multiple": True}
    elif t is FieldType.url:
        out["type"] = "url"
    elif t is FieldType.attachment:
        out["type"] = "attachment"
    elif t is FieldType.checkbox:
        out["type"] = "checkbox"
    elif t is FieldType.link:
        if not spec.options:
            raise InputError(
                f'Link field {spec.name!r} needs the table it links to: pass options=["<table id or name>"].'
            )
        out["type"] = "unidirectionalLink"
        out["property"] = {"multiple": True, "linkedSheetId": spec.options[0]}
    else:  # check_field_type refuses these before anything is sent
        raise InputError(
            f"Field {spec.name!r}: type {t.value!r} cannot be created on DingTalk; use one of "
            f"{', '.join(FIELD_TYPES)}."
        )
    return out


def multiple(field: FieldInfo) -> bool:
    """Whether a user or link field takes more than one value (DingTalk's default: it does)."""
    prop = field.extra.get("property")
    return not (isinstance(prop, dict) and prop.get("multiple") is False)
