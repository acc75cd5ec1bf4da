"""Feishu emulator: custom roles and their members (advanced permissions).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import FeishuError, field_violation
from .state import (
    CREATED_USER,
    MEMBER_ID_TYPES,
    MODIFIED_USER,
    MULTI_SELECT,
    ROLE_OPERATORS,
    SINGLE_SELECT,
    TABLE_PERMS,
    USER,
    App,
    Table,
    User,
)

if TYPE_CHECKING:
    from .emulator import Ctx


class RolesMixin:
    """Feishu emulator: custom roles and their members (advanced permissions) (a part of :class:`FeishuEmulator`)."""

    # ------------------------------------------------------------------ roles (A.41-A.44)

    def _advanced_app(self, app_token: str) -> App:
        """The app of a role/member call: advanced permissions must be on (and ready, A.7)."""
        app = self._app(app_token)
        if not app.is_advanced or self.clock.now() < app.advanced_ready_at:
            raise FeishuError(1254301)
        return app

    def _role(self, app: App, role_id: str) -> dict[str, Any]:
        role = app.roles.get(role_id)
        if role is None:
            raise FeishuError(1254047)
        return role

    @staticmethod
    def _bounded_list(value: Any, name: str, limit: int = 100) -> list[Any]:
        if not isinstance(value, list):
            raise FeishuError(1254001)
        if len(value) > limit:  # "数据校验规则: 最大长度:100"
            raise field_violation(name, len(value), f"{name} has at most {limit} items")
        return value

    def _build_rec_rule(self, table: Table, rule: Any) -> dict[str, Any]:
        if not isinstance(rule, dict):
            raise FeishuError(1254001)
        conjunction = rule.get("conjunction") or "and"
        other = rule.get("other_perm", 0)
        if conjunction not in ("and", "or") or other not in (0, 1) or isinstance(other, bool):
            raise FeishuError(1254001)
        conditions = []
        index = table.by_name()
        for cond in self._bounded_list(rule.get("conditions"), "conditions"):
            if not isinstance(cond, dict) or not isinstance(cond.get("field_name"), str):
                raise FeishuError(1254001)
            name = cond["field_name"]
            f = index.get(name)
            if name == "" or (f is not None and f.type in (USER, CREATED_USER, MODIFIED_USER)):
                # "人员 包含 访问者本人" / "创建人 包含 访问者本人" (field_name "")
                ftype = CREATED_USER if name == "" else f.type  # type: ignore[union-attr]
                conditions.append(
                    {"field_name": name, "field_type": ftype, "operator": "contains", "value": None}
                )
                continue
            if f is None or f.type not in (SINGLE_SELECT, MULTI_SELECT):
                raise FeishuError(1254001)  # record rules test select options or people
            operator = cond.get("operator") or "is"
            if operator not in ROLE_OPERATORS:
                raise FeishuError(1254001)
            value = cond.get("value")
            if operator in ("isEmpty", "isNotEmpty"):
                value = None
            elif (
                not isinstance(value, list)
                or not value
                or any(not isinstance(v, str) or self._option_name(f, v) is None for v in value)
            ):
                raise FeishuError(1254001)  # values are option ids of the field
            conditions.append(
                {"field_name": name, "field_type": f.type, "operator": operator, "value": value}
            )
        return {"conjunction": conjunction, "conditions": conditions, "other_perm": other}

    def _build_table_role(self, app: App, raw: Any, seen: set[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise FeishuError(1254001)
        table_id, table_name = raw.get("table_id"), raw.get("table_name")
        table = app.tables.get(table_id) if isinstance(table_id, str) else None
        if table is None and not table_id and isinstance(table_name, str):
            table = next((t for t in app.tables.values() if t.name == table_name), None)
        if table is None or table.table_id in seen:
            raise FeishuError(1254001)
        seen.add(table.table_id)
        perm = raw.get("table_perm", 0)
        if isinstance(perm, bool) or perm not in TABLE_PERMS:
            raise FeishuError(1254001)
        out: dict[str, Any] = {"table_name": table.name, "table_id": table.table_id, "table_perm": perm}
        if perm == 2:
            for key in ("allow_add_record", "allow_delete_record"):
                value = raw.get(key, True)
                if not isinstance(value, bool):
                    raise FeishuError(1254001)
                out[key] = value
        rule, field_perm = raw.get("rec_rule"), raw.get("field_perm")
        row_or_column = (rule is not None and perm in (1, 2)) or (field_perm and perm == 2)
        if row_or_column and not app.row_column_perms:
            raise FeishuError(1254304)
        if rule is not None and perm in (1, 2):
            out["rec_rule"] = self._build_rec_rule(table, rule)
        if field_perm is not None and perm == 2:
            index = table.by_name()
            if not isinstance(field_perm, dict) or any(
                k not in index or v not in (1, 2) or isinstance(v, bool) for k, v in field_perm.items()
            ):
                raise FeishuError(1254001)
            out["field_perm"] = dict(field_perm)
        return out

    def _build_role_body(self, app: App, body: Any, exclude: str | None = None) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("role_name"), str):
            raise FeishuError(1254001)
        name = body["role_name"].strip()
        if not name or len(name) > 100:
            raise FeishuError(1254032)
        if any(r["role_name"] == name and r["role_id"] != exclude for r in app.roles.values()):
            raise FeishuError(1254033)
        seen: set[str] = set()
        tables = [
            self._build_table_role(app, t, seen)
            for t in self._bounded_list(body.get("table_roles"), "table_roles")
        ]
        blocks = []
        seen_blocks: set[str] = set()
        for raw in self._bounded_list(body.get("block_roles"), "block_roles"):
            if (
                not isinstance(raw, dict)
                or raw.get("block_id") not in app.dashboards
                or raw["block_id"] in seen_blocks
            ):
                raise FeishuError(1254001)
            perm = raw.get("block_perm", 0)
            if isinstance(perm, bool) or perm not in (0, 1):
                raise FeishuError(1254001)
            seen_blocks.add(raw["block_id"])
            blocks.append({"block_id": raw["block_id"], "block_type": "dashboard", "block_perm": perm})
        return {"role_name": name, "table_roles": tables, "block_roles": blocks}

    def _create_role(self, app: App, body: Any) -> dict[str, Any]:
        built = self._build_role_body(app, body)
        if len(app.roles) >= self.max_roles:
            raise FeishuError(1254110)
        role = {"role_id": self._new_id("rol", 7), **built, "members": []}
        app.roles[role["role_id"]] = role
        return role

    @staticmethod
    def _role_json(role: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in role.items() if k != "members"})

    async def _roles_list(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        page, meta = self._paginate(ctx, [self._role_json(r) for r in app.roles.values()], 30)
        return {**meta, "items": page}

    async def _roles_create(self, ctx: Ctx, app_token: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        return {"role": self._role_json(self._create_role(app, self._body(ctx)))}

    async def _roles_update(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        role = self._role(app, role_id)
        role.update(self._build_role_body(app, self._body(ctx), exclude=role_id))  # a full replacement (A.44)
        out = self._role_json(role)
        del out["role_id"]  # A.44's answer: role_name, table_roles (addrecords_perm...), block_roles
        for table_role in out["table_roles"]:
            if "allow_add_record" in table_role:
                table_role["addrecords_perm"] = table_role.pop("allow_add_record")
                table_role["deleterecords_perm"] = table_role.pop("allow_delete_record")
        for block in out["block_roles"]:
            block.pop("block_type", None)
        return {"role": out}

    async def _roles_delete(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        app = self._advanced_app(app_token)
        self._role(app, role_id)
        del app.roles[role_id]
        return {}

    # ------------------------------------------------------------------ role members (A.45-A.49)

    def _member_key(self, id_type: Any, member_id: Any) -> tuple[str, str]:
        """(kind, canonical id) of a member named by an id of ``id_type``; 1254048 if unknown."""
        if not isinstance(member_id, str) or not member_id:
            raise FeishuError(1254001)
        if id_type in ("open_id", "union_id", "user_id"):
            for user in self.users.values():
                if user.id_for(id_type) == member_id:
                    return "user", user.open_id
        elif id_type == "chat_id":
            if member_id in self.chats:
                return "chat", member_id
        elif id_type in ("department_id", "open_department_id"):
            for dept in self.departments.values():
                if dept[id_type] == member_id:
                    return "department", dept["open_department_id"]
        raise FeishuError(1254048)

    def _member_json(self, key: tuple[str, str]) -> dict[str, Any]:
        kind, ident = key
        if kind == "user":
            user = self.users.get(ident) or User(ident, "")
            return {
                "member_type": "user",
                "member_name": user.name,
                "member_en_name": user.en_name or user.name,
                "open_id": user.open_id,
                "union_id": user.union_id or "",
                "user_id": user.user_id or "",
            }
        if kind == "chat":
            chat = self.chats.get(ident, {"name": ""})
            return {
                "member_type": "chat",
                "member_name": chat["name"],
                "member_en_name": chat["name"],
                "chat_id": ident,
            }
        dept = self.departments.get(ident, {"name": "", "en_name": "", "department_id": ""})
        return {
            "member_type": "department",
            "member_name": dept["name"],
            "member_en_name": dept["en_name"],
            "department_id": dept["department_id"],
            "open_department_id": ident,
        }

    def _member_id_type(self, ctx: Ctx) -> str:
        value = ctx.query.get("member_id_type") or "open_id"
        if value not in MEMBER_ID_TYPES:
            raise field_violation(
                "member_id_type", value, "member_id_type must be one of " + ", ".join(MEMBER_ID_TYPES)
            )
        return value

    def _member_list_keys(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        items = self._bounded_list(body.get("member_list"), "member_list")
        if not items:
            raise FeishuError(1254001)
        keys = []
        for item in items:
            if not isinstance(item, dict):
                raise FeishuError(1254001)
            id_type = item.get("type") or "open_id"
            if id_type not in MEMBER_ID_TYPES:
                raise FeishuError(1254001)
            keys.append(self._member_key(id_type, item.get("id")))
        return list(dict.fromkeys(keys))

    def _add_members(self, role: dict[str, Any], keys: list[tuple[str, str]]) -> None:
        new = [k for k in keys if k not in role["members"]]  # adding a member twice changes nothing
        if len(role["members"]) + len(new) > self.max_members:
            raise FeishuError(1254111)
        role["members"].extend(new)

    async def _members_list(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        page, meta = self._paginate(ctx, [self._member_json(k) for k in role["members"]], 100)
        return {**meta, "items": page}

    async def _members_create(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        id_type = self._member_id_type(ctx)
        self._add_members(role, [self._member_key(id_type, self._body(ctx).get("member_id"))])
        return {}

    async def _members_batch_create(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        self._add_members(role, self._member_list_keys(self._body(ctx)))
        return {}

    async def _members_batch_delete(self, ctx: Ctx, app_token: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        keys = self._member_list_keys(self._body(ctx))
        if any(k not in role["members"] for k in keys):
            raise FeishuError(1254048)  # nothing removed
        role["members"] = [k for k in role["members"] if k not in keys]
        return {}

    async def _members_delete(self, ctx: Ctx, app_token: str, role_id: str, member_id: str) -> dict[str, Any]:
        role = self._role(self._advanced_app(app_token), role_id)
        key = self._member_key(self._member_id_type(ctx), member_id)
        if key not in role["members"]:
            raise FeishuError(1254048)
        role["members"].remove(key)
        return {}
