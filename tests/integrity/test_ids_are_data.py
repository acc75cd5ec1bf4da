"""Ids are data: an id of the wrong shape is refused before anything is sent, naming it; a delete
naming a missing id never reports it deleted (issue 11)."""

from __future__ import annotations

import pytest

from anytable.errors import ProviderError
from anytable.providers.http import check_path
from tests.harness import Harness

pytestmark = pytest.mark.anyio

BAD = "../x?y=1"


async def test_malformed_ids_are_refused_by_name_and_nothing_is_sent(h: Harness) -> None:
    await h.call("create_table", name="ids", fields=[{"name": "title", "type": "text"}])
    await h.call("create_records", table="ids", records=[{"title": "kept"}])
    sent = len(h.emulator.requests) if h.emulator is not None else 0
    if h.provider != "local":
        for tool, args in (
            ("get_records", {"record_ids": [BAD]}),
            ("delete_records", {"record_ids": ["ok1", BAD]}),
            ("update_records", {"records": [{"id": BAD, "fields": {"title": "x"}}]}),
        ):
            message = await h.fails(tool, table="ids", **args)
            assert repr(BAD) in message and "nothing was sent" in message, message
        args = h.args(table="ids")
        args["base"] = BAD
        result = await h.client.call_tool("describe_table", args)
        text = "".join(getattr(c, "text", "") for c in result.content)
        assert result.is_error and repr(BAD) in text
        assert h.emulator is not None
        assert not [r for r in h.emulator.requests[sent:] if "x?y" in r[1] or "/x" in r[1]], (
            h.emulator.requests[sent:]
        )
    else:  # local ids never reach a path; a bad one is simply not a record
        message = await h.fails("delete_records", table="ids", record_ids=[BAD])
        assert BAD in message
    assert [r["fields"]["title"] for r in await h.all_records("ids")] == ["kept"]


async def test_a_delete_naming_a_missing_id_does_not_report_it_deleted(h: Harness) -> None:
    await h.call("create_table", name="gone", fields=[{"name": "title", "type": "text"}])
    made = await h.call("create_records", table="gone", records=[{"title": "a"}, {"title": "b"}])
    ids = made["ids"] or [r["id"] for r in await h.all_records("gone")]
    await h.call("delete_records", table="gone", record_ids=[ids[0]])
    message = await h.fails("delete_records", table="gone", record_ids=[ids[0]])
    assert ids[0] in message or "not records" in message or "do not exist" in message, message
    assert [r["fields"]["title"] for r in await h.all_records("gone")] == ["b"]


def test_the_call_path_refuses_a_path_an_id_has_bent() -> None:
    for url in ("/apps/../x", "/apps/a?b=1/tables", "/apps/a b/x", "/apps/x#y"):
        with pytest.raises(ProviderError, match="refused to send"):
            check_path(url, "demo")
    check_path("/open-apis/bitable/v1/apps/bascn1/tables/tbl1/records/rec%2F1", "demo")
    check_path("https://oapi.dingtalk.com/gettoken", "demo")
