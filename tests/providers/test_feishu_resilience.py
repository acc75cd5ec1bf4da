"""Feishu failures the server rides out: token expiry and revocation, throttling, transient codes,
lost answers (never a duplicate), and one write at a time per table under concurrent tool calls."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from anytable.errors import ProviderError
from anytable.schemas.fields import FieldSpec, FieldType
from tests.emulators.feishu import FeishuEmulator
from tests.harness import serve
from tests.providers.feishu_harness import APP_SECRET, APP_TOKEN, FAST, Recorder, direct, emulator, env

pytestmark = pytest.mark.anyio


async def make_table(provider: Any, name: str = "T", extra: list[FieldSpec] | None = None) -> Any:
    fields = [FieldSpec(name="title", type=FieldType.text), FieldSpec(name="n", type=FieldType.number)]
    info = await provider.create_table(APP_TOKEN, name, fields + (extra or []))
    return await provider.get_schema(APP_TOKEN, info.id)


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"title": f"r{i}", "n": i} for i in range(start, start + n)]


def stored_numbers(emu: FeishuEmulator, table: str) -> list[int]:
    return sorted(r["fields"]["n"] for r in emu.records(APP_TOKEN, table))


# ------------------------------------------------------------------------------------ tokens


async def test_token_is_cached_and_renewed_before_it_expires() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    for _ in range(5):
        await provider.read_page(APP_TOKEN, table, _page())
    assert rec.count("POST", "tenant_access_token") == 1 and provider.api.tokens.fetches == 1
    first = provider.api.tokens._token
    emu.clock.advance(7200 - 120)  # two minutes left: inside the renewal margin
    await provider.read_page(APP_TOKEN, table, _page())
    assert rec.count("POST", "tenant_access_token") == 2
    assert provider.api.tokens._token != first
    assert 99991663 not in rec.codes()  # renewed before use, never refused
    await provider.aclose()


async def test_expired_token_is_renewed_on_the_invalid_token_answer() -> None:
    emu = emulator()
    provider, rec = direct(emu, clock=time.time)  # our clock does not know the token expired
    table = await make_table(provider)
    emu.clock.advance(7300)  # the emulator's token is now past its expiry
    page = await provider.read_page(APP_TOKEN, table, _page())
    assert page.records == []
    assert rec.codes().count(99991663) == 1 and rec.count("POST", "tenant_access_token") == 2
    await provider.aclose()


async def test_token_revoked_mid_job_is_renewed_and_nothing_is_lost_or_repeated(tmp_path: Path) -> None:
    emu = emulator()
    revoked = {"done": False}

    def revoke_after_second_batch(request: httpx.Request) -> None:
        if (
            "batch_create" in request.url.path
            and rec.count("POST", "batch_create") == 3
            and not revoked["done"]
        ):
            revoked["done"] = True
            emu.tokens.clear()  # every token issued so far is now invalid (99991663)

    rec = Recorder(emu, before=revoke_after_second_batch)
    async with serve("feishu", env(), tmp_path, emulator=rec) as h:  # type: ignore[arg-type]
        await h.call(
            "create_table",
            name="big",
            fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        )
        created = await h.call("create_records", table="big", records=rows(1_600))
    assert created["created"] == 1_600 and len(set(created["ids"])) == 1_600
    assert stored_numbers(emu, "big") == list(range(1_600))
    assert revoked["done"] and rec.codes().count(99991663) == 1
    assert rec.count("POST", "tenant_access_token") == 2


async def test_wrong_credentials_say_which_variables(tmp_path: Path) -> None:
    async with serve(
        "feishu", env(FEISHU_APP_SECRET="not-the-secret-123456"), tmp_path, emulator=emulator()
    ) as h:
        message = await h.fails("list_tables")
    assert "FEISHU_APP_ID" in message and "FEISHU_APP_SECRET" in message and "feishu code 10014" in message
    assert "not-the-secret-123456" not in message


# ------------------------------------------------------------------------------------ throttling


async def test_throttle_waits_for_the_reset_header() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    emu.faults.add("throttle", r"records/search")  # HTTP 429, x-ogw-ratelimit-reset: 1
    start = time.monotonic()
    await provider.read_page(APP_TOKEN, table, _page())
    waited = time.monotonic() - start
    assert waited >= 0.95, waited  # waited as told, not the (fast) backoff
    searches = [e for e in rec.exchanges if "search" in e.path]
    assert [e.status for e in searches] == [429, 200]
    await provider.aclose()


async def test_client_side_rate_keeps_within_the_documented_limit() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    start = time.monotonic()
    for _ in range(25):  # records/search: 20 per second
        await provider.read_page(APP_TOKEN, table, _page())
    assert time.monotonic() - start >= 1.1
    assert 99991400 not in rec.codes()
    await provider.aclose()


async def test_service_rate_limit_is_honoured_when_it_is_lower_than_ours() -> None:
    emu = emulator(rate_limits={"records.search": 5})
    provider, rec = direct(emu)
    table = await make_table(provider)
    for _ in range(8):
        await provider.read_page(APP_TOKEN, table, _page())
    assert rec.codes().count(99991400) >= 1  # the service throttled us...
    searches = [e.code for e in rec.exchanges if "search" in e.path]
    assert searches.count(0) == 8  # ...and every read got through
    await provider.aclose()


# ------------------------------------------------------------------------------------ transient faults


async def test_transient_codes_are_retried() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    emu.faults.add("transient", r"batch_create", times=5)  # 1254290, 1254607, 1255040, 500, 1254290
    result = await provider.create_batch(APP_TOKEN, table, rows(10))
    assert len(result.ids) == 10 and stored_numbers(emu, table.id) == list(range(10))
    answers = [(e.status, e.code) for e in rec.exchanges if "batch_create" in e.path]
    assert answers == [(200, 1254290), (400, 1254607), (504, 1255040), (500, None), (200, 1254290), (200, 0)]
    tokens = {e.params["client_token"] for e in rec.exchanges if "batch_create" in e.path}
    assert len(tokens) == 1  # every try of the one write carried the same client_token
    await provider.aclose()


async def test_lost_answer_to_batch_create_is_resent_with_the_same_client_token() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    emu.faults.add("lost_response", r"batch_create")
    result = await provider.create_batch(APP_TOKEN, table, rows(300))
    sends = [e for e in rec.exchanges if "batch_create" in e.path]
    assert len(sends) == 2 and sends[0].code is None and sends[1].code == 0
    assert sends[0].params["client_token"] == sends[1].params["client_token"]
    assert stored_numbers(emu, table.id) == list(range(300))  # stored once
    assert result.ids == [r["record_id"] for r in emu.records(APP_TOKEN, table.id)]
    await provider.aclose()


async def test_lost_answers_to_updates_and_deletes_never_repeat_blindly() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    ids = (await provider.create_batch(APP_TOKEN, table, rows(20))).ids
    emu.faults.add("lost_response", r"batch_update")
    await provider.update_batch(APP_TOKEN, table, [(rid, {"n": 100 + i}) for i, rid in enumerate(ids)])
    assert stored_numbers(emu, table.id) == list(range(100, 120))
    emu.faults.add("lost_response", r"batch_delete")
    await provider.delete_batch(APP_TOKEN, table, ids[:5])  # applied; the lost answer is reconciled
    assert len(emu.records(APP_TOKEN, table.id)) == 15
    assert rec.count("POST", "batch_delete") == 1 and rec.count("POST", "batch_get") >= 1
    emu.faults.add("transient", r"batch_delete")  # refused (1254290 at HTTP 200): simply sent again
    await provider.delete_batch(APP_TOKEN, table, ids[5:10])
    assert len(emu.records(APP_TOKEN, table.id)) == 10
    emu.faults.add("lost_response", r"/fields/")
    field = next(f for f in table.fields if f.name == "n")
    await provider.delete_field(APP_TOKEN, table, field)
    assert "n" not in emu.table(APP_TOKEN, table.id).by_name()
    await provider.aclose()


async def test_lost_answer_to_create_table_does_not_make_two_tables() -> None:
    emu = emulator()
    provider, _ = direct(emu)
    emu.faults.add("lost_response", r"/tables$")
    info = await provider.create_table(APP_TOKEN, "once", [FieldSpec(name="title", type=FieldType.text)])
    names = [t.name for t in await provider.list_tables(APP_TOKEN)]
    assert names.count("once") == 1 and info.id == emu.table(APP_TOKEN, "once").table_id
    await provider.aclose()


async def test_fatal_errors_are_not_retried_and_carry_code_and_log_id() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    with pytest.raises(ProviderError) as info:
        await provider.delete_batch(APP_TOKEN, table, ["recNoSuchRecord1"])
    text = str(info.value)
    assert "get_records" in text and "feishu code 1254043" in text and "request id " in text
    assert rec.count("POST", "batch_delete") == 1
    await provider.aclose()


# ------------------------------------------------------------------------------------ one write at a time


async def test_concurrent_writes_are_serialised_per_table_and_parallel_across_tables(tmp_path: Path) -> None:
    emu = emulator(write_time=0.02)  # a write that overlaps another on its table gets 1254291
    rec = Recorder(emu)
    async with serve("feishu", env(), tmp_path, emulator=rec) as h:  # type: ignore[arg-type]
        fields = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
        await h.call("create_table", name="A", fields=fields)
        await h.call("create_table", name="B", fields=fields)
        results: dict[str, Any] = {}

        async def create(table: str, start: int) -> None:
            results[f"{table}{start}"] = await h.call(
                "create_records", table=table, records=rows(1_000, start)
            )

        async def add_field() -> None:
            results["field"] = await h.call("create_field", table="A", name="extra", type="text")

        async with anyio.create_task_group() as tg:
            tg.start_soon(create, "A", 0)
            tg.start_soon(create, "A", 1_000)
            tg.start_soon(create, "B", 0)
            tg.start_soon(create, "B", 1_000)
            tg.start_soon(add_field)
    assert all(r["created"] == 1_000 for k, r in results.items() if k != "field")
    assert stored_numbers(emu, "A") == list(range(2_000)) and stored_numbers(emu, "B") == list(range(2_000))
    assert 1254291 not in rec.codes()  # never a write conflict: not retried into success, avoided
    a, b = emu.table(APP_TOKEN, "A").table_id, emu.table(APP_TOKEN, "B").table_id
    assert rec.most_in_flight[a] == 1 and rec.most_in_flight[b] == 1
    assert rec.most_in_flight_total == 2  # the two tables were written at the same time


async def test_write_conflict_from_another_client_is_retried() -> None:
    emu = emulator()
    provider, rec = direct(emu)
    table = await make_table(provider)
    emu.table(APP_TOKEN, table.id).writing = True  # someone else is writing to this table

    async def release() -> None:
        await anyio.sleep(0.03)
        emu.table(APP_TOKEN, table.id).writing = False

    async with anyio.create_task_group() as tg:
        tg.start_soon(release)
        await provider.create_batch(APP_TOKEN, table, rows(3))
    assert 1254291 in rec.codes() and stored_numbers(emu, table.id) == [0, 1, 2]
    await provider.aclose()


# ------------------------------------------------------------------------------------ secrets


async def test_secrets_stay_out_of_results_errors_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = emulator()
    async with serve("feishu", env(), tmp_path, emulator=emu) as h:
        h.svc.providers["feishu"].api.http.retry = FAST
        await h.call("create_table", name="S", fields=[{"name": "title", "type": "text"}])
        emu.faults.add("transient", r"batch_create")
        emu.faults.add("throttle", r"records/search")
        await h.call("create_records", table="S", records=[{"title": "x"}])
        listed = await h.client.call_tool("list_providers", {})
        texts = [
            str(await h.call("query_records", table="S")),
            str(listed.content),
            str(listed.structured_content),
        ]
        texts.append(
            await h.fails("query_records", table="S", where={"field": "nope", "op": "eq", "value": 1})
        )
        texts.append(await h.fails("describe_table", base="bascnNoSuchBase0001", table="S"))
        token = h.svc.providers["feishu"].api.tokens._token
    assert token and token.startswith("t-")
    everything = "\n".join(texts) + "\n" + caplog.text
    assert APP_SECRET not in everything and token not in everything
    assert "1254040" in texts[-1] and "FEISHU_APP_ID" in texts[-1]


def _page() -> Any:
    from anytable.providers.base import PageRequest

    return PageRequest(native_filter=None, sort=[], fields=None, view=None, page_size=500, token=None)
