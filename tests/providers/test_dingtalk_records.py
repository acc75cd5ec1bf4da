"""DingTalk records under faults: no record lost or stored twice, nothing repeated blindly; and what
only DingTalk has (clientToken reconciliation, per-id reads, value formats, its filter, its paging)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.config import Settings
from anytable.providers.base import PageRequest
from anytable.providers.dingtalk import DingTalkProvider
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from tests.emulators.base import EmulatorTransport
from tests.providers.dingtalk_harness import (
    BASE_ID,
    BOB,
    make_emulator,
    numbers_table,
    on_request,
    provider,
    rows,
    session,
    stored,
)

pytestmark = pytest.mark.anyio

INSERT = r"POST .*/records$"
CHANGED = r"/changedRecordIds/query$"


def numbers(records: list[dict[str, Any]]) -> list[int]:
    return [int(r["fields"]["n"]) for r in records]


def log_inserts(emu: Any) -> list[str]:
    """The clientToken of every insert request the emulator receives, in order."""
    tokens: list[str] = []

    async def hook(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/records"):
            tokens.append(request.url.params.get("clientToken", ""))

    on_request(emu, hook)
    return tokens


# ------------------------------------------------------------------------- insert reconciliation


async def test_lost_answer_to_an_insert_is_reconciled_not_sent_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        tokens = log_inserts(emu)
        emu.faults.add("lost_response", match=INSERT)  # batch 1 is stored, its answer lost
        created = await h.call("create_records", table="items", records=rows(250))
        records = stored(h)
        assert numbers(records) == list(range(250))  # each record once
        assert created["created"] == 250 and created["ids"] == [r["id"] for r in records]
        assert len(tokens) == 3 and len(set(tokens)) == 3  # one UUID per batch, none sent twice
        assert emu.count("POST", CHANGED) == 1


async def test_lost_answer_and_token_expiry_in_the_same_job(tmp_path: Path) -> None:
    emu = make_emulator()
    inserts = 0

    async def expire_after_second_insert(request: httpx.Request) -> None:
        nonlocal inserts
        if request.method == "POST" and request.url.path.endswith("/records"):
            inserts += 1
            if inserts == 3:  # the reconciliation of batch 2 has happened: now the token expires
                emu.clock.advance(7300)

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        on_request(emu, expire_after_second_insert)
        emu.faults.add("lost_response", match=INSERT)  # batch 1
        emu.faults.add("lost_response", match=INSERT)  # batch 2
        created = await h.call("create_records", table="items", records=rows(350))
        records = stored(h)
        assert numbers(records) == list(range(350))
        assert created["ids"] == [r["id"] for r in records]
        assert emu.count("POST", CHANGED) == 2
        assert emu.count("POST", r"/oauth2/accessToken$") == 2


async def test_lost_answer_when_the_token_has_expired_meanwhile(tmp_path: Path) -> None:
    """Batch 2 is stored, its answer lost, and the token expires before the check: the check fetches
    a new token and finds the batch."""
    emu = make_emulator()
    original = emu.dispatch
    inserts = 0

    async def expire_while_lost(request: httpx.Request) -> httpx.Response | None:
        nonlocal inserts
        if request.method == "POST" and request.url.path.endswith("/records"):
            inserts += 1
            if inserts == 2:
                emu.faults.add("lost_response", match=INSERT)
                try:
                    return await original(request)  # stored, then the answer is lost...
                finally:
                    emu.clock.advance(7300)  # ...and the token expires
        return None

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        on_request(emu, expire_while_lost)
        created = await h.call("create_records", table="items", records=rows(200))
        assert numbers(stored(h)) == list(range(200))
        assert created["ids"] == [r["id"] for r in stored(h)]
        assert emu.count("POST", r"/oauth2/accessToken$") == 2
        assert emu.count("POST", r"/records$") == 2  # nothing sent twice
        assert emu.count("POST", CHANGED) == 2  # the check: refused for the expired token, then answered


async def test_server_error_on_an_insert_is_checked_then_sent_with_the_same_token(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        tokens = log_inserts(emu)
        emu.faults.add("transient", match=INSERT, times=2)  # 500 internalError, then 504 service.timeout
        created = await h.call("create_records", table="items", records=rows(150))
        assert created["created"] == 150 and numbers(stored(h)) == list(range(150))
        assert tokens[0] == tokens[1] == tokens[2] != tokens[3]  # the same batch, the same clientToken
        assert emu.count("POST", CHANGED) == 2  # checked before each new send


async def test_duplicate_client_token_after_a_retry_is_reconciled(tmp_path: Path) -> None:
    """The check right after a lost answer may not see the batch yet; the batch is sent again with
    its clientToken, DingTalk answers 409 duplicateClientToken, and the second check finds it."""
    emu = make_emulator()
    checks = 0

    async def lagging_index(request: httpx.Request) -> httpx.Response | None:
        nonlocal checks
        if request.url.path.endswith("/changedRecordIds/query"):
            checks += 1
            if checks == 1:
                return httpx.Response(200, json={"changedRecordIds": []})
        return None

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        tokens = log_inserts(emu)
        on_request(emu, lagging_index)
        emu.faults.add("lost_response", match=INSERT)
        created = await h.call("create_records", table="items", records=rows(100))
        assert numbers(stored(h)) == list(range(100))
        assert created["ids"] == [r["id"] for r in stored(h)]
        assert tokens == [tokens[0], tokens[0]] and checks == 2


async def test_duplicate_client_token_with_nothing_to_show_is_a_clear_error(tmp_path: Path) -> None:
    emu = make_emulator()

    async def blind_index(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/changedRecordIds/query"):
            return httpx.Response(200, json={"changedRecordIds": []})
        return None

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        on_request(emu, blind_index)
        emu.faults.add("lost_response", match=INSERT)
        message = await h.fails("create_records", table="items", records=rows(50))
        assert "query_records" in message and "invalidRequest.duplicateClientToken" in message
        assert len(stored(h)) == 50  # stored once, never twice
        assert emu.count("POST", r"/records$") == 2


async def test_a_check_that_shows_part_of_a_batch_is_not_guessed_at(tmp_path: Path) -> None:
    emu = make_emulator()
    original = emu.dispatch

    async def partial_index(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/changedRecordIds/query"):
            answer = json.loads((await original(request)).content)
            return httpx.Response(200, json={"changedRecordIds": answer["changedRecordIds"][:2]})
        return None

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        on_request(emu, partial_index)
        emu.faults.add("lost_response", match=INSERT)
        message = await h.fails("create_records", table="items", records=rows(3))
        assert "stored 2 of a batch of 3" in message and "query_records" in message
        assert len(stored(h)) == 3 and emu.count("POST", r"/records$") == 1


async def test_lost_answer_of_a_later_batch_reports_what_was_stored(tmp_path: Path) -> None:
    """The check itself fails: the outcome of that batch is unknown and the message says so."""
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        inserts = 0

        async def lose_second(request: httpx.Request) -> None:
            nonlocal inserts
            if request.method == "POST" and request.url.path.endswith("/records"):
                inserts += 1
                if inserts == 2:
                    emu.faults.add("lost_response", match=INSERT)
                    emu.faults.add("transient", match=CHANGED, times=10)

        on_request(emu, lose_second)
        message = await h.fails("create_records", table="items", records=rows(250))
        assert "records 0-99 of the 250 given were created" in message
        assert "whether records 100-199 were created is not known; records 200-249 were not" in message
        assert "query_records" in message and "did not confirm" in message
        assert len(stored(h)) == 200  # batch 2 was in fact stored; nothing was sent twice
        assert emu.count("POST", r"/records$") == 2


# ------------------------------------------------------------------------- update and delete


async def test_lost_answer_to_an_update_is_sent_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        created = await h.call("create_records", table="items", records=rows(120))
        emu.faults.add("lost_response", match=r"PUT .*/records$")
        updates = [{"id": rid, "fields": {"title": f"changed {i}"}} for i, rid in enumerate(created["ids"])]
        assert await h.call("update_records", table="items", records=updates) == {"updated": 120}
        assert [r["fields"]["title"] for r in stored(h)] == [f"changed {i}" for i in range(120)]
        assert [int(r["fields"]["n"]) for r in stored(h)] == list(range(120))  # other fields untouched
        assert emu.count("PUT", r"/records$") == 3  # batch 1 twice (same values), batch 2 once


async def test_lost_answer_to_a_delete_is_verified_not_sent_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        created = await h.call("create_records", table="items", records=rows(30))
        emu.faults.add("lost_response", match=r"/records/delete$")
        doomed = created["ids"][:10]
        assert await h.call("delete_records", table="items", record_ids=doomed) == {"deleted": 10}
        assert numbers(stored(h)) == list(range(10, 30))
        assert emu.count("POST", r"/records/delete$") == 1
        assert emu.count("GET", r"/records/[^/]+$") == 10  # one read per id to see they are gone


async def test_server_error_on_a_delete_that_did_not_happen_sends_it_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        created = await h.call("create_records", table="items", records=rows(5))
        emu.faults.add("transient", match=r"/records/delete$")
        assert await h.call("delete_records", table="items", record_ids=created["ids"][:2]) == {"deleted": 2}
        assert numbers(stored(h)) == [2, 3, 4]
        assert emu.count("POST", r"/records/delete$") == 2


async def test_deleting_an_id_that_is_not_there_is_not_swallowed(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        created = await h.call("create_records", table="items", records=rows(3))
        message = await h.fails("delete_records", table="items", record_ids=[created["ids"][0], "recGone123"])
        assert "recGone123" in message and "the other 1 records of this batch are still there" in message
        assert "invalidRequest.resource.notFound" in message
        assert numbers(stored(h)) == [0, 1, 2]


async def test_updating_an_id_that_is_not_there(tmp_path: Path) -> None:
    async with session(tmp_path) as h:
        await numbers_table(h)
        message = await h.fails(
            "update_records", table="items", records=[{"id": "recGone", "fields": {"n": 1}}]
        )
        assert "query_records" in message and "invalidRequest.resource.notFound" in message


# ------------------------------------------------------------------------- rate, progress, reads


async def test_bulk_job_stays_under_the_rate_limit(tmp_path: Path) -> None:
    emu = make_emulator()  # 20 requests/s per API, as DingTalk documents
    async with session(tmp_path, emu, fast=False) as h:
        await numbers_table(h)
        h.progress.clear()
        created = await h.call("create_records", table="items", records=rows(1200))
        records = await h.all_records("items")
        assert created["created"] == 1200 and len(records) == 1200
        assert provider(h).api.http.retries == 0  # never refused for going too fast
        assert emu.count("POST", r"/records$") == 12 and emu.count("POST", r"/records/list$") == 12
        assert [p[:2] for p in h.progress] == [(100 * i, 1200) for i in range(1, 13)]


async def test_throttled_requests_wait_and_go_again(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        emu.faults.add("throttle", match=r"/records", times=3)
        created = await h.call("create_records", table="items", records=rows(10))
        assert created["created"] == 10 and len(await h.all_records("items")) == 10
        assert len(stored(h)) == 10


async def test_get_records_reads_one_id_per_request(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        created = await h.call("create_records", table="items", records=rows(20))
        wanted = created["ids"][::4]
        got = await h.call("get_records", table="items", record_ids=[*wanted, "recNope"])
        assert [r["fields"]["n"] for r in got["records"]] == [0, 4, 8, 12, 16]
        assert got["missing"] == ["recNope"]
        assert emu.count("GET", r"/records/[^/]+$") == 6


async def test_get_records_of_a_deleted_table(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        table_id = await numbers_table(h)
        await h.call("describe_table", table="items")  # the server knows the table
        del emu.bases[BASE_ID].sheets[table_id]  # deleted in DingTalk meanwhile
        message = await h.fails("get_records", table=table_id, record_ids=["rec1"])
        assert "list_tables" in message


# ------------------------------------------------------------------------- values


async def test_values_that_do_not_fit_are_refused_before_sending(tmp_path: Path) -> None:
    emu = make_emulator()
    emu.add_sheet(
        BASE_ID,
        "assign",
        [
            {"name": "title", "type": "text"},
            {"name": "owner", "type": "user", "property": {"multiple": False}},
            {"name": "files", "type": "attachment"},
        ],
    )
    async with session(tmp_path, emu) as h:
        message = await h.fails(
            "create_records",
            table="assign",
            records=[{"title": "ok"}, {"title": "two", "owner": [h.users[0], h.users[1]]}],
        )
        assert "Record 1" in message and "owner" in message and "one user" in message
        message = await h.fails("create_records", table="assign", records=[{"files": [{"name": "a.pdf"}]}])
        assert "files" in message and "url" in message
        assert emu.count("POST", r"/records$") == 0


async def test_a_value_dingtalk_refuses_with_a_server_error_says_what_to_check(tmp_path: Path) -> None:
    emu = make_emulator(value_error_status=500)  # the 500 internalError some report for a bad value
    async with session(tmp_path, emu) as h:
        await h.call(
            "create_table",
            name="people",
            fields=[{"name": "title", "type": "text"}, {"name": "owner", "type": "user"}],
        )
        message = await h.fails(
            "create_records", table="people", records=[{"title": "a", "owner": "unionNobody"}]
        )
        assert (
            "check the values" in message and "unionIds of members" in message and "internalError" in message
        )
        assert len(emu.records(BASE_ID, emu.sheet_id(BASE_ID, "people"))) == 0


async def test_a_value_dingtalk_refuses(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await h.call(
            "create_table",
            name="people",
            fields=[{"name": "title", "type": "text"}, {"name": "owner", "type": "user"}],
        )
        message = await h.fails(
            "create_records", table="people", records=[{"title": "a", "owner": "unionNobody"}]
        )
        assert "check the values" in message and "invalidRequest.inputArgs.invalid" in message
        assert "unionNobody" in message  # DingTalk's own words follow


async def test_attachments_links_users_and_checkboxes_round_trip(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h, "targets")
        targets = (await h.call("create_records", table="targets", records=rows(2)))["ids"]
        await h.call(
            "create_table",
            name="rich",
            fields=[
                {"name": "title", "type": "text"},
                {"name": "files", "type": "attachment"},
                {"name": "refs", "type": "link", "options": ["targets"]},
                {"name": "who", "type": "user"},
                {"name": "ok", "type": "checkbox"},
            ],
        )
        fields = {f["name"]: f for f in emu.fields(BASE_ID, "rich")}
        assert fields["refs"]["type"] == "unidirectionalLink"
        assert fields["refs"]["property"]["linkedSheetId"] == emu.sheet_id(BASE_ID, "targets")
        files = [{"name": "a.pdf", "url": "https://files.example.com/a.pdf", "type": "pdf", "size": 12}]
        await h.call(
            "create_records",
            table="rich",
            records=[{"title": "r", "files": files, "refs": targets, "who": [BOB[1]], "ok": True}],
        )
        (record,) = await h.all_records("rich")
        assert record["fields"] == {
            "title": "r",
            "files": files,
            "refs": targets,
            "who": [{"id": BOB[1]}],
            "ok": True,
        }
        raw = emu.records(BASE_ID, emu.sheet_id(BASE_ID, "rich"))[0]["fields"]
        assert raw["refs"] == {"linkedRecordIds": targets} and raw["who"] == [{"unionId": BOB[1]}]
        await h.call(
            "update_records",
            table="rich",
            records=[{"id": record["id"], "fields": {"ok": False, "refs": None}}],
        )
        (record,) = await h.all_records("rich")
        assert record["fields"]["ok"] is False and "refs" not in record["fields"]


async def test_field_update_renames_and_changes_options_never_the_type(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await h.call(
            "create_table",
            name="f",
            fields=[
                {"name": "title", "type": "text"},
                {"name": "stage", "type": "single_select", "options": ["a"]},
            ],
        )
        updated = await h.call("update_field", table="f", field="stage", name="phase", options=["a", "b"])
        assert (
            updated["name"] == "phase"
            and updated["type"] == "single_select"
            and updated["options"] == ["a", "b"]
        )
        native = {f["name"]: f for f in emu.fields(BASE_ID, "f")}["phase"]
        assert native["type"] == "singleSelect" and [c["name"] for c in native["property"]["choices"]] == [
            "a",
            "b",
        ]


# ------------------------------------------------------------------------- filters and paging


async def test_simple_filters_run_in_dingtalk_and_the_rest_here(tmp_path: Path) -> None:
    emu = make_emulator()
    sent: list[Any] = []

    async def keep_filter(request: httpx.Request) -> None:
        if request.url.path.endswith("/records/list"):
            sent.append(json.loads(request.content).get("filter"))

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(250))
        on_request(emu, keep_filter)
        page = await h.call("query_records", table="items", where={"field": "n", "op": "gte", "value": 240})
        assert page["server_filtered"] is False and sorted(r["fields"]["n"] for r in page["records"]) == list(
            range(240, 250)
        )
        assert sent == [
            {
                "combination": "and",
                "conditions": [
                    {"field": sent[0]["conditions"][0]["field"], "operator": "greaterEqual", "value": [240]}
                ],
            }
        ]
        sent.clear()
        where = {
            "or": [
                {"field": "n", "op": "lt", "value": 2},
                {"field": "title", "op": "contains", "value": "ITEM 24"},
            ]
        }
        page = await h.call("query_records", table="items", where=where, limit=500)
        assert page["server_filtered"] is True
        assert sorted(r["fields"]["n"] for r in page["records"]) == [0, 1, 24, *range(240, 250)]
        assert sent[0] is None and len(sent) == 3  # everything read, filtered here


async def test_projection_asks_dingtalk_for_the_named_fields_only(tmp_path: Path) -> None:
    emu = make_emulator()
    bodies: list[Any] = []

    async def keep_body(request: httpx.Request) -> None:
        if request.url.path.endswith("/records/list"):
            bodies.append(json.loads(request.content))

    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        await h.call("create_records", table="items", records=rows(3))
        on_request(emu, keep_body)
        page = await h.call("query_records", table="items", fields=["n"])
        assert [r["fields"] for r in page["records"]] == [{"n": 0}, {"n": 1}, {"n": 2}]
        n_id = next(f["id"] for f in emu.fields(BASE_ID, "items") if f["name"] == "n")
        assert bodies[0]["fieldIdOrNames"] == [n_id] and bodies[0]["maxResults"] <= 100


@pytest.mark.parametrize(
    "last_page",
    [
        {"hasMore": False, "nextToken": ""},
        {"hasMore": False, "nextToken": "stale"},
        {"nextToken": None},
        {},
        {"hasMore": True, "nextToken": ""},
    ],
)
async def test_every_documented_way_of_saying_the_end(last_page: dict[str, Any]) -> None:
    """nextToken absent, null or "", or hasMore false: the end, whichever the service says."""
    pages = [{"hasMore": True, "nextToken": "t2", "records": [{"id": "r1", "fields": {"n": "1"}}]}]
    pages.append({"records": [{"id": "r2", "fields": {"n": "2"}}], **last_page})

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/oauth2/accessToken":
            return httpx.Response(200, json={"accessToken": "tok-123456", "expireIn": 7200})
        body = json.loads(request.content)
        assert body["maxResults"] == 100
        return httpx.Response(200, json=pages[1 if body.get("nextToken") == "t2" else 0])

    settings = Settings(dingtalk_app_key="k", dingtalk_app_secret="s", dingtalk_operator_id="u")
    dingtalk = DingTalkProvider(settings, httpx.MockTransport(handler))
    table = TableSchema(
        id="s1", name="T", fields=[FieldInfo(id="f1", name="n", type=FieldType.number, native_type="number")]
    )

    def request(token: str | None) -> PageRequest:
        return PageRequest(native_filter=None, sort=[], fields=None, view=None, page_size=100, token=token)

    first = await dingtalk.read_page("b", table, request(None))
    assert first.next_token == "t2" and first.records == [{"id": "r1", "fields": {"n": 1}}]
    last = await dingtalk.read_page("b", table, request("t2"))
    assert last.next_token is None and last.records == [{"id": "r2", "fields": {"n": 2}}]
    await dingtalk.aclose()


async def test_a_link_as_base_and_as_default_base(tmp_path: Path) -> None:
    link = f"https://alidocs.dingtalk.com/i/nodes/{BASE_ID}?utm_scene=person_space"
    async with session(tmp_path, DINGTALK_BASE_ID=link) as h:
        table_id = await numbers_table(h)
        assert (await h.call("list_tables"))["tables"] == [{"id": table_id, "name": "items"}]
        result = await h.client.call_tool("list_tables", {"base": link})  # the link says which provider
        assert result.structured_content == {"tables": [{"id": table_id, "name": "items"}]}
        result = await h.client.call_tool(
            "describe_table",
            {"base": f"https://alidocs.dingtalk.com/i/nodes/{BASE_ID}?iframeQuery=sheetId%3D{table_id}"},
        )
        assert result.structured_content["name"] == "items"  # the table from the link
        result = await h.client.call_tool(
            "list_tables", {"base": "https://alidocs.dingtalk.com/i/nodes/qnYnope"}
        )
        assert result.is_error and "qnYnope" in result.content[0].text


async def test_document_states(tmp_path: Path) -> None:
    emu = make_emulator()
    async with session(tmp_path, emu) as h:
        await numbers_table(h)
        emu.set_base_state(BASE_ID, "broken")
        message = await h.fails("list_tables")
        assert "damaged" in message and "invalidRequest.document.broken" in message
        emu.set_base_state(BASE_ID, "initializing")
        message = await h.fails("list_tables")
        assert "wait a few seconds" in message


async def test_missing_write_permission(tmp_path: Path) -> None:
    emu = make_emulator(scopes=["Notable.Base.Read.All"])
    async with session(tmp_path, emu) as h:
        message = await h.fails("create_table", name="x", fields=[{"name": "t", "type": "text"}])
        assert "Notable.Base.Write.All" in message and "developer console" in message


async def test_dingtalk_field_types_are_offered_and_others_refused(tmp_path: Path) -> None:
    async with session(tmp_path) as h:
        caps = (await h.call("list_providers"))["providers"]
        dingtalk = next(p for p in caps if p["id"] == "dingtalk")["capabilities"]
        assert (
            dingtalk["views"] is False
            and dingtalk["native_sort"] is False
            and dingtalk["record_ids_on_create"]
        )
        message = await h.fails("create_table", name="x", fields=[{"name": "mail", "type": "email"}])
        assert "email" in message and "single_select" in message


def test_provider_builds_without_network() -> None:
    settings = Settings(dingtalk_app_key="k", dingtalk_app_secret="s")
    dingtalk = DingTalkProvider(settings, EmulatorTransport(make_emulator()))
    assert (
        dingtalk.default_base() is None
        and DingTalkProvider.masked_credentials(settings)["DINGTALK_APP_SECRET"] == "s****"
    )
