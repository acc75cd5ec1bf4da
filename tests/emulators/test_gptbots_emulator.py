"""The GPTBots emulator answers as docs/provider-api-notes.md section 3 and the GPTBots pages say."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.emulators.base import EmulatorTransport
from tests.emulators.gptbots import GPTBotsEmulator

pytestmark = pytest.mark.anyio

KEY, AGENT = "app-key-one", "agent_one"
OTHER_KEY, OTHER_AGENT = "app-key-two", "agent_two"
HEX24 = re.compile(r"^[0-9a-f]{24}$")

FIELDS = [
    {"name": "id", "type": "TEXT", "description": "id", "required": True, "unique": True},
    {"name": "title", "type": "TEXT", "description": "title"},
    {"name": "no", "type": "INT", "description": "number", "required": True},
    {"name": "price", "type": "FLOAT", "description": "price"},
    {"name": "due", "type": "DATETIME", "description": "due"},
    {"name": "done", "type": "BOOLEAN", "description": "done"},
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_emu(**kw: Any) -> GPTBotsEmulator:
    kw.setdefault("import_seconds_per_1000_rows", 0.0)
    return GPTBotsEmulator(api_keys={KEY: AGENT, OTHER_KEY: OTHER_AGENT}, **kw)


def client_for(emu: GPTBotsEmulator, key: str | None = KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=EmulatorTransport(emu), base_url="https://api-sg.gptbots.ai", headers=headers
    )


@pytest.fixture
def emu() -> GPTBotsEmulator:
    return make_emu()


@pytest.fixture
async def c(emu: GPTBotsEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(emu) as client:
        yield client


def row(i: int, **over: Any) -> dict[str, Any]:
    return {"id": f"k{i}", "title": f"Title {i}", "no": i, **over}


async def import_rows(c: httpx.AsyncClient, table_id: str, records: list[dict[str, Any]]) -> str:
    r = await c.post("/v1/database/import/records", json={"table_id": table_id, "records": records})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == 0 and body["message"] == "OK"
    assert isinstance(body["data"], list) and len(body["data"]) == 1
    return body["data"][0]


async def results(c: httpx.AsyncClient, *ids: str) -> dict[str, Any]:
    r = await c.get("/v1/database/query/import-results", params=[("ids", i) for i in ids])
    assert r.status_code == 200, r.text
    return r.json()


async def page(c: httpx.AsyncClient, table_id: str, **kw: Any) -> httpx.Response:
    body = {"table_id": table_id, "page": 1, "page_size": 100, **kw}
    return await c.post("/v1/database/records/page", json=body)


# ---------------------------------------------------------------- auth and verbs


async def test_auth_missing_and_unknown_key(emu: GPTBotsEmulator) -> None:
    for key in (None, "nope"):
        async with client_for(emu, key) as client:
            r = await client.post("/v1/database/tables/page", json={"agent_id": AGENT})
            assert r.status_code == 401
            assert r.json() == {"code": 40127, "message": "Developer authentication failed"}
    async with client_for(emu) as client:
        r = await client.post(
            "/v1/database/tables/page", json={"agent_id": AGENT}, headers={"Authorization": KEY}
        )
        assert r.status_code == 401  # no "Bearer " scheme


async def test_verify_key(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    r = await c.get("/v1/api-key/verify")
    assert r.status_code == 200 and r.json()["code"] == 0
    async with client_for(emu, "bad") as bad:
        assert (await bad.get("/v1/api-key/verify")).json()["code"] == 40127


async def test_wrong_verb_and_unknown_path(c: httpx.AsyncClient) -> None:
    r = await c.get("/v1/database/records/page")
    assert r.status_code == 405 and r.json()["code"] == 40000
    r = await c.post("/v1/database/query/import-results", json={})
    assert r.status_code == 405 and r.json()["code"] == 40000
    r = await c.post("/v1/database/nothing-here", json={})
    assert r.status_code == 404 and r.json()["code"] != 0


# ---------------------------------------------------------------- tables


async def test_create_table_and_list(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    r = await c.post(
        "/v1/database/create-table", json={"name": "orders", "description": "Orders", "fields": FIELDS}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == 0 and body["message"] == "OK" and HEX24.match(body["data"])
    emu.add_table(OTHER_AGENT, "theirs", FIELDS)
    r = await c.post("/v1/database/tables/page", json={"agent_id": AGENT})
    assert r.status_code == 200
    assert r.json() == {
        "tables": [
            {
                "table_id": body["data"],
                "name": "orders",
                "description": "Orders",
                "field_number": 6,
                "record_count": 0,
            }
        ]
    }
    # another agent's id, or none
    r = await c.post("/v1/database/tables/page", json={"agent_id": OTHER_AGENT})
    assert r.json()["code"] == 403131 and r.status_code == 403
    r = await c.post("/v1/database/tables/page", json={})
    assert r.json()["code"] == 40000 and r.status_code == 400


async def test_tables_page_envelope_option() -> None:
    emu = make_emu(tables_page_envelope=True)
    tid = emu.add_table(AGENT, "t", FIELDS, records=[row(1)])
    async with client_for(emu) as c:
        body = (await c.post("/v1/database/tables/page", json={"agent_id": AGENT})).json()
    assert body["code"] == 0
    assert body["data"]["tables"][0]["table_id"] == tid
    assert body["data"]["tables"][0]["record_count"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "Orders"}, 403100),
        ({"name": "1orders"}, 403100),
        ({"name": "a" * 33}, 403100),
        ({"name": "or-ders"}, 403100),
        ({"description": "x" * 129}, 403101),
        ({"description": ""}, 403101),
        ({"fields": []}, 403102),
        ({"fields": None}, 403102),
        ({"fields": [{**FIELDS[0], "name": "Bad"}]}, 403103),
        ({"fields": [{**FIELDS[0], "name": "b" * 33}]}, 403103),
        ({"fields": [FIELDS[0], FIELDS[0]]}, 403103),
        ({"fields": [{**FIELDS[0], "description": "d" * 129}]}, 403104),
        ({"fields": [{k: v for k, v in FIELDS[0].items() if k != "description"}]}, 403104),
        ({"fields": [{**FIELDS[0], "type": "NUMBER"}]}, 403105),
        ({"fields": [{**FIELDS[0], "type": "text"}]}, 403105),
        ({"fields": [{**FIELDS[0], "unique": "yes"}]}, 40000),
        ({"fields": [{**FIELDS[1], "name": f"f{i}"} for i in range(51)]}, 403111),
    ],
)
async def test_create_table_validation(c: httpx.AsyncClient, change: dict[str, Any], code: int) -> None:
    body = {"name": "orders", "description": "Orders", "fields": FIELDS, **change}
    r = await c.post("/v1/database/create-table", json=body)
    assert r.json()["code"] == code
    assert r.status_code == (400 if code == 40000 else 403)
    assert isinstance(r.json()["message"], str)


async def test_create_table_limits_accepted_and_duplicate_name(c: httpx.AsyncClient) -> None:
    fields = [{**FIELDS[1], "name": f"f{i}", "description": "d" * 128} for i in range(50)]
    body = {"name": "a" + "b" * 31, "description": "x" * 128, "fields": fields}
    assert (await c.post("/v1/database/create-table", json=body)).json()["code"] == 0
    r = await c.post("/v1/database/create-table", json=body)
    assert r.json()["code"] == 403108


# ---------------------------------------------------------------- import


async def test_import_is_async_and_accepts_both_shapes() -> None:
    emu = make_emu(import_seconds_per_1000_rows=100.0)  # 20 rows: 2 s
    tid = emu.add_table(AGENT, "t", FIELDS)
    async with client_for(emu) as c:
        records = [{"values": row(i)} for i in range(1, 11)] + [row(i) for i in range(11, 21)]
        task = await import_rows(c, tid, records)
        assert HEX24.match(task)
        assert emu.rows(tid) == []  # nothing stored yet
        body = await results(c, task)
        assert body["code"] == 0 and body["message"] == "OK" and body["progress"] == 0
        (t,) = body["data"]
        assert t["id"] == task and t["status"] in ("PENDING", "PROCESSING") and t["progress"] == 0
        emu.clock.advance(1.0)
        (t,) = (await results(c, task))["data"]
        assert t["status"] == "PROCESSING" and t["progress"] == 0.5 and t["success_count"] == 10
        assert len(emu.rows(tid)) == 10
        emu.clock.advance(1.5)
        body = await results(c, task)
        assert body["progress"] == 1
        assert body["data"] == [
            {
                "id": task,
                "progress": 1,
                "status": "SUCCESS",
                "total_count": 20,
                "success_count": 20,
                "fail_count": 0,
                "fail_detail": [],
            }
        ]
    stored = emu.rows(tid)
    assert [r["id"] for r in stored] == [f"k{i}" for i in range(1, 21)]
    assert stored[0] == {"id": "k1", "title": "Title 1", "no": 1, "price": None, "due": None, "done": None}


async def test_finish_imports_helper() -> None:
    emu = make_emu(import_seconds_per_1000_rows=1000.0)
    tid = emu.add_table(AGENT, "t", FIELDS)
    async with client_for(emu) as c:
        t1 = await import_rows(c, tid, [row(i) for i in range(1, 6)])
        t2 = await import_rows(c, tid, [row(i) for i in range(6, 9)])
        assert [t["status"] for t in (await results(c, t1, t2))["data"]] == ["PROCESSING", "PENDING"]
        emu.finish_imports()
        body = await results(c, t1, t2, "000000000000000000000000")
    assert [t["status"] for t in body["data"]] == ["SUCCESS", "SUCCESS"]  # unknown id left out
    assert len(emu.rows(tid)) == 8


async def test_import_chunk_failures_are_precise(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS, records=[row(100)])
    records = [row(i) for i in range(1, 36)]
    records[12] = row(13, id="k3")  # row 13: duplicates row 3, stored by an earlier chunk
    records[21] = {"id": "k22", "title": "no number"}  # row 22: required `no` missing
    records[24] = row(25, no="25")  # row 25 (same chunk): wrong type, not the first failure
    records[33] = row(34, id="k100")  # row 34: already in the table
    task = await import_rows(c, tid, records)
    (t,) = (await results(c, task))["data"]
    assert t["status"] == "FAIL" and t["progress"] == 1
    assert (t["total_count"], t["success_count"], t["fail_count"]) == (35, 10, 25)
    detail = t["fail_detail"]
    assert [(d["row"], d["row_number_start"], d["row_number_end"]) for d in detail] == [
        (13, 11, 20),
        (22, 21, 30),
        (34, 31, 35),
    ]
    assert "1062" in detail[0]["fail_reason"] and "Duplicate" in detail[0]["fail_reason"]
    assert "`no` is required" in detail[1]["fail_reason"]
    assert "1062" in detail[2]["fail_reason"]
    # exactly the rows outside the failed chunks are stored
    assert [r["id"] for r in emu.rows(tid)] == ["k100"] + [f"k{i}" for i in range(1, 11)]


async def test_import_row_rules(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    bad_rows = {
        "dup in chunk": [row(1), row(2, id="k1")],
        "empty unique": [row(1, id="")],
        "null unique": [row(1, id=None)],
        "missing unique": [{"title": "x", "no": 1}],
        "unique too long": [row(1, id="x" * 257)],
        "int as string": [row(1, no="1")],
        "int as float": [row(1, no=1.5)],
        "int as bool": [row(1, no=True)],
        "int overflow": [row(1, no=2**63)],
        "float as string": [row(1, price="2.5")],
        "bool as string": [row(1, done="true")],
        "bool as int": [row(1, done=1)],
        "iso datetime": [row(1, due="2029-10-01T12:00:00")],
        "date only": [row(1, due="2029-10-01")],
        "bad date": [row(1, due="2029-02-30 12:00:00")],
        "epoch datetime": [row(1, due=1869652800000)],
        "text as number": [row(1, title=5)],
        "unknown field": [row(1, nope="x")],
    }
    tasks = {name: await import_rows(c, tid, rows) for name, rows in bad_rows.items()}
    for name, task in tasks.items():
        (t,) = (await results(c, task))["data"]
        assert t["status"] == "FAIL", name
        assert t["success_count"] == 0 and len(t["fail_detail"]) == 1, name
        assert t["fail_detail"][0]["fail_reason"], name
    assert emu.rows(tid) == []
    ok = row(1, id="x" * 256, price=3, due="2029-10-01 12:00:00", done=False, title="")
    task = await import_rows(c, tid, [ok])
    assert (await results(c, task))["data"][0]["status"] == "SUCCESS"
    assert emu.rows(tid) == [
        {"id": "x" * 256, "title": None, "no": 1, "price": 3.0, "due": "2029-10-01 12:00:00", "done": False}
    ]


async def test_import_discard_rows_mode() -> None:
    emu = make_emu(import_discard="rows")
    tid = emu.add_table(AGENT, "t", FIELDS)
    records = [row(i) for i in range(1, 13)]
    records[1] = row(2, no="x")
    records[4] = row(5, no="y")
    async with client_for(emu) as c:
        (t,) = (await results(c, await import_rows(c, tid, records)))["data"]
    assert (t["success_count"], t["fail_count"]) == (10, 2)
    assert t["fail_detail"] == [
        {
            "row": 2,
            "row_number_start": 1,
            "row_number_end": 10,
            "fail_reason": t["fail_detail"][0]["fail_reason"],
        }
    ]
    assert len(emu.rows(tid)) == 10


async def test_import_failed_progress_option_and_legacy_form() -> None:
    emu = make_emu(failed_task_progress="success_ratio", import_results_legacy=True)
    tid = emu.add_table(AGENT, "t", FIELDS)
    async with client_for(emu) as c:
        task = await import_rows(c, tid, [row(1, no="bad")])
        body = await results(c, task)
    assert body == {"code": 0, "message": "OK", "data": [{"id": task, "progress": 0, "status": "FAIL"}]}


async def test_import_results_bare_and_unnamed_failure_options() -> None:
    emu = make_emu(import_results_bare=True, fail_rows_named=False)
    tid = emu.add_table(AGENT, "t", FIELDS)
    async with client_for(emu) as c:
        records = [row(i) for i in range(1, 13)]
        records[3] = row(4, no="x")
        task = await import_rows(c, tid, records)
        r = await c.get("/v1/database/query/import-results", params={"ids": task})
    body = r.json()
    assert isinstance(body, list) and [t["id"] for t in body] == [task]
    assert [(d["row"], d["row_number_start"], d["row_number_end"]) for d in body[0]["fail_detail"]] == [
        (None, 1, 10)
    ]
    assert len(emu.rows(tid)) == 2


async def test_import_caps(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    url = "/v1/database/import/records"
    r = await c.post(url, json={"table_id": tid, "records": [row(i) for i in range(1001)]})
    assert r.status_code == 400 and r.json()["code"] == 40000
    r = await c.post(url, json={"table_id": tid, "records": [row(i) for i in range(1000)]})
    assert r.json()["code"] == 0
    big = "x" * 11_000  # 1000 rows * 11 kB of CSV > 10 MB
    r = await c.post(url, json={"table_id": tid, "records": [row(i, title=big) for i in range(2000, 3000)]})
    assert r.json()["code"] == 40000
    r = await c.post(url, json={"table_id": tid, "records": [row(i, title=big) for i in range(2000, 2900)]})
    assert r.json()["code"] == 0  # 900 * 11 kB < 10 MB
    for body in ({"table_id": tid, "records": []}, {"table_id": tid}, {"records": [row(1)]}):
        assert (await c.post(url, json=body)).json()["code"] == 40000
    assert (await c.post(url, json={"table_id": tid, "records": ["x"]})).json()["code"] == 40000
    r = await c.post(url, json={"table_id": "0" * 24, "records": [row(1)]})
    assert r.json()["code"] == 403106
    other = emu.add_table(OTHER_AGENT, "o", FIELDS)
    r = await c.post(url, json={"table_id": other, "records": [row(1)]})
    assert r.json()["code"] == 403131
    assert (await c.get("/v1/database/query/import-results")).json()["code"] == 40000


async def test_import_results_hide_other_agents_tasks(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    other = emu.add_table(OTHER_AGENT, "o", FIELDS)
    async with client_for(emu, OTHER_KEY) as theirs:
        task = await import_rows(theirs, other, [row(1)])
    assert (await results(c, task))["data"] == []


# ---------------------------------------------------------------- records/page


async def test_records_page_shape_and_paging(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(
        AGENT,
        "test_api",
        FIELDS,
        description="Test all database APIs",
        records=[row(i, price=2024.21, due="2029-10-01 12:00:00", done=True) for i in range(1, 251)],
    )
    r = await page(c, tid, page=2, page_size=100)
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == 0 and body["message"] == "OK"
    data = body["data"]
    assert data["total_count"] == 250
    info = data["table_info"]
    assert (
        info["id"] == tid and info["name"] == "test_api" and info["description"] == "Test all database APIs"
    )
    assert info["field_count"] == 6 and info["bot_id"] == AGENT
    assert HEX24.match(info["project_id"]) and HEX24.match(info["owner_id"])
    assert info["fields"][0] == {
        "name": "id",
        "description": "id",
        "type": "TEXT",
        "required": True,
        "unique": True,
    }
    recs = data["records"]
    assert len(recs) == 100 and recs[0]["value"]["id"] == "k101"
    first = recs[0]
    assert set(first) == {"id", "value", "created_at", "updated_at"}
    assert isinstance(first["id"], str) and first["id"].isdigit()
    assert isinstance(first["created_at"], int) and first["created_at"] > 1_600_000_000_000
    assert first["value"] == {
        "id": "k101",
        "title": "Title 101",
        "no": 101,
        "price": 2024.21,
        "due": "2029-10-01 12:00:00",
        "done": True,
    }
    last = (await page(c, tid, page=3, page_size=100)).json()["data"]
    assert len(last["records"]) == 50 and last["total_count"] == 250
    beyond = (await page(c, tid, page=9, page_size=100)).json()["data"]
    assert beyond["records"] == [] and beyond["total_count"] == 250
    ids = [r["id"] for p in (1, 2, 3) for r in (await page(c, tid, page=p)).json()["data"]["records"]]
    assert len(set(ids)) == 250


@pytest.mark.parametrize(
    "change",
    [
        {"page": 0},
        {"page": None},
        {"page": "1"},
        {"page_size": 0},
        {"page_size": 101},
        {"page_size": None},
        {"filter": {"title": "Title 1"}},  # not a unique field
        {"filter": {"id": "k1", "no": 1}},  # more than one field
        {"filter": {"nope": 1}},
        {"filter": "id=k1"},
        {"keyword": 5},
    ],
)
async def test_records_page_bad_params(
    emu: GPTBotsEmulator, c: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS, records=[row(1)])
    body = {"table_id": tid, "page": 1, "page_size": 10, **change}
    r = await c.post("/v1/database/records/page", json={k: v for k, v in body.items() if v is not None})
    assert r.status_code == 400 and r.json()["code"] == 40000


async def test_records_page_filter_keyword_and_tables(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(
        AGENT, "t", FIELDS, records=[row(i, title=t) for i, t in enumerate(["Red", "Blue", "red wine"])]
    )
    data = (await page(c, tid, filter={"id": "k1"})).json()["data"]
    assert [r["value"]["title"] for r in data["records"]] == ["Blue"] and data["total_count"] == 1
    data = (await page(c, tid, filter={"id": "missing"})).json()["data"]
    assert data["records"] == [] and data["total_count"] == 0
    data = (await page(c, tid, keyword="RED")).json()["data"]
    assert [r["value"]["title"] for r in data["records"]] == ["Red", "red wine"]
    data = (await page(c, tid, keyword="wine", filter={"id": "k0"})).json()["data"]
    assert data["records"] == []
    assert (await page(c, "f" * 24)).json()["code"] == 403106
    other = emu.add_table(OTHER_AGENT, "o", FIELDS)
    r = await page(c, other)
    assert r.status_code == 403 and r.json()["code"] == 403131


async def test_records_page_bare_option() -> None:
    emu = make_emu(records_page_envelope=False)
    tid = emu.add_table(AGENT, "t", FIELDS, records=[row(1)])
    async with client_for(emu) as c:
        body = (await page(c, tid)).json()
    assert set(body) == {"table_info", "records", "total_count"}
    assert body["records"][0]["value"]["id"] == "k1"


# ---------------------------------------------------------------- update v2


async def test_update_by_id_filter_and_create(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    rid1, _ = emu.add_records(tid, [row(1), row(2)])
    before = emu.records(tid)[0]["updated_at"]
    emu.clock.advance(5)
    body = {
        "table_id": tid,
        "update_data": [
            {
                "record_id": rid1,
                "updated_fields": {"title": "one", "done": True, "due": "2030-01-02 03:04:05"},
            },
            {"filter": {"id": "k2"}, "updated_fields": {"no": 22, "price": None}},
            {"record_id": rid1, "filter": {"id": "k2"}, "updated_fields": {"price": 1}},  # record_id wins
        ],
    }
    r = await c.post("/v2/database/update/record", json=body)
    assert r.status_code == 200
    assert r.json() == {"totalCount": 3, "success_count": 3, "fail_count": 0, "fail_detail": []}
    rows = emu.rows(tid)
    assert rows[0] == {
        "id": "k1",
        "title": "one",
        "no": 1,
        "price": 1.0,
        "due": "2030-01-02 03:04:05",
        "done": True,
    }
    assert rows[1]["no"] == 22 and rows[1]["price"] is None
    assert emu.records(tid)[0]["updated_at"] >= before + 5000
    # is_create: an unmatched filter creates; without it, it fails
    item = {"filter": {"id": "k3"}, "updated_fields": {"no": 3}}
    r = await c.post("/v2/database/update/record", json={"table_id": tid, "update_data": [item]})
    assert r.json()["fail_count"] == 1
    assert r.json()["fail_detail"][0]["upsert_data"] == {"filter": {"id": "k3"}, "value": {"no": 3}}
    r = await c.post(
        "/v2/database/update/record", json={"table_id": tid, "is_create": True, "update_data": [item]}
    )
    assert r.json()["success_count"] == 1
    assert emu.rows(tid)[2] == {"id": "k3", "title": None, "no": 3, "price": None, "due": None, "done": None}


async def test_update_item_failures(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    rid1, _rid2 = emu.add_records(tid, [row(1), row(2)])
    items = [
        {"record_id": rid1, "updated_fields": {"no": "7"}},  # wrong type
        {"record_id": rid1, "updated_fields": {"id": "k2"}},  # unique taken
        {"record_id": rid1, "updated_fields": {"no": None}},  # required emptied
        {"record_id": rid1, "updated_fields": {"id": ""}},  # unique emptied
        {"record_id": rid1, "updated_fields": {"nope": 1}},  # unknown field
        {"record_id": "999", "updated_fields": {"no": 1}},  # no such record
        {"filter": {"title": "Title 1"}, "updated_fields": {"no": 1}},  # not a unique field
        {"updated_fields": {"no": 1}},  # no target
        {"record_id": rid1, "updated_fields": {"due": "2030-01-01"}},  # bad datetime
        {"record_id": rid1, "updated_fields": {"id": "k1b", "title": "ok"}},  # fine
    ]
    r = await c.post("/v2/database/update/record", json={"table_id": tid, "update_data": items})
    body = r.json()
    assert (body["totalCount"], body["success_count"], body["fail_count"]) == (10, 1, 9)
    assert body["fail_detail"][0] == {
        "upsert_data": {"record_id": rid1, "value": {"no": "7"}},
        "fail_reason": body["fail_detail"][0]["fail_reason"],
    }
    assert all(d["fail_reason"] for d in body["fail_detail"])
    assert [r["id"] for r in emu.rows(tid)] == ["k1b", "k2"]
    # the old unique value is free again
    r = await c.post(
        "/v2/database/update/record",
        json={"table_id": tid, "update_data": [{"filter": {"id": "k2"}, "updated_fields": {"id": "k1"}}]},
    )
    assert r.json()["success_count"] == 1


async def test_update_caps_and_errors(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    (rid,) = emu.add_records(tid, [row(1)])
    url = "/v2/database/update/record"
    item = {"record_id": rid, "updated_fields": {"no": 5}}
    r = await c.post(url, json={"table_id": tid, "update_data": [item] * 101})
    assert r.status_code == 400 and r.json()["code"] == 40000
    assert (await c.post(url, json={"table_id": tid, "update_data": [item] * 100})).json()[
        "success_count"
    ] == 100
    assert (await c.post(url, json={"table_id": tid, "update_data": []})).json()["code"] == 40000
    assert (await c.post(url, json={"table_id": tid, "update_data": ["x"]})).json()["code"] == 40000
    big = {"record_id": rid, "updated_fields": {"title": "x" * (5 * 1024 * 1024)}}
    assert (await c.post(url, json={"table_id": tid, "update_data": [big]})).json()["code"] == 40000
    assert (await c.post(url, json={"table_id": "a" * 24, "update_data": [item]})).json()["code"] == 403106
    other = emu.add_table(OTHER_AGENT, "o", FIELDS)
    assert (await c.post(url, json={"table_id": other, "update_data": [item]})).json()["code"] == 403131


async def test_update_envelope_option() -> None:
    emu = make_emu(update_envelope=True)
    tid = emu.add_table(AGENT, "t", FIELDS)
    (rid,) = emu.add_records(tid, [row(1)])
    async with client_for(emu) as c:
        body = (
            await c.post(
                "/v2/database/update/record",
                json={"table_id": tid, "update_data": [{"record_id": rid, "updated_fields": {"no": 2}}]},
            )
        ).json()
    assert body["code"] == 0 and body["data"]["success_count"] == 1


# ---------------------------------------------------------------- delete v2


async def test_delete(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    ids = emu.add_records(tid, [row(i) for i in range(1, 6)])
    url = "/v2/database/delete/record"
    body = {
        "table_id": tid,
        "delete_data": [{"record_id": ids[0]}, {"filter": {"id": "k3"}}, {"record_id": "404"}],
    }
    r = await c.post(url, json=body)
    assert r.status_code == 200 and r.json() == {"code": 0, "message": "OK"}
    assert [r["id"] for r in emu.rows(tid)] == ["k2", "k4", "k5"]
    # the unique value is free again after delete
    await import_rows(c, tid, [row(1)])
    assert [r["id"] for r in emu.rows(tid)] == ["k2", "k4", "k5", "k1"]
    r = await c.post(url, json={"table_id": tid, "delete_data": [{"record_id": "1"}] * 1001})
    assert r.status_code == 400 and r.json()["code"] == 40000
    assert (await c.post(url, json={"table_id": tid, "delete_data": [{"record_id": "1"}] * 1000})).json()[
        "code"
    ] == 0
    bad = {"table_id": tid, "delete_data": [{"record_id": ids[1]}, {"filter": {"title": "Title 4"}}]}
    assert (await c.post(url, json=bad)).json()["code"] == 40000
    assert len(emu.rows(tid)) == 4  # nothing deleted by the rejected request
    assert (await c.post(url, json={"table_id": tid, "delete_data": []})).json()["code"] == 40000
    assert (await c.post(url, json={"table_id": tid, "delete_data": [{}]})).json()["code"] == 40000
    other = emu.add_table(OTHER_AGENT, "o", FIELDS)
    assert (await c.post(url, json={"table_id": other, "delete_data": [{"record_id": "1"}]})).json()[
        "code"
    ] == 403131


# ---------------------------------------------------------------- rate limit, faults, status style


async def test_rate_limit_option() -> None:
    emu = make_emu(rate_limit=2)
    async with client_for(emu) as c:
        codes = [
            (await c.post("/v1/database/tables/page", json={"agent_id": AGENT})).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        r = await c.post("/v1/database/tables/page", json={"agent_id": AGENT})
        assert r.json() == {"code": 42900, "message": "Too many requests"}
        emu.clock.advance(1.1)
        assert (await c.post("/v1/database/tables/page", json={"agent_id": AGENT})).status_code == 200


async def test_no_rate_limit_by_default(c: httpx.AsyncClient) -> None:
    for _ in range(50):
        assert (await c.get("/v1/api-key/verify")).status_code == 200


async def test_fault_transient_changes_nothing(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    emu.faults.add("transient", match="import/records")
    r = await c.post("/v1/database/import/records", json={"table_id": tid, "records": [row(1)]})
    assert r.status_code == 500 and r.json() == {"code": 50000, "message": "Internal system error"}
    assert emu.tasks == {} and emu.rows(tid) == []
    assert (await c.post("/v1/database/import/records", json={"table_id": tid, "records": [row(1)]})).json()[
        "code"
    ] == 0


async def test_fault_throttle(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    emu.faults.add("throttle")
    r = await page(c, tid)
    assert r.status_code == 429 and r.json()["code"] == 42900


async def test_fault_lost_response_applies_the_write(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    emu.faults.add("lost_response", match="import/records")
    with pytest.raises(httpx.ReadTimeout):
        await c.post("/v1/database/import/records", json={"table_id": tid, "records": [row(1)]})
    assert len(emu.tasks) == 1 and [r["id"] for r in emu.rows(tid)] == ["k1"]
    # a retry of the same import fails on the unique field: no duplicate row
    task = await import_rows(c, tid, [row(1)])
    assert (await results(c, task))["data"][0]["status"] == "FAIL"
    assert len(emu.rows(tid)) == 1
    (rid,) = [r["id"] for r in emu.records(tid)]
    emu.faults.add("lost_response", match="update")
    with pytest.raises(httpx.ReadTimeout):
        await c.post(
            "/v2/database/update/record",
            json={"table_id": tid, "update_data": [{"record_id": rid, "updated_fields": {"no": 9}}]},
        )
    assert emu.rows(tid)[0]["no"] == 9
    emu.faults.add("lost_response", match="records/page")  # a read: turned into a transient error
    assert (await page(c, tid)).status_code == 500


async def test_always_200_error_style() -> None:
    emu = make_emu(error_status="always_200")
    async with client_for(emu) as c:
        r = await page(c, "0" * 24)
        assert r.status_code == 200 and r.json()["code"] == 403106
    async with client_for(emu, "bad") as c:
        r = await c.post("/v1/database/tables/page", json={"agent_id": AGENT})
        assert r.status_code == 200 and r.json()["code"] == 40127


async def test_ids_are_deterministic() -> None:
    a, b = make_emu(), make_emu()
    assert a.add_table(AGENT, "t", FIELDS) == b.add_table(AGENT, "t", FIELDS)


async def test_bulk_import_and_read_back_is_fast(emu: GPTBotsEmulator, c: httpx.AsyncClient) -> None:
    tid = emu.add_table(AGENT, "t", FIELDS)
    tasks = [await import_rows(c, tid, [row(i) for i in range(s, s + 1000)]) for s in range(0, 5000, 1000)]
    body = await results(c, *tasks)
    assert all(t["status"] == "SUCCESS" for t in body["data"]) and body["progress"] == 1
    seen = 0
    for p in range(1, 51):
        seen += len((await page(c, tid, page=p)).json()["data"]["records"])
    assert seen == 5000
