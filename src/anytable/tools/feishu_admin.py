"""feishu_read, feishu_update, feishu_delete: the rest of a Feishu/Lark base (app metadata,
dashboards, views, forms, custom roles and their members). Listed only when the feishu provider is
enabled; split so that each tool's annotations are exact (reads; changes that remove nothing;
deletions). The work is in ``anytable.providers.feishu.admin``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from anytable.core.addressing import Address
from anytable.core.service import Anytable
from anytable.errors import InputError
from anytable.providers.feishu import FeishuProvider
from anytable.providers.feishu.admin import NEEDS_TABLE, FeishuAdmin
from anytable.schemas.fields import TableSchema
from anytable.schemas.inputs import BaseArg, ProviderArg, TableArg
from anytable.server.registrar import Registrar
from anytable.server.results import run


def _object(schema: dict[str, Any]) -> None:
    schema.clear()
    schema["type"] = "object"


class FeishuOut(BaseModel):
    """A result object; its keys are those the tool description names (app, dashboards, form and
    questions, view, roles, role and members, added/already, removed/not_members, deleted). The
    published schema is just ``{"type": "object"}``: every byte of tools/list costs the agent."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_object)


ViewArg = Annotated[str | None, Field(description="view or form id or name")]
RoleArg = Annotated[str | None, Field(description="role id or name")]
# feishu_update and feishu_delete take the same table/view/role as feishu_read, which describes them.
Name = str | None
DataArg = Annotated[dict[str, Any] | None, WithJsonSchema({"type": "object"})]
MembersArg = Annotated[list[Any] | None, WithJsonSchema({"type": "array"})]


READ = (
    "Feishu/Lark base settings: app, dashboards, form (settings, questions), view (filter, hidden fields), "
    "roles, members (of role)."
)
UPDATE = (
    "Change Feishu/Lark base settings. data: update_app {name,advanced}; copy_dashboard {dashboard,name}; "
    "update_form (view) {name,description,shared,shared_limit,submit_limit_once}; update_question (view) "
    "{question,title,description,required,visible,after}; update_view {name,filter: where,hidden_fields}; "
    "create_role|update_role (role) {name,tables:[{table,perm: none|read|edit_records|edit_all,add_records,"
    "delete_records,fields:{<field>:read|edit},records}],dashboards:[{dashboard,perm: none|read}]}, unlisted "
    'kept; add_members (role, members: ["ou_.."] or [{id,type}]).'
)
DELETE = 'Delete a custom role, or remove members (["ou_.."] or [{id,type}]) from a role.'


def _address(svc: Anytable, tool: str, provider: str | None, base: str | None, table: str | None) -> Address:
    """Feishu's address of the arguments; anything else is refused plainly."""
    if provider is not None and provider != "feishu":
        raise InputError(f"{tool} manages Feishu/Lark bases only: leave provider out (or pass 'feishu').")
    if base and base.strip().lower().startswith(("http://", "https://")):
        for pid, spec in svc.specs.items():
            if pid != "feishu" and spec.parse_url(base.strip()) is not None:
                raise InputError(f"{tool} manages Feishu/Lark bases only; base is a {spec.title} link.")
    return svc.address("feishu", base, table)


async def _prepare(
    svc: Anytable, tool: str, action: str, provider: str | None, base: str | None, table: str | None
) -> tuple[FeishuAdmin, Address, TableSchema | None]:
    addr = _address(svc, tool, provider, base, table)
    if not isinstance(addr.provider, FeishuProvider):  # pragma: no cover - the address is feishu's
        raise InputError(f"{tool} manages Feishu/Lark bases only.")
    schema = await svc.schema(addr, fresh=True) if action in NEEDS_TABLE else None
    return FeishuAdmin(addr.provider.api, addr.base, svc.tz), addr, schema


def register(reg: Registrar) -> None:
    svc = reg.svc
    if "feishu" not in svc.providers:
        return

    async def feishu_read(
        what: Literal["app", "dashboards", "form", "view", "roles", "members"],
        table: TableArg = None,
        view: ViewArg = None,
        role: RoleArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, FeishuOut]:
        async def work() -> dict[str, Any]:
            admin, addr, schema = await _prepare(svc, "feishu_read", what, provider, base, table)
            return await admin.read(what, schema, view or addr.view, role)

        return await run("feishu_read", work())

    async def feishu_update(
        action: Literal[
            "update_app",
            "copy_dashboard",
            "update_form",
            "update_question",
            "update_view",
            "create_role",
            "update_role",
            "add_members",
        ],
        data: DataArg = None,
        table: Name = None,
        view: Name = None,
        role: Name = None,
        members: MembersArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, FeishuOut]:
        async def work() -> dict[str, Any]:
            admin, addr, schema = await _prepare(svc, "feishu_update", action, provider, base, table)
            try:
                return await admin.update(action, data, schema, view or addr.view, role, members)
            finally:
                if schema is not None and action == "update_view":
                    svc.forget(addr, schema.id)

        return await run("feishu_update", work())

    async def feishu_delete(
        action: Literal["delete_role", "remove_members"],
        role: Name = None,
        members: MembersArg = None,
        provider: ProviderArg = None,
        base: BaseArg = None,
    ) -> Annotated[CallToolResult, FeishuOut]:
        async def work() -> dict[str, Any]:
            admin, _, _ = await _prepare(svc, "feishu_delete", action, provider, base, None)
            if action == "delete_role" and members:
                raise InputError("delete_role takes no members; to remove members use action=remove_members.")
            return await admin.delete(action, role, members)

        return await run("feishu_delete", work())

    reg.add(feishu_read, READ, kind="read")
    reg.add(feishu_update, UPDATE, kind="write")
    reg.add(feishu_delete, DELETE, kind="destructive", idempotent=True)
