"""Units of the Feishu base administration: view filters both ways, the role comparison used to
reconcile a lost answer, and answer shapes the reference documents loosely (a bare copied
dashboard, A.18; a new role with no answer body, A.42).

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from anytable.errors import InputError
from anytable.providers.feishu import FeishuApi
from anytable.providers.feishu.admin_api import FeishuAdminApi, role_settings, view_holds
from anytable.providers.feishu.fields import field_info
from anytable.providers.feishu.viewfilter import from_filter_info, to_filter_info
from anytable.schemas.fields import TableSchema
from anytable.schemas.filters import parse_where
from tests.providers.feishu_harness import FAST

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")
OPTIONS = [{"name": "Lead", "id": "optLead", "color": 0}, {"name": "Won", "id": "optWon", "color": 1}]
TABLE = TableSchema(
    id="tbl1",
    name="Deals",
    fields=[
        field_info({"field_id": "fldT", "field_name": "Title", "type": 1, "is_primary": True}),
        field_info({"field_id": "fldS", "field_name": "Stage", "type": 3, "property": {"options": OPTIONS}}),
        field_info({"field_id": "fldM", "field_name": "Tags", "type": 4, "property": {"options": OPTIONS}}),
        field_info({"field_id": "fldO", "field_name": "Owner", "type": 11}),
        field_info({"field_id": "fldA", "field_name": "Amount", "type": 2}),
        field_info({"field_id": "fldD", "field_name": "Due", "type": 5}),
        field_info({"field_id": "fldC", "field_name": "Done", "type": 7}),
        field_info({"field_id": "fldL", "field_name": "Link", "type": 18, "property": {"table_id": "tbl1"}}),
    ],
)


def native(where: Any) -> dict[str, Any]:
    return to_filter_info(parse_where(where, TABLE, TZ), TZ)


@pytest.mark.parametrize(
    ("where", "condition"),
    [
        ({"field": "Title", "op": "contains", "value": "x"}, ("fldT", "contains", ["x"])),
        ({"field": "Stage", "op": "neq", "value": "Won"}, ("fldS", "isNot", ["optWon"])),
        ({"field": "Stage", "op": "in", "value": ["Lead", "Won"]}, ("fldS", "is", ["optLead", "optWon"])),
        ({"field": "Tags", "op": "contains", "value": "Won"}, ("fldM", "contains", ["optWon"])),
        ({"field": "Tags", "op": "eq", "value": ["Lead", "Won"]}, ("fldM", "is", ["optLead", "optWon"])),
        ({"field": "Owner", "op": "contains", "value": "ou_a"}, ("fldO", "contains", ["ou_a"])),
        ({"field": "Amount", "op": "lte", "value": 3.5}, ("fldA", "isLessEqual", ["3.5"])),
        ({"field": "Done", "op": "neq", "value": True}, ("fldC", "is", ["false"])),
        ({"field": "Done", "op": "eq", "value": True}, ("fldC", "is", ["true"])),
        ({"field": "Due", "op": "eq", "value": "2026-11-22"}, ("fldD", "is", ["ExactDate", "1795276800000"])),
        (
            {"field": "Due", "op": "lte", "value": "2026-11-22"},
            ("fldD", "isLess", ["ExactDate", "1795363200000"]),
        ),
        ({"field": "Link", "op": "is_empty"}, ("fldL", "isEmpty", None)),
    ],
)
def test_where_to_view_filter(where: dict[str, Any], condition: tuple[str, str, list[str] | None]) -> None:
    info = native(where)
    cond = info["conditions"][0]
    assert info["conjunction"] == "and" and (cond["field_id"], cond["operator"]) == condition[:2]
    assert (json.loads(cond["value"]) if "value" in cond else None) == condition[2]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"field": "Tags", "op": "contains", "value": ["Lead", "Won"]}, "one option or user per contains"),
        ({"field": "Due", "op": "neq", "value": "2026-11-22"}, "whole days"),
        ({"field": "Due", "op": "gt", "value": 1795276800000}, "whole days"),
        ({"field": "Link", "op": "contains", "value": ["rec1"]}, "only with is_empty or is_not_empty"),
        ({"field": "Stage", "op": "contains", "value": "Wo"}, "use eq, neq or in"),
    ],
)
def test_view_filters_that_would_not_mean_the_same_are_refused(where: dict[str, Any], expected: str) -> None:
    with pytest.raises(InputError) as info:
        native(where)
    assert expected in str(info.value)


def test_view_filter_reads_back_as_where() -> None:
    where = {
        "or": [
            {"field": "Stage", "op": "in", "value": ["Lead", "Won"]},
            {"field": "Tags", "op": "contains", "value": "Won"},
            {"field": "Amount", "op": "gt", "value": 10},
            {"field": "Done", "op": "eq", "value": False},
            {"field": "Due", "op": "lt", "value": "2026-11-22"},
            {"field": "Owner", "op": "eq", "value": ["ou_a"]},
            {"field": "Title", "op": "is_not_empty"},
        ]
    }
    back = from_filter_info(native(where), TABLE, TZ)
    assert back == where
    assert from_filter_info(native(None), TABLE, TZ) is None
    relative = {
        "conjunction": "and",
        "conditions": [{"field_id": "fldD", "operator": "is", "value": '["Today"]'}],
    }
    assert from_filter_info(relative, TABLE, TZ) == {"field": "Due", "op": "eq", "value": "Today"}


def test_view_update_is_recognised_when_read_back() -> None:
    body = {
        "view_name": "Big",
        "property": {
            "hidden_fields": ["fldO"],
            "filter_info": native({"field": "Amount", "op": "gt", "value": 1}),
        },
    }
    stored = {
        "view_name": "Big",
        "property": {
            "hidden_fields": ["fldO"],
            "filter_info": {
                "conjunction": "and",
                "condition_omitted": None,
                "conditions": [
                    {
                        "condition_id": "con1",
                        "field_id": "fldA",
                        "field_type": 2,
                        "operator": "isGreater",
                        "value": '["1"]',
                    }
                ],
            },
        },
    }
    assert view_holds(body, stored)
    assert not view_holds({**body, "view_name": "Other"}, stored)
    assert not view_holds({"property": {"hidden_fields": []}}, stored)


def test_role_settings_compare_a_request_with_what_feishu_lists() -> None:
    request = {
        "role_name": "Sales",
        "table_roles": [
            {
                "table_name": "Deals",
                "table_id": "tbl1",
                "table_perm": 2,
                "allow_add_record": False,
                "field_perm": {"Amount": 1},
                "rec_rule": {
                    "conditions": [
                        {"field_name": "Stage", "operator": "is", "value": ["optWon"]},
                        {"field_name": "Owner"},
                    ],
                    "conjunction": "or",
                    "other_perm": 1,
                },
            },
            {"table_name": "Other", "table_id": "tbl2", "table_perm": 1},
        ],
        "block_roles": [{"block_id": "blk1", "block_perm": 1}],
    }
    listed = {
        "role_id": "rol1",
        "role_name": "Sales",
        "table_roles": [
            {"table_name": "Other", "table_id": "tbl2", "table_perm": 1},
            {
                "table_name": "Deals",
                "table_id": "tbl1",
                "table_perm": 2,
                "addrecords_perm": False,  # A.44's spelling
                "deleterecords_perm": True,
                "field_perm": {"Amount": 1},
                "rec_rule": {
                    "conjunction": "or",
                    "other_perm": 1,
                    "conditions": [
                        {"field_name": "Owner", "field_type": 11, "operator": "contains", "value": None},
                        {"field_name": "Stage", "field_type": 3, "operator": "is", "value": ["optWon"]},
                    ],
                },
            },
        ],
        "block_roles": [{"block_id": "blk1", "block_type": "dashboard", "block_perm": 1}],
    }
    assert role_settings(request) == role_settings(listed)
    changed = json.loads(json.dumps(listed))
    changed["table_roles"][1]["field_perm"] = {"Amount": 2}
    assert role_settings(request) != role_settings(changed)


def mock_client(routes: dict[tuple[str, str], Any]) -> tuple[FeishuApi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("tenant_access_token/internal"):
            return httpx.Response(
                200, json={"code": 0, "msg": "ok", "tenant_access_token": "t-abcdef123456", "expire": 7200}
            )
        body = routes[(request.method, request.url.path.split("/bitable/v1")[1])]
        return httpx.Response(200, json=body)

    client = FeishuApi(
        app_id="cli_x",
        app_secret="secret-123456",
        base_url="https://open.feishu.cn",
        transport=httpx.MockTransport(handle),
        retry=FAST,
    )
    return client, seen


async def test_a_copied_dashboard_answered_without_the_envelope_is_understood() -> None:
    client, _ = mock_client(
        {("POST", "/apps/app1/dashboards/blk1/copy"): {"block_id": "blk2", "name": "Copy"}}
    )
    assert await FeishuAdminApi(client).copy_dashboard("app1", "blk1", "Copy") == {
        "block_id": "blk2",
        "name": "Copy",
    }
    await client.aclose()


async def test_a_new_role_answered_without_a_body_is_looked_up() -> None:
    role = {"role_id": "rol9", "role_name": "Sales", "table_roles": [], "block_roles": []}
    client, seen = mock_client(
        {
            ("POST", "/apps/app1/roles"): {"code": 0, "msg": "success", "data": {}},
            ("GET", "/apps/app1/roles"): {
                "code": 0,
                "msg": "success",
                "data": {"items": [role], "has_more": False, "total": 1},
            },
        }
    )
    got = await FeishuAdminApi(client).create_role(
        "app1", {"role_name": "Sales", "table_roles": [], "block_roles": []}
    )
    assert got == role and [r.method for r in seen[1:]] == ["POST", "GET"]
    assert seen[2].url.params["page_size"] == "30"  # A.41: at most 30 roles a page
    await client.aclose()
