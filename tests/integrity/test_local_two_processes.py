"""Two server processes on one ANYTABLE_LOCAL_PATH (Claude Desktop and Claude Code both running
anytable): a schema change made by one is seen by the other before it reads or writes (issue 11)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.test_transports import server_env

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def two_servers(tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "anytable", "serve"], env=server_env(tmp_path)
    )
    with anyio.fail_after(90):
        async with Client(params) as a, Client(params) as b:
            yield Tool(a), Tool(b)


class Tool:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def __call__(self, tool: str, /, **args: Any) -> Any:
        result = await self.client.call_tool(tool, args)
        text = "".join(getattr(c, "text", "") for c in result.content)
        assert not result.is_error, text
        return result.structured_content


async def test_a_field_renamed_and_recreated_elsewhere_is_seen_before_writing_and_reading(
    tmp_path: Path,
) -> None:
    async with two_servers(tmp_path) as (a, b):
        await a(
            "create_table",
            name="T",
            fields=[{"name": "Name", "type": "text"}, {"name": "Score", "type": "number"}],
        )
        await b("create_records", table="T", records=[{"Name": "first", "Score": 1}])  # b caches the schema
        await a("update_field", table="T", field="Score", name="Old score")
        await a("create_field", table="T", name="Score", type="number")
        await b("create_records", table="T", records=[{"Name": "second", "Score": 2}])
        records = {r["fields"]["Name"]: r["fields"] for r in (await a("query_records", table="T"))["records"]}
        assert records["second"] == {"Name": "second", "Score": 2}  # the new field, not the renamed one
        assert records["first"] == {"Name": "first", "Old score": 1}

        # A field deleted and re-created elsewhere: b reads the new (empty) field, not a column name.
        await b("query_records", table="T")
        await a("delete_field", table="T", field="Old score")
        await a("create_field", table="T", name="Old score", type="text")
        seen = {r["fields"]["Name"]: r["fields"] for r in (await b("query_records", table="T"))["records"]}
        assert seen["first"] == {"Name": "first"}


async def test_a_table_renamed_and_recreated_elsewhere_is_seen_before_writing(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as (a, b):
        await a("create_table", name="T", fields=[{"name": "Name", "type": "text"}])
        await b("create_records", table="T", records=[{"Name": "old"}])
        await a("update_table", table="T", name="T archive")
        await a("create_table", name="T", fields=[{"name": "Name", "type": "text"}])
        await b("create_records", table="T", records=[{"Name": "new"}])
        new = [r["fields"]["Name"] for r in (await a("query_records", table="T"))["records"]]
        archived = [r["fields"]["Name"] for r in (await a("query_records", table="T archive"))["records"]]
        assert new == ["new"] and archived == ["old"]


async def test_a_write_or_read_on_a_schema_changed_a_moment_ago_is_refused_not_misplaced(
    tmp_path: Path,
) -> None:
    from anytable.errors import ProviderError
    from anytable.providers.base import PageRequest
    from anytable.providers.local import LocalProvider
    from anytable.schemas.fields import FieldSpec, FieldType

    path = tmp_path / "shared.sqlite"
    mine, theirs = LocalProvider(path), LocalProvider(path)  # two connections, as two processes have
    try:
        info = await mine.create_table("b", "T", [FieldSpec(name="Score", type=FieldType.number)])
        stale = await mine.get_schema("b", info.id)
        score = stale.fields[0]
        await theirs.update_field("b", await theirs.get_schema("b", info.id), score, "Old", None)
        await theirs.create_field(
            "b", await theirs.get_schema("b", info.id), FieldSpec(name="Score", type=FieldType.number)
        )
        with pytest.raises(ProviderError, match="changed by another process"):
            await mine.create_batch("b", stale, [{"Score": 1}])
        request = PageRequest(native_filter=None, sort=[], fields=None, view=None, page_size=10, token=None)
        with pytest.raises(ProviderError):
            await mine.read_page("b", stale, request)
        fresh = await mine.get_schema("b", info.id)
        assert (await mine.read_page("b", fresh, request)).records == []  # nothing was written
    finally:
        await mine.aclose()
        await theirs.aclose()
