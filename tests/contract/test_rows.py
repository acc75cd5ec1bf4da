"""query_records format "rows": column names once, the same values as the records format."""

from __future__ import annotations

import json

import pytest

from tests.contract.dataset import TABLE, build
from tests.harness import Harness

pytestmark = pytest.mark.anyio


async def test_rows_carry_the_same_values_in_fewer_bytes(h: Harness) -> None:
    await build(h)
    fields = ["name", "score"]
    records = await h.call("query_records", table=TABLE, fields=fields, limit=4)
    rows = await h.call("query_records", table=TABLE, fields=fields, limit=4, format="rows")
    assert rows["columns"] == ["id", "name", "score"]
    assert rows["rows"] == [
        [r["id"], r["fields"].get("name"), r["fields"].get("score")] for r in records["records"]
    ]
    assert rows["server_filtered"] == records["server_filtered"]
    assert len(json.dumps(rows)) < len(json.dumps(records))
    # the cursor pages the same way
    rest = await h.call(
        "query_records", table=TABLE, fields=fields, format="rows", cursor=rows["next_cursor"]
    )
    assert len(rows["rows"]) + len(rest["rows"]) == 6 and rest["next_cursor"] is None
    every = await h.call("query_records", table=TABLE, format="rows", limit=1)
    names = [f["name"] for f in (await h.call("describe_table", table=TABLE))["fields"]]
    assert every["columns"] == ["id", *names]
    message = await h.fails("query_records", table=TABLE, format="csv")
    assert "format" in message
