"""Custom roles and role members of Feishu's advanced permissions (A.41-A.49), as the agent sees
them and as Feishu takes them.

A role as the tools show and take it::

    {"id": "rol...", "name": "Sales",
     "tables": [{"table": "Deals", "id": "tbl...", "perm": "edit_records",
                 "add_records": true, "delete_records": false,
                 "fields": {"Amount": "read"},
                 "records": {"rules": [{"field": "Stage", "op": "eq", "value": ["Won"]},
                                       {"field": "Owner"}, {"field": ""}],
                             "match": "or", "others": "read"}}],
     "dashboards": [{"dashboard": "Overview", "id": "blk...", "perm": "read"}]}

``perm`` is Feishu's table_perm (0 none, 1 read, 2 edit_records, 4 edit_all = fields and records);
``add_records``/``delete_records``/``fields``/``others`` mean something only with edit_records,
``records`` with read or edit_records (A.42). A record rule on a person field (or ``""``, the
record's creator) means "contains the viewer"; on a select field it tests options, named here
and sent by id. Members are ``{"id", "type"}`` with Feishu's member id types (A.45).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anytable.errors import InputError
from anytable.schemas.fields import SELECT_TYPES, USER_TYPES, FieldInfo
from anytable.schemas.values import short

from .viewfilter import OPERATORS

TABLE_PERMS = {"none": 0, "read": 1, "edit_records": 2, "edit_all": 4}
FIELD_PERMS = {"read": 1, "edit": 2}
OTHERS = {"none": 0, "read": 1}
BLOCK_PERMS = {"none": 0, "read": 1}
# a record rule takes the view filter's operators (A.44), without the comparisons
RULE_OPS = {op: OPERATORS[op] for op in ("eq", "neq", "contains", "not_contains", "is_empty", "is_not_empty")}
MEMBER_TYPES = ("open_id", "union_id", "user_id", "chat_id", "department_id", "open_department_id")
PREFIXES = {"ou_": "open_id", "on_": "union_id", "oc_": "chat_id", "od-": "open_department_id"}
MAX_ITEMS = 100  # table_roles, block_roles, conditions, member_list: 最大长度 100 (A.42, A.45)

Fields = Callable[[str], list[FieldInfo]]  # table id -> its fields


def _name_of(mapping: dict[str, int], value: Any, default: str = "none") -> str:
    return next((k for k, v in mapping.items() if v == value), default)


def _choice(mapping: dict[str, int], value: Any, where: str) -> int:
    if value not in mapping:
        raise InputError(f"{where} is {short(value)}; use {' or '.join(mapping)}.")
    return mapping[value]


def _keys(raw: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be an object with {', '.join(allowed)}; got {short(raw)}.")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InputError(f"{where}: unknown keys {unknown}; use {', '.join(allowed)}.")
    return raw


def _field(fields: list[FieldInfo], key: Any, where: str) -> FieldInfo:
    found = next((f for f in fields if key in (f.id, f.name)), None) if isinstance(key, str) else None
    if found is None:
        names = ", ".join(repr(f.name) for f in fields[:40])
        raise InputError(f"{where}: no field {short(key)}; fields are {names}.")
    return found


def _options(field: FieldInfo) -> dict[str, str]:
    """Option name -> id of a select field."""
    prop = field.extra.get("property")
    return {
        str(o["name"]): str(o["id"])
        for o in (prop.get("options") if isinstance(prop, dict) else None) or []
        if isinstance(o, dict) and "name" in o and "id" in o
    }


# ------------------------------------------------------------------------------ Feishu -> agent
def role_out(
    role: dict[str, Any], fields: dict[str, list[FieldInfo]], dashboards: dict[str, str]
) -> dict[str, Any]:
    """A role of A.41 (or A.44's answer) as the tools show it. ``fields``: the fields of tables whose
    record rules name options; ``dashboards``: block_id -> name."""
    tables = []
    for t in role.get("table_roles") or []:
        perm = t.get("table_perm", 0)
        entry: dict[str, Any] = {
            "table": t.get("table_name", ""),
            "id": t.get("table_id", ""),
            "perm": _name_of(TABLE_PERMS, perm),
        }
        if perm == 2:
            entry["add_records"] = t.get("allow_add_record", t.get("addrecords_perm", True))
            entry["delete_records"] = t.get("allow_delete_record", t.get("deleterecords_perm", True))
            if t.get("field_perm"):
                entry["fields"] = {k: _name_of(FIELD_PERMS, v, "read") for k, v in t["field_perm"].items()}
        rule = t.get("rec_rule")
        if perm in (1, 2) and isinstance(rule, dict) and rule.get("conditions"):
            entry["records"] = _rule_out(rule, fields.get(str(t.get("table_id")), []))
        tables.append(entry)
    blocks = [
        {
            "dashboard": dashboards.get(str(b.get("block_id")), ""),
            "id": b.get("block_id", ""),
            "perm": _name_of(BLOCK_PERMS, b.get("block_perm", 0)),
        }
        for b in role.get("block_roles") or []
    ]
    return {
        "id": role.get("role_id", ""),
        "name": role.get("role_name", ""),
        "tables": tables,
        "dashboards": blocks,
    }


def _rule_out(rule: dict[str, Any], fields: list[FieldInfo]) -> dict[str, Any]:
    by_name = {f.name: f for f in fields}
    rules = []
    for c in rule.get("conditions") or []:
        name = str(c.get("field_name", ""))
        field = by_name.get(name)
        values = c.get("value") or []
        if not values and c.get("operator") not in ("isEmpty", "isNotEmpty"):
            rules.append({"field": name})  # a person field (or the creator) contains the viewer
            continue
        out: dict[str, Any] = {
            "field": name,
            "op": next((k for k, v in RULE_OPS.items() if v == c.get("operator")), "eq"),
        }
        if values:
            ids = {v: k for k, v in _options(field).items()} if field is not None else {}
            out["value"] = [ids.get(v, v) for v in values]
        rules.append(out)
    return {
        "rules": rules,
        "match": "or" if rule.get("conjunction") == "or" else "and",
        "others": _name_of(OTHERS, rule.get("other_perm", 0)),
    }


def role_native(role: dict[str, Any]) -> dict[str, Any]:
    """A listed role (A.41) as a create/update body (A.42/A.44), to send back what is not changed."""
    tables = []
    for t in role.get("table_roles") or []:
        entry = {k: t[k] for k in ("table_name", "table_id", "table_perm") if k in t}
        for key, alias in (
            ("allow_add_record", "addrecords_perm"),
            ("allow_delete_record", "deleterecords_perm"),
        ):
            if key in t or alias in t:
                entry[key] = t.get(key, t.get(alias))
        if t.get("field_perm"):
            entry["field_perm"] = dict(t["field_perm"])
        rule = t.get("rec_rule")
        if isinstance(rule, dict):
            conditions = []
            for c in rule.get("conditions") or []:
                cond = {"field_name": c.get("field_name", "")}
                if c.get("value") or c.get("operator") in ("isEmpty", "isNotEmpty"):
                    cond["operator"] = c.get("operator", "is")
                    if c.get("value"):
                        cond["value"] = list(c["value"])
                conditions.append(cond)
            entry["rec_rule"] = {
                "conditions": conditions,
                "conjunction": rule.get("conjunction") or "and",
                "other_perm": rule.get("other_perm", 0),
            }
        tables.append(entry)
    blocks = [
        {"block_id": b.get("block_id"), "block_perm": b.get("block_perm", 0)}
        for b in role.get("block_roles") or []
    ]
    return {"role_name": role.get("role_name", ""), "table_roles": tables, "block_roles": blocks}


# ------------------------------------------------------------------------------ agent -> Feishu
def table_role(raw: Any, where: str, tables: dict[str, str], fields: Fields) -> dict[str, Any]:
    """One ``tables`` entry as a table_role. ``tables``: table id -> name."""
    item = _keys(raw, ("table", "id", "perm", "add_records", "delete_records", "fields", "records"), where)
    key = item.get("table", item.get("id"))
    table_id = key if key in tables else next((i for i, n in tables.items() if n == key), None)
    if table_id is None:
        names = ", ".join(repr(n) for n in list(tables.values())[:40])
        raise InputError(f"{where}.table: no table {short(key)} in this base; tables are {names}.")
    perm_name = item.get("perm")
    perm = _choice(TABLE_PERMS, perm_name, f"{where}.perm")
    out: dict[str, Any] = {"table_name": tables[table_id], "table_id": table_id, "table_perm": perm}
    for key, native in (("add_records", "allow_add_record"), ("delete_records", "allow_delete_record")):
        if key in item:
            if perm != 2:
                raise InputError(f"{where}.{key} applies only with perm edit_records.")
            if not isinstance(item[key], bool):
                raise InputError(f"{where}.{key} must be true or false.")
            out[native] = item[key]
    if item.get("fields"):
        if perm != 2:
            raise InputError(
                f"{where}.fields applies only with perm edit_records (other fields are read-only)."
            )
        if not isinstance(item["fields"], dict):
            raise InputError(f'{where}.fields must map field names to read or edit: {{"Amount": "read"}}.')
        table_fields = fields(table_id)
        out["field_perm"] = {
            _field(table_fields, k, f"{where}.fields").name: _choice(FIELD_PERMS, v, f"{where}.fields[{k!r}]")
            for k, v in item["fields"].items()
        }
    if item.get("records") is not None:
        if perm not in (1, 2):
            raise InputError(f"{where}.records applies only with perm read or edit_records.")
        out["rec_rule"] = _rule(item["records"], f"{where}.records", fields(table_id), perm)
    return out


def _rule(raw: Any, where: str, fields: list[FieldInfo], perm: int) -> dict[str, Any]:
    item = _keys(raw, ("rules", "match", "others"), where)
    rules = item.get("rules")
    if not isinstance(rules, list) or not rules or len(rules) > MAX_ITEMS:
        raise InputError(
            f'{where}.rules must be a list of 1 to {MAX_ITEMS} rules like {{"field": "Stage", "op": "eq", "value": '
            '["Won"]} or {"field": "Owner"} (a person field contains the viewer; "" = the creator).'
        )
    match = item.get("match", "and")
    if match not in ("and", "or"):
        raise InputError(f"{where}.match is and or or.")
    others = _choice(OTHERS, item.get("others", "none"), f"{where}.others")
    if others and perm != 2:
        raise InputError(f"{where}.others applies only with perm edit_records.")
    conditions = [_condition(r, f"{where}.rules[{i}]", fields) for i, r in enumerate(rules)]
    return {"conditions": conditions, "conjunction": match, "other_perm": others}


def _condition(raw: Any, where: str, fields: list[FieldInfo]) -> dict[str, Any]:
    item = _keys(raw, ("field", "op", "value"), where)
    field = None if item.get("field") == "" else _field(fields, item.get("field"), where)
    if field is None or field.type in USER_TYPES:
        if item.get("value") is not None or item.get("op", "contains") != "contains":
            raise InputError(
                f"{where}: a rule on a person field (or the creator) means it contains the viewer; give only field."
            )
        return {"field_name": field.name if field else ""}
    if field.type not in SELECT_TYPES:
        raise InputError(
            f"{where}: record rules test a select field's options or a person field; {field.name!r} is "
            f"{field.type.value}."
        )
    op = item.get("op", "eq")
    if op not in RULE_OPS:
        raise InputError(f"{where}.op is {short(op)}; use {', '.join(RULE_OPS)}.")
    out: dict[str, Any] = {"field_name": field.name, "operator": RULE_OPS[op]}
    if op in ("is_empty", "is_not_empty"):
        return out
    value = item.get("value")
    names = [value] if isinstance(value, str) else value
    options = _options(field)
    if not isinstance(names, list) or not names or any(n not in options for n in names):
        shown = ", ".join(repr(o) for o in list(options)[:25])
        raise InputError(
            f"{where}.value: give option names of {field.name!r} ({shown or 'none'}); got {short(value)}."
        )
    out["value"] = [options[n] for n in names]
    return out


def block_role(raw: Any, where: str, dashboards: dict[str, str]) -> dict[str, Any]:
    item = _keys(raw, ("dashboard", "id", "perm"), where)
    key = item.get("dashboard", item.get("id"))
    block_id = key if key in dashboards else next((i for i, n in dashboards.items() if n == key), None)
    if block_id is None:
        names = ", ".join(repr(n) for n in list(dashboards.values())[:40])
        raise InputError(f"{where}.dashboard: no dashboard {short(key)}; dashboards are {names or 'none'}.")
    return {"block_id": block_id, "block_perm": _choice(BLOCK_PERMS, item.get("perm"), f"{where}.perm")}


# ------------------------------------------------------------------------------ members
def member_ref(raw: Any, where: str, user_id_type: str) -> dict[str, str]:
    """``"ou_..."`` or ``{"id", "type"}`` as a member_list item ``{"type", "id"}``."""
    if isinstance(raw, dict):
        item = _keys(raw, ("id", "type", "name"), where)
        ident, kind = item.get("id"), item.get("type")
    else:
        ident, kind = raw, None
    if not isinstance(ident, str) or not ident.strip():
        raise InputError(f'{where}: a member is an id string or {{"id", "type"}}; got {short(raw)}.')
    ident = ident.strip()
    if kind is None:
        kind = next((t for p, t in PREFIXES.items() if ident.startswith(p)), None)
        if kind is None and user_id_type == "user_id":
            kind = "user_id"
    if kind is None:
        raise InputError(
            f'{where}: say what {ident!r} is: {{"id": {ident!r}, "type": "user_id"}} (or {", ".join(MEMBER_TYPES)}); '
            "ou_, on_, oc_ and od- ids say it themselves."
        )
    if kind not in MEMBER_TYPES:
        raise InputError(f"{where}.type is {short(kind)}; use {', '.join(MEMBER_TYPES)}.")
    return {"type": kind, "id": ident}


def member_out(item: dict[str, Any], user_id_type: str) -> dict[str, Any]:
    """A member of A.47 as ``{"id", "type", "name"?}`` (users by FEISHU_USER_ID_TYPE)."""
    kind = item.get("member_type")
    if kind == "chat":
        id_type = "chat_id"
    elif kind == "department":
        id_type = "open_department_id" if item.get("open_department_id") else "department_id"
    else:
        id_type = user_id_type if item.get(user_id_type) else "open_id"
    out: dict[str, Any] = {"id": item.get(id_type) or "", "type": id_type}
    if item.get("member_name"):
        out["name"] = item["member_name"]
    return out
