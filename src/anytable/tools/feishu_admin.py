"""feishu_read, feishu_update, feishu_delete: the ``feishu`` toolset, the rest of a Feishu/Lark
base (app metadata, dashboards, views, forms, custom roles and their members). Listed only when
the feishu provider is enabled (``FeishuProvider.toolsets``); split so that each tool's annotations
are exact (reads; changes that remove nothing; deletions). The work is the provider's
(``Provider.administer``, in ``anytable.providers.feishu.admin``), reached through
``anytable.core.admin``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from anytable.core.admin import administer
from anytable.core.service import Anytable
from anytable.schemas.inputs import BaseArg, ProviderArg, TableArg
from anytable.tools.toolset import Tool, Toolset


class FeishuOut(BaseModel):
    """A result object; its keys are those the tool description names (app, dashboards, form and
    questions, view, roles, role and members, added/already, removed/not_members, deleted)."""

    model_config = ConfigDict(extra="allow")


Name = str | None  # a table, view (or form) or role: its id or name
DataArg = Annotated[dict[str, Any] | None, WithJsonSchema({"type": "object"})]
MembersArg = Annotated[list[Any] | None, WithJsonSchema({"type": "array"})]


READ = (
    "Feishu/Lark settings: app, dashboards, roles, members (role), view (filter, hidden fields) or form and "
    "questions (view)."
)
UPDATE = (
    "Change Feishu/Lark settings; data keys per action: update_app name,advanced; copy_dashboard dashboard,name; "
    "update_form (view) name,description,shared,shared_limit,submit_limit_once; update_question (view) question,"
    "title,description,required,visible,after; update_view (view) name,filter,hidden_fields; create_role|"
    "update_role (role) name,tables:[{table,perm:none|read|edit_records|edit_all,add_records,delete_records,"
    "fields:{<field>:read|edit},records}],dashboards:[{dashboard,perm:none|read}], unlisted kept; add_members "
    "(role, members as feishu_delete)."
)
DELETE = 'Delete a custom role, or remove members (["ou_.."] or [{id,type}]) from a role.'


async def feishu_read(
    svc: Anytable,
    what: Literal["app", "dashboards", "form", "view", "roles", "members"],
    table: TableArg = None,
    view: Name = None,
    role: Name = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await administer(
        svc,
        "feishu_read",
        "feishu",
        what,
        provider=provider,
        base=base,
        table=table,
        changes=False,
        view=view,
        role=role,
    )


async def feishu_update(
    svc: Anytable,
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
) -> dict[str, Any]:
    return await administer(
        svc, "feishu_update", "feishu", action, provider=provider, base=base, table=table, changes=True,
        data=data, view=view, role=role, members=members,
    )  # fmt: skip


async def feishu_delete(
    svc: Anytable,
    action: Literal["delete_role", "remove_members"],
    role: Name = None,
    members: MembersArg = None,
    provider: ProviderArg = None,
    base: BaseArg = None,
) -> dict[str, Any]:
    return await administer(
        svc,
        "feishu_delete",
        "feishu",
        action,
        provider=provider,
        base=base,
        changes=True,
        role=role,
        members=members,
    )


TOOLSET = Toolset(
    "feishu",
    (
        Tool(feishu_read, FeishuOut, READ, kind="read"),
        Tool(feishu_update, FeishuOut, UPDATE, kind="write"),
        Tool(feishu_delete, FeishuOut, DELETE, kind="destructive", idempotent=True),
    ),
)
