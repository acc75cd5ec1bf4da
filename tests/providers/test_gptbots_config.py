"""GPTBots configuration: endpoint, agent id, the key masked everywhere, what list_providers says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anytable.providers.gptbots.api import base_url
from tests.providers.gptbots_harness import AGENT, KEY, emulator, fast, gptbots, provider

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("sg", "https://api-sg.gptbots.ai"),
        ("JP", "https://api-jp.gptbots.ai"),
        (" th ", "https://api-th.gptbots.ai"),
        ("https://gptbots.example.com/", "https://gptbots.example.com"),
    ],
)
def test_endpoint_picks_the_data_centre(endpoint: str, url: str) -> None:
    assert base_url(endpoint) == url


async def test_unknown_endpoint_is_a_clear_error_on_use(tmp_path: Path) -> None:
    async with gptbots(tmp_path, GPTBOTS_ENDPOINT="us") as (h, capture):
        message = await h.fails("list_tables")
        assert "GPTBOTS_ENDPOINT='us'" in message and "sg" in message and "jp" in message and "th" in message
        assert capture.sent == []  # nothing was sent anywhere


async def test_requests_go_to_the_endpoint_with_the_bearer_key(tmp_path: Path) -> None:
    async with gptbots(tmp_path, GPTBOTS_ENDPOINT="jp") as (h, capture):
        await h.call("list_tables")
        assert capture.sent == [("POST", "/v1/database/tables/page", "", {"agent_id": AGENT})]
        assert provider(h).url == "https://api-jp.gptbots.ai"


async def test_list_providers_says_what_gptbots_cannot_do_and_masks_the_key(tmp_path: Path) -> None:
    async with gptbots(tmp_path) as (h, _):
        result = await h.call("list_providers")
        entry = next(p for p in result["providers"] if p["id"] == "gptbots")
        caps = entry["capabilities"]
        assert caps["tables"] == ["list", "describe", "create"] and caps["fields"] == []
        assert caps["records"] == ["query", "get", "create", "update", "delete"]
        assert caps["field_types"] == ["text", "number", "date", "checkbox"]
        assert (
            caps["record_ids_on_create"] is False and caps["bases"] is False and caps["native_sort"] is False
        )
        assert entry["credentials"]["GPTBOTS_API_KEY"] == KEY[:4] + "****"
        assert KEY not in json.dumps(result)


async def test_without_agent_id_list_tables_says_how_to_fix_it(tmp_path: Path) -> None:
    async with gptbots(tmp_path, GPTBOTS_AGENT_ID="") as (h, capture):
        entry = next(p for p in (await h.call("list_providers"))["providers"] if p["id"] == "gptbots")
        assert "list_tables needs it" in entry["credentials"]["GPTBOTS_AGENT_ID"]
        message = await h.fails("list_tables")
        assert "GPTBOTS_AGENT_ID" in message and "base" in message
        assert capture.sent == []
        # The agent id given as base works.
        assert (await h.call("list_tables", base=AGENT)) == {"tables": []}
        made = await h.call(
            "create_table", base=AGENT, name="notes", fields=[{"name": "title", "type": "text"}]
        )
        await h.call("create_records", base=AGENT, table="notes", records=[{"title": "hello"}])
        page = await h.call("query_records", base=AGENT, table=made["id"])
        assert [r["fields"] for r in page["records"]] == [{"title": "hello"}]


async def test_another_agents_id_is_refused_with_what_to_do(tmp_path: Path) -> None:
    emu = emulator()
    emu.add_api_key("gpt-other-key-5555", "agent_other")
    emu.add_table("agent_other", "theirs", [{"name": "title", "type": "TEXT"}])
    async with gptbots(tmp_path, emu) as (h, _):
        message = await h.fails("list_tables", base="agent_other")
        assert "403131" in message and "GPTBOTS_AGENT_ID" in message and "agent" in message


async def test_bad_key_is_refused_clearly_and_never_shown_whole(tmp_path: Path) -> None:
    bad = "gpt-wrong-key-0000-secret"
    async with gptbots(tmp_path, GPTBOTS_API_KEY=bad) as (h, capture):
        fast(h)
        message = await h.fails("list_tables")
        assert "GPTBOTS_API_KEY" in message and "gpt-****" in message
        assert bad not in message
        assert len(capture.sent) == 1  # an auth failure is not retried (there is no token to refresh)
        listed = json.dumps(await h.call("list_providers"))
        assert bad not in listed and "gpt-****" in listed


async def test_doctor_check(tmp_path: Path) -> None:
    async with gptbots(tmp_path) as (h, _):
        line = await provider(h).check()
        assert "works" in line and "0 tables" in line and KEY not in line
    async with gptbots(tmp_path, GPTBOTS_AGENT_ID="") as (h, capture):
        line = await provider(h).check()
        assert "accepted" in line and "GPTBOTS_AGENT_ID" in line
        assert capture.sent[0][1] == "/v1/api-key/verify"
