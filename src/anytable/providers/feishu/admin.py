"""Administering a Feishu/Lark base: app metadata, dashboards, views, forms, custom roles and
their members (reference A.10-A.49), behind the feishu_read / feishu_update / feishu_delete tools.

Everything the agent names (tables, views, forms, questions, roles, dashboards, fields, options) is
accepted by id or name and resolved here before anything is sent; what comes back is normalised
(``roles`` for role and member shapes, ``viewfilter`` for view filters). Checks that Feishu would
make too (duplicate names, the 30-role and 200-member limits, a hidden question taking no other
change) are made first so that bad input changes nothing. Writes go through ``FeishuApi``,
which reconciles a lost answer by reading back.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from anytable.errors import InputError, NotFoundError, PartialWriteError, ProviderError
from anytable.providers.batching import chunked
from anytable.schemas.fields import FieldInfo, TableSchema
from anytable.schemas.inputs import check_name
from anytable.schemas.values import short

from . import fields as ff
from . import roles as rr
from .admin_api import MEMBER_BATCH, FeishuAdminApi, is_member
from .admin_views import ViewSettings, check_type, form_id_of, view_id_of
from .api import FeishuApi

READS = ("app", "dashboards", "form", "view", "roles", "members")
UPDATES = (
    "update_app",
    "copy_dashboard",
    "update_form",
    "update_question",
    "update_view",
    "create_role",
    "update_role",
    "add_members",
)
DELETES = ("delete_role", "remove_members")
NEEDS_TABLE = {"form", "view", "update_form", "update_question", "update_view"}
MAX_ROLES = 30  # A.2 / 1254110
MAX_MEMBERS = 200  # A.2 / 1254111
DATA_KEYS: dict[str, tuple[str, ...]] = {
    "update_app": ("name", "advanced"),
    "copy_dashboard": ("dashboard", "name"),
    "update_form": ("name", "description", "shared", "shared_limit", "submit_limit_once"),
    "update_question": ("question", "title", "description", "required", "visible", "after"),
    "update_view": ("name", "filter", "hidden_fields"),
    "create_role": ("name", "tables", "dashboards"),
    "update_role": ("name", "tables", "dashboards"),
}


def _data(action: str, data: Any) -> dict[str, Any]:
    allowed = DATA_KEYS.get(action, ())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"data must be an object with {', '.join(allowed)}; got {short(data)}.")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        what = f"its keys are {', '.join(allowed)}" if allowed else "it takes no data"
        raise InputError(
            f"{action}: data has no {', '.join(repr(u) for u in unknown)}; {what}. Nothing was changed."
        )
    if allowed and not data:
        raise InputError(
            f"{action} needs data with at least one of {', '.join(allowed)}. Nothing was changed."
        )
    return data


def _pick(
    items: list[dict[str, Any]], key: str, id_key: str, name_key: str, what: str, hint: str
) -> dict[str, Any]:
    for item in items:
        if item.get(id_key) == key:
            return item
    named = [item for item in items if item.get(name_key) == key]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        ids = ", ".join(str(i.get(id_key)) for i in named)
        raise InputError(f"Several {what}s are named {key!r} (ids {ids}): pass the id.")
    names = ", ".join(repr(i.get(name_key)) for i in items[:40]) or "none"
    raise NotFoundError(f"No {what} {key!r}; {hint}: {names}.")


class FeishuAdmin:
    """The administration of one base (``app``) through one provider's client."""

    def __init__(self, api: FeishuApi, app: str, tz: tzinfo) -> None:
        self.api = api
        self.admin = FeishuAdminApi(api)
        self.views = ViewSettings(self.admin, app, tz)
        self.app = app
        self.tz = tz
        self._fields: dict[str, list[FieldInfo]] = {}

    # ------------------------------------------------------------------------ dispatch
    async def run(self, action: str, table: TableSchema | None, args: dict[str, Any]) -> dict[str, Any]:
        """One action of feishu_read (``what``), feishu_update or feishu_delete; ``args``: view,
        role, data, members."""
        view, role, members = args.get("view"), args.get("role"), args.get("members")
        if action in READS:
            return await self.read(action, table, view, role)
        if action in UPDATES:
            return await self.update(action, args.get("data"), table, view, role, members)
        if action == "delete_role" and members:
            raise InputError("delete_role takes no members; to remove members use action=remove_members.")
        return await self.delete(action, role, members)

    async def read(
        self, what: str, table: TableSchema | None, view: str | None, role: str | None
    ) -> dict[str, Any]:
        if what == "app":
            return {"app": _app_out(await self.admin.get_app(self.app))}
        if what == "dashboards":
            return {"dashboards": [_dashboard_out(d) for d in await self.admin.list_dashboards(self.app)]}
        if what == "form":
            assert table is not None
            return await self.views.read_form(table, form_id_of(table, view))
        if what == "view":
            assert table is not None
            view_id = view_id_of(table, view)
            return {
                "view": self.views.view_out(await self.admin.get_view(self.app, table.id, view_id), table)
            }
        if what == "roles":
            return await self._advanced(self._read_roles())
        return await self._advanced(self._read_members(role))

    async def update(
        self,
        action: str,
        data: Any,
        table: TableSchema | None,
        view: str | None,
        role: str | None,
        members: Any,
    ) -> dict[str, Any]:
        if action == "add_members":
            _data(action, data)
            return await self._advanced(self._change_members(role, members, add=True))
        values = _data(action, data)
        if action == "update_app":
            return await self._update_app(values)
        if action == "copy_dashboard":
            return await self._copy_dashboard(values)
        if action in ("create_role", "update_role"):
            return await self._advanced(self._save_role(values, role if action == "update_role" else None))
        assert table is not None
        if action == "update_form":
            return await self.views.update_form(table, form_id_of(table, view), values)
        if action == "update_question":
            return await self.views.update_question(table, form_id_of(table, view), values)
        return await self.views.update_view(table, view_id_of(table, view), values)

    async def delete(self, action: str, role: str | None, members: Any) -> dict[str, Any]:
        if action == "delete_role":
            return await self._advanced(self._delete_role(role))
        return await self._advanced(self._change_members(role, members, add=False))

    async def _advanced(self, work: Any) -> dict[str, Any]:
        """Run a role/member call; explain OperationTypeError (advanced permissions off, or just
        switched on and not applied yet, A.7)."""
        try:
            result: dict[str, Any] = await work
            return result
        except ProviderError as exc:
            if exc.code != 1254301:
                raise
            if (await self.admin.get_app(self.app)).get("is_advanced"):
                raise ProviderError(
                    f"Advanced permissions of base {self.app!r} were just switched on and Feishu is still applying "
                    "them: call the tool again in a few seconds.",
                    kind="fatal",
                    provider="feishu",
                    code=exc.code,
                    request_id=exc.request_id,
                ) from None
            raise

    # ------------------------------------------------------------------------ app, dashboards
    async def _update_app(self, data: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if "name" in data:
            body["name"] = check_name(data["name"], "data.name")
            if any(c in body["name"] for c in "[]:\\/?*"):
                raise InputError("data.name: a base name has none of [ ] : \\ / ? *.")
        if "advanced" in data:
            check_type(data, "advanced", bool, "true or false")
            body["is_advanced"] = data["advanced"]
        try:
            app = await self.admin.update_app(self.app, body)
        except ProviderError as exc:
            if exc.code == 1254301:
                exc.message = (
                    f"Base {self.app!r} cannot have advanced permissions (bases inside Docs, Sheets or the Wiki "
                    "cannot)."
                )
            if "name" in body and "is_advanced" in body:  # A.11: the name changes first, then the switch
                current = await self.admin.get_app(self.app)
                if current.get("name") == body["name"]:
                    exc.message += (
                        f" The name was changed to {body['name']!r}; advanced permissions were not."
                    )
            raise
        if not app.get("app_token"):
            app = await self.admin.get_app(self.app)
        return {"app": _app_out(app)}

    async def _copy_dashboard(self, data: dict[str, Any]) -> dict[str, Any]:
        name = check_name(data.get("name"), "data.name (the copy's name)")
        if "[" in name or "]" in name:
            raise InputError("data.name: a dashboard name has no [ or ].")
        if not isinstance(data.get("dashboard"), str):
            raise InputError("data.dashboard: the dashboard to copy, by id or name.")
        dashboards = await self.admin.list_dashboards(self.app)
        source = _pick(dashboards, data["dashboard"], "block_id", "name", "dashboard", "the dashboards are")
        if any(d.get("name") == name for d in dashboards):
            raise InputError(f"A dashboard named {name!r} already exists; pick another name.")
        copy = await self.admin.copy_dashboard(self.app, str(source["block_id"]), name)
        return {"dashboard": _dashboard_out(copy if copy.get("block_id") else {"name": name})}

    # ------------------------------------------------------------------------ roles
    async def _table_fields(self, table_id: str) -> list[FieldInfo]:
        if table_id not in self._fields:
            self._fields[table_id] = [
                ff.field_info(f) for f in await self.api.list_fields(self.app, table_id)
            ]
        return self._fields[table_id]

    async def _roles_out(self, roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        dashboards: dict[str, str] = {}
        if any(r.get("block_roles") for r in roles):
            dashboards = {
                str(d.get("block_id")): str(d.get("name", ""))
                for d in await self.admin.list_dashboards(self.app)
            }
        fields: dict[str, list[FieldInfo]] = {}
        for role in roles:
            for t in role.get("table_roles") or []:
                rule = t.get("rec_rule") or {}
                if any(c.get("value") for c in rule.get("conditions") or []):
                    fields[str(t["table_id"])] = await self._table_fields(str(t["table_id"]))
        return [rr.role_out(r, fields, dashboards) for r in roles]

    async def _read_roles(self) -> dict[str, Any]:
        return {"roles": await self._roles_out(await self.admin.list_roles(self.app))}

    async def _role(self, key: str | None, roles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        if not isinstance(key, str) or not key.strip():
            raise InputError("role is required: the role's id or name (feishu_read what=roles lists them).")
        if roles is None:
            roles = await self.admin.list_roles(self.app)
        return _pick(roles, key.strip(), "role_id", "role_name", "role", "the roles are")

    async def _save_role(self, data: dict[str, Any], key: str | None) -> dict[str, Any]:
        roles = await self.admin.list_roles(self.app)
        current = None if key is None else await self._role(key, roles)
        if current is None and "name" not in data:
            raise InputError("create_role needs data.name (the role's name).")
        name = check_name(data["name"], "data.name") if "name" in data else str(current["role_name"])  # type: ignore[index]
        if any(
            r.get("role_name") == name and (current is None or r.get("role_id") != current.get("role_id"))
            for r in roles
        ):
            raise InputError(f"A role named {name!r} already exists in this base; pick another name.")
        if current is None and len(roles) >= MAX_ROLES:
            raise InputError(
                f"This base has {len(roles)} custom roles, as many as Feishu allows; delete one first."
            )
        body: dict[str, Any] = (
            rr.role_native(current) if current else {"role_name": name, "table_roles": [], "block_roles": []}
        )
        body["role_name"] = name
        if "tables" in data:
            body["table_roles"] = _merge(
                body["table_roles"], await self._table_roles(data["tables"]), "table_id"
            )
        if "dashboards" in data:
            body["block_roles"] = _merge(
                body["block_roles"], await self._block_roles(data["dashboards"]), "block_id"
            )
        if current is None:
            saved = await self.admin.create_role(self.app, body)
        else:
            role_id = str(current["role_id"])
            saved = await self.admin.update_role(self.app, role_id, body)
            saved = {**saved, "role_id": role_id} if saved.get("role_name") else await self._role(role_id)
        return {"role": (await self._roles_out([saved]))[0]}

    async def _table_roles(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or len(raw) > rr.MAX_ITEMS:
            raise InputError(
                f'data.tables must be a list (at most {rr.MAX_ITEMS}) like [{{"table": "Deals", "perm": "read"}}]; '
                "perm: none, read, edit_records or edit_all."
            )
        tables = {str(t["table_id"]): str(t.get("name", "")) for t in await self.api.list_tables(self.app)}
        needed = {
            str(item.get("table", item.get("id")))
            for item in raw
            if isinstance(item, dict) and (item.get("fields") or item.get("records"))
        }
        fields: dict[str, list[FieldInfo]] = {}
        for table_id, table_name in tables.items():
            if table_id in needed or table_name in needed:
                fields[table_id] = await self._table_fields(table_id)
        out = [
            rr.table_role(item, f"data.tables[{i}]", tables, lambda tid: fields.get(tid, []))
            for i, item in enumerate(raw)
        ]
        ids = [t["table_id"] for t in out]
        if len(set(ids)) != len(ids):
            raise InputError("data.tables names a table twice; give each table once.")
        return out

    async def _block_roles(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or len(raw) > rr.MAX_ITEMS:
            raise InputError(
                'data.dashboards must be a list like [{"dashboard": "Overview", "perm": "read"}].'
            )
        dashboards = {
            str(d.get("block_id")): str(d.get("name", "")) for d in await self.admin.list_dashboards(self.app)
        }
        out = [rr.block_role(item, f"data.dashboards[{i}]", dashboards) for i, item in enumerate(raw)]
        ids = [b["block_id"] for b in out]
        if len(set(ids)) != len(ids):
            raise InputError("data.dashboards names a dashboard twice; give each dashboard once.")
        return out

    async def _delete_role(self, key: str | None) -> dict[str, Any]:
        role = await self._role(key)
        await self.admin.delete_role(self.app, str(role["role_id"]))
        return {"deleted": True, "role": {"id": role["role_id"], "name": role.get("role_name", "")}}

    # ------------------------------------------------------------------------ members
    async def _read_members(self, key: str | None) -> dict[str, Any]:
        role = await self._role(key)
        items = await self.admin.list_members(self.app, str(role["role_id"]))
        return {
            "role": {"id": role["role_id"], "name": role.get("role_name", "")},
            "members": [rr.member_out(m, self.api.user_id_type) for m in items],
        }

    async def _change_members(self, key: str | None, raw: Any, *, add: bool) -> dict[str, Any]:
        verb = "add_members" if add else "remove_members"
        if not isinstance(raw, list) or not raw:
            raise InputError(f'{verb} needs members: a list of ids ("ou_...") or {{"id", "type"}}.')
        wanted = list(
            {
                (m["type"], m["id"]): m
                for m in (rr.member_ref(r, f"members[{i}]", self.api.user_id_type) for i, r in enumerate(raw))
            }.values()
        )
        role = await self._role(key)
        role_id = str(role["role_id"])
        items = await self.admin.list_members(self.app, role_id)
        todo = [m for m in wanted if is_member(m, items) != add]
        skipped = [m for m in wanted if is_member(m, items) == add]
        if add and len(items) + len(todo) > MAX_MEMBERS:
            raise InputError(
                f"Role {role.get('role_name')!r} has {len(items)} members; adding {len(todo)} would pass Feishu's "
                f"limit of {MAX_MEMBERS}. Nothing was changed."
            )
        done = 0
        try:
            for part in chunked(todo, MEMBER_BATCH):
                await self.admin.change_members(self.app, role_id, part, add=add, batch=len(todo) > 1)
                done += len(part)
        except ProviderError as exc:
            if not done:
                raise
            raise PartialWriteError(
                f"{'Added' if add else 'Removed'} {done} of {len(todo)} members, then: {exc} Call {verb} again with "
                "the same members to finish (those already done are skipped).",
                done=done,
            ) from None
        out: dict[str, Any] = {"role": {"id": role_id, "name": role.get("role_name", "")}}
        if add:
            out.update(added=todo, already=skipped)
        else:
            out.update(removed=todo, not_members=skipped)
        return out


# ----------------------------------------------------------------------------- shapes
def _app_out(app: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": app.get("app_token", ""), "name": app.get("name", "")}
    if "revision" in app:
        out["revision"] = app["revision"]
    out["advanced"] = bool(app.get("is_advanced"))
    return out


def _dashboard_out(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw.get("block_id", ""), "name": raw.get("name", "")}


def _merge(current: list[dict[str, Any]], given: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``given`` entries replace the current ones of the same table (dashboard); others are kept."""
    replaced = {g[key] for g in given}
    return [c for c in current if c.get(key) not in replaced] + given
