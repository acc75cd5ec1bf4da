"""Views are said one way, by the ``views`` capability: a provider that has them lists them in
describe_table and takes ``view`` in query_records; one that has none refuses ``view`` plainly."""

from __future__ import annotations

import pytest

from tests.contract.dataset import TABLE, build
from tests.harness import Harness

pytestmark = pytest.mark.anyio


async def test_views_follow_the_capability(h: Harness) -> None:
    await build(h)
    described = await h.call("describe_table", table=TABLE)
    if not h.caps["views"]:
        assert "views" not in described
        message = await h.fails("query_records", table=TABLE, view="grid")
        assert "no views" in message and "leave view out" in message
        return
    views = described["views"]
    assert views, "a table of a provider with views has at least its default view"
    for key in (views[0]["id"], views[0]["name"]):  # a view by id or by name
        got = await h.call("query_records", table=TABLE, view=key)
        assert len(got["records"]) > 0
    message = await h.fails("query_records", table=TABLE, view="no such view")
    assert "no such view" in message and views[0]["name"] in message  # names the views there are
