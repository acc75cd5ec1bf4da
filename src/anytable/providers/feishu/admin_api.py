"""The Feishu/Lark base-administration endpoints (app metadata, dashboards, one view's settings,
forms, custom roles and their members, A.10-A.49) over :meth:`FeishuApi.call`.

None of them takes a client_token: a write whose answer is lost is reconciled by reading back (the
change is there, or it is sent again), never repeated blindly; ``holds``, ``view_holds`` and
``role_settings`` compare what was asked with what Feishu shows.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from anytable.errors import ProviderError
from anytable.providers.http import NOT_APPLIED

from .api import FeishuApi
from .errors import Where

ROLE_PAGE = 30  # custom roles (A.41: page_size max 30)
MEMBER_BATCH = 100  # member_list of batch_create / batch_delete (A.45, A.46: 最大长度 100)


class FeishuAdminApi:
    """The administration endpoints of a base, over one ``FeishuApi`` (its token, limits, retries)."""

    def __init__(self, api: FeishuApi) -> None:
        self.api = api

    async def _change(
        self,
        method: str,
        path: str,
        key: str,
        body: dict[str, Any],
        *,
        api: str,
        where: Where,
        now: Callable[[], Awaitable[dict[str, Any]]],
        write_to: tuple[str, str] | None = None,
        same: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Send a settings change and return ``data[key]``; after a lost answer, read the settings
        back (``now``): the change is done when they already are as ``body`` asks (``same``, by
        default every key of ``body`` as sent)."""

        async def reconcile() -> Any:
            current = await now()
            return {key: current} if (same or holds)(body, current) else NOT_APPLIED

        data = await self.api.call(
            method,
            path,
            api=api,
            where=where,
            json=body,
            write_to=write_to,
            idempotent=False,
            reconcile=reconcile,
        )
        result: dict[str, Any] = data.get(key) or {}
        return result

    # ------------------------------------------------------------------------- app metadata
    async def get_app(self, app: str) -> dict[str, Any]:
        """A.10: ``{app_token, name, revision, is_advanced}``."""
        data = await self.api.call("GET", f"/apps/{app}", api="apps.get", where=self.api.where(app))
        return data.get("app") or {}

    async def update_app(self, app: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.11 (name and/or is_advanced; not atomic: the name changes first)."""
        return await self._change(
            "PUT", f"/apps/{app}", "app", body, api="apps.update", where=self.api.where(app),
            now=lambda: self.get_app(app),
        )  # fmt: skip

    # ------------------------------------------------------------------------- dashboards
    async def list_dashboards(self, app: str) -> list[dict[str, Any]]:
        """A.19: ``[{block_id, name}]``."""
        path = f"/apps/{app}/dashboards"
        return [
            d
            async for d in self.api.pages(
                path, api="dashboards.list", where=self.api.where(app), key="dashboards"
            )
        ]

    async def copy_dashboard(self, app: str, block_id: str, name: str) -> dict[str, Any]:
        """A.18: ``{block_id, name}`` of the copy (dashboard names are unique: 1254039)."""

        async def reconcile() -> Any:
            found = [d for d in await self.list_dashboards(app) if d.get("name") == name]
            return found[0] if found else NOT_APPLIED

        return await self.api.call(
            "POST",
            f"/apps/{app}/dashboards/{block_id}/copy",
            api="dashboards.copy",
            where=self.api.where(app),
            json={"name": name},
            idempotent=False,
            reconcile=reconcile,
            bare=True,
        )

    # ------------------------------------------------------------------------- one view
    async def get_view(self, app: str, table_id: str, view_id: str) -> dict[str, Any]:
        """A.21: ``{view_id, view_name, view_type, property: {filter_info, hidden_fields}}``."""
        path = f"/apps/{app}/tables/{table_id}/views/{view_id}"
        data = await self.api.call(
            "GET", path, api="views.get", where=self.api.where(app, table_id, view=view_id)
        )
        return data.get("view") or {}

    async def update_view(
        self, app: str, table_id: str, view_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.20 (view_name, property.filter_info, property.hidden_fields)."""
        return await self._change(
            "PATCH", f"/apps/{app}/tables/{table_id}/views/{view_id}", "view", body, api="views.patch",
            where=self.api.where(app, table_id, view=view_id), now=lambda: self.get_view(app, table_id, view_id),
            write_to=(app, table_id), same=view_holds,
        )  # fmt: skip

    # ------------------------------------------------------------------------- forms
    async def get_form(self, app: str, table_id: str, form_id: str) -> dict[str, Any]:
        """A.26: ``{name, description, shared, shared_url, shared_limit, submit_limit_once}``."""
        path = f"/apps/{app}/tables/{table_id}/forms/{form_id}"
        data = await self.api.call(
            "GET", path, api="forms.get", where=self.api.where(app, table_id, view=form_id)
        )
        return data.get("form") or {}

    async def update_form(
        self, app: str, table_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.25 (only the keys given change)."""
        return await self._change(
            "PATCH", f"/apps/{app}/tables/{table_id}/forms/{form_id}", "form", body, api="forms.patch",
            where=self.api.where(app, table_id, view=form_id), now=lambda: self.get_form(app, table_id, form_id),
            write_to=(app, table_id),
        )  # fmt: skip

    async def list_form_fields(self, app: str, table_id: str, form_id: str) -> list[dict[str, Any]]:
        """A.28: ``[{field_id, title, description, required, visible}]`` in question order."""
        path = f"/apps/{app}/tables/{table_id}/forms/{form_id}/fields"
        where = self.api.where(app, table_id, view=form_id)
        return [q async for q in self.api.pages(path, api="form_fields.list", where=where)]

    async def update_form_field(
        self, app: str, table_id: str, form_id: str, field_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A.27 (pre_field_id moves the question after another one; "" makes it the first)."""

        async def reconcile() -> Any:
            questions = await self.list_form_fields(app, table_id, form_id)
            ids = [q.get("field_id") for q in questions]
            if field_id not in ids:
                return NOT_APPLIED
            at = ids.index(field_id)
            question = questions[at]
            if not holds({k: v for k, v in body.items() if k != "pre_field_id"}, question):
                return NOT_APPLIED
            if "pre_field_id" in body and (ids[at - 1] if at else "") != body["pre_field_id"]:
                return NOT_APPLIED
            return {"field": {**question, "pre_field_id": ids[at - 1] if at else ""}}

        data = await self.api.call(
            "PATCH",
            f"/apps/{app}/tables/{table_id}/forms/{form_id}/fields/{field_id}",
            api="form_fields.patch",
            where=self.api.where(app, table_id, view=form_id, field=field_id),
            json=body,
            write_to=(app, table_id),
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("field") or {}

    # ------------------------------------------------------------------------- custom roles
    async def list_roles(self, app: str) -> list[dict[str, Any]]:
        """A.41: every custom role (page_size at most 30)."""
        path = f"/apps/{app}/roles"
        return [
            r
            async for r in self.api.pages(
                path, api="roles.list", where=self.api.where(app), page_size=ROLE_PAGE
            )
        ]

    async def create_role(self, app: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.42; the role with its role_id (role names are unique: 1254033)."""
        name = body.get("role_name")

        async def find() -> Any:
            found = [r for r in await self.list_roles(app) if r.get("role_name") == name]
            return {"role": found[0]} if found else NOT_APPLIED

        data = await self.api.call(
            "POST",
            f"/apps/{app}/roles",
            api="roles.create",
            where=self.api.where(app, role=name),
            json=body,
            idempotent=False,
            reconcile=find,
        )
        role = data.get("role")
        if isinstance(role, dict) and role.get("role_id"):
            return role
        found = await find()  # A.42 documents no answer body: look the new role up
        if found is NOT_APPLIED:
            raise ProviderError(
                f"Feishu accepted the new role {name!r} but does not list it; check the roles before trying again.",
                provider="feishu",
            )
        return dict(found["role"])

    async def update_role(self, app: str, role_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A.44: a full replacement of the role's settings."""

        async def reconcile() -> Any:
            found = [r for r in await self.list_roles(app) if r.get("role_id") == role_id]
            if found and role_settings(found[0]) == role_settings(body):
                return {"role": found[0]}
            return NOT_APPLIED

        data = await self.api.call(
            "PUT",
            f"/apps/{app}/roles/{role_id}",
            api="roles.update",
            where=self.api.where(app, role=role_id),
            json=body,
            idempotent=False,
            reconcile=reconcile,
        )
        return data.get("role") or {}

    async def delete_role(self, app: str, role_id: str) -> dict[str, Any]:
        """A.43."""

        async def reconcile() -> Any:
            present = any(r.get("role_id") == role_id for r in await self.list_roles(app))
            return NOT_APPLIED if present else {}

        return await self.api.call(
            "DELETE",
            f"/apps/{app}/roles/{role_id}",
            api="roles.delete",
            where=self.api.where(app, role=role_id),
            idempotent=False,
            reconcile=reconcile,
        )

    # ------------------------------------------------------------------------- role members
    async def list_members(self, app: str, role_id: str) -> list[dict[str, Any]]:
        """A.47: ``[{member_type, member_name, member_en_name, open_id, union_id, user_id, chat_id,
        department_id, open_department_id}]`` (the ids that apply to the member's type)."""
        path = f"/apps/{app}/roles/{role_id}/members"
        return [
            m async for m in self.api.pages(path, api="members.list", where=self.api.where(app, role=role_id))
        ]

    async def change_members(
        self, app: str, role_id: str, members: list[dict[str, str]], *, add: bool, batch: bool
    ) -> dict[str, Any]:
        """Add (A.48 one member, A.46 a batch) or remove (A.49, A.45) members ``{"type", "id"}``;
        a batch holds at most ``MEMBER_BATCH``. A lost answer is settled by listing the members."""

        async def reconcile() -> Any:
            items = await self.list_members(app, role_id)
            done = all(is_member(m, items) == add for m in members)
            return {} if done else NOT_APPLIED

        path = f"/apps/{app}/roles/{role_id}/members"
        params: dict[str, str] | None = None
        body: dict[str, Any] | None = None
        if batch:
            verb = "batch_create" if add else "batch_delete"
            method, path, api, body = "POST", f"{path}/{verb}", f"members.{verb}", {"member_list": members}
        else:
            member = members[0]
            params = {"member_id_type": member["type"]}
            if add:
                method, api, body = "POST", "members.create", {"member_id": member["id"]}
            else:
                method, path, api = "DELETE", f"{path}/{quote(member['id'], safe='')}", "members.delete"
        return await self.api.call(
            method,
            path,
            api=api,
            where=self.api.where(app, role=role_id),
            params=params,
            json=body,
            idempotent=False,
            reconcile=reconcile,
        )


# ----------------------------------------------------------------------------- reading back
def holds(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether every key of a flat update is already as asked."""
    return all(current.get(key) == value for key, value in wanted.items())


def is_member(member: dict[str, str], items: list[dict[str, Any]]) -> bool:
    """Whether ``{"type", "id"}`` is among the members A.47 listed."""
    return any(item.get(member["type"]) == member["id"] for item in items)


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _filter_key(info: Any) -> Any:
    if not isinstance(info, dict) or not info.get("conditions"):
        return None
    conditions = sorted(
        json.dumps([c.get("field_id"), c.get("operator"), _json_value(c.get("value"))], sort_keys=True)
        for c in info["conditions"]
        if isinstance(c, dict)
    )
    return info.get("conjunction") or "and", conditions


def view_holds(body: dict[str, Any], view: dict[str, Any]) -> bool:
    """Whether a view (A.21) already is as an update body (A.20) asks."""
    if "view_name" in body and view.get("view_name") != body["view_name"]:
        return False
    wanted = body.get("property") or {}
    current = view.get("property") or {}
    if "hidden_fields" in wanted and set(wanted["hidden_fields"] or []) != set(
        current.get("hidden_fields") or []
    ):
        return False
    return "filter_info" not in wanted or _filter_key(wanted["filter_info"]) == _filter_key(
        current.get("filter_info")
    )


def role_settings(role: dict[str, Any]) -> Any:
    """A role's settings in one comparable form, whether from a request (A.42/A.44) or a list (A.41):
    defaults filled in, what a permission level makes meaningless left out."""
    tables = []
    for t in role.get("table_roles") or []:
        perm = t.get("table_perm", 0)
        entry: list[Any] = [t.get("table_id"), perm]
        if perm == 2:
            entry += [
                t.get("allow_add_record", t.get("addrecords_perm", True)),
                t.get("allow_delete_record", t.get("deleterecords_perm", True)),
                sorted((t.get("field_perm") or {}).items()),
            ]
        rule = t.get("rec_rule")
        if perm in (1, 2) and isinstance(rule, dict):
            conditions = sorted(
                json.dumps(
                    [
                        c.get("field_name"),
                        c.get("operator")
                        if c.get("value") or c.get("operator") in ("isEmpty", "isNotEmpty")
                        else "",
                        sorted(c.get("value") or []),
                    ]
                )
                for c in rule.get("conditions") or []
            )
            entry += [rule.get("conjunction") or "and", rule.get("other_perm", 0), conditions]
        tables.append(json.dumps(entry, sort_keys=True, default=str))
    blocks = sorted((b.get("block_id"), b.get("block_perm", 0)) for b in role.get("block_roles") or [])
    return role.get("role_name"), sorted(tables), blocks
