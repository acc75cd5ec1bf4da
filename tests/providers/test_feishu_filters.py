"""``where`` on Feishu: compiled to records/search filters that never drop a record the contract
would keep, exact where Feishu's operators mean the same, checked in the server where not."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from anytable.providers.evaluate import matches
from anytable.providers.feishu.filters import compile_where
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.filters import parse_where
from tests.emulators.feishu import FeishuError
from tests.harness import Harness, serve
from tests.providers.feishu_harness import USERS, emulator, env

pytestmark = pytest.mark.anyio
TZ = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")

SCHEMA = TableSchema(
    id="tbl",
    name="t",
    fields=[
        FieldInfo(id="f1", name="name", type=FieldType.text, primary=True),
        FieldInfo(id="f2", name="n", type=FieldType.number),
        FieldInfo(id="f3", name="status", type=FieldType.single_select, options=["todo", "doing", "done"]),
        FieldInfo(id="f4", name="tags", type=FieldType.multi_select, options=["a", "b", "c"]),
        FieldInfo(id="f5", name="due", type=FieldType.date),
        FieldInfo(id="f6", name="ok", type=FieldType.checkbox),
    ],
)


def compiled(where: Any) -> tuple[Any, bool]:
    result = compile_where(parse_where(where, SCHEMA, TZ))
    return (result.native.filter if result.native else None), result.exact


def test_negations_also_ask_for_empty_values() -> None:
    native, exact = compiled({"field": "name", "op": "neq", "value": "x"})
    assert exact and native == {
        "conjunction": "or",
        "conditions": [
            {"field_name": "name", "operator": "isNot", "value": ["x"]},
            {"field_name": "name", "operator": "isEmpty", "value": []},
        ],
    }


def test_order_comparisons_leave_empty_values_out() -> None:
    native, exact = compiled(
        {"and": [{"field": "n", "op": "gt", "value": 2.5}, {"field": "ok", "op": "eq", "value": False}]}
    )
    assert exact and native == {
        "conjunction": "and",
        "conditions": [
            {"field_name": "n", "operator": "isGreater", "value": ["2.5"]},
            {"field_name": "n", "operator": "isNotEmpty", "value": []},
            {"field_name": "ok", "operator": "is", "value": ["false"]},
        ],
    }


def test_or_of_ands_uses_children() -> None:
    native, exact = compiled(
        {
            "or": [
                {"field": "name", "op": "eq", "value": "a"},
                {
                    "and": [
                        {"field": "n", "op": "eq", "value": 1},
                        {"field": "tags", "op": "contains", "value": ["a", "b"]},
                    ]
                },
            ]
        }
    )
    assert exact and native == {
        "conjunction": "or",
        "conditions": [{"field_name": "name", "operator": "is", "value": ["a"]}],
        "children": [
            {
                "conjunction": "and",
                "conditions": [
                    {"field_name": "n", "operator": "is", "value": ["1"]},
                    {"field_name": "tags", "operator": "contains", "value": ["a"]},
                    {"field_name": "tags", "operator": "contains", "value": ["b"]},
                ],
            }
        ],
    }


def test_dates_are_widened_and_checked_in_the_server() -> None:
    native, exact = compiled({"field": "due", "op": "eq", "value": "2026-11-22"})
    assert not exact
    start = 1795276800000  # 2026-11-22T00:00+08:00
    assert native == {
        "conjunction": "and",
        "conditions": [
            {
                "field_name": "due",
                "operator": "isGreater",
                "value": ["ExactDate", str(start - 2 * 86_400_000)],
            },
            {"field_name": "due", "operator": "isLess", "value": ["ExactDate", str(start + 3 * 86_400_000)]},
        ],
    }
    assert compiled({"field": "due", "op": "neq", "value": "2026-11-22"}) == (None, False)
    assert compiled({"field": "due", "op": "is_empty"})[1] is True


def test_deeper_nesting_is_widened_not_narrowed() -> None:
    where = {
        "and": [
            {"field": "name", "op": "contains", "value": "x"},
            {
                "or": [
                    {"field": "n", "op": "lt", "value": 3},
                    {
                        "and": [
                            {"field": "ok", "op": "eq", "value": True},
                            {"field": "status", "op": "neq", "value": "done"},
                        ]
                    },
                ]
            },
        ]
    }
    native, exact = compiled(where)
    assert not exact
    assert native["conditions"] == [{"field_name": "name", "operator": "contains", "value": ["x"]}]
    assert native["children"] == [
        {
            "conjunction": "or",
            "conditions": [
                {"field_name": "n", "operator": "isLess", "value": ["3"]},
                {"field_name": "ok", "operator": "is", "value": ["true"]},
            ],
        }
    ]


def test_select_substring_becomes_the_matching_options() -> None:
    native, exact = compiled({"field": "status", "op": "contains", "value": "ON"})
    assert exact and [c["value"] for c in native["conditions"]] == [["done"]]
    native, exact = compiled({"field": "status", "op": "contains", "value": "Do"})
    assert exact and [c["value"] for c in native["conditions"]] == [["todo"], ["doing"], ["done"]]
    native, exact = compiled({"field": "status", "op": "not_contains", "value": "n"})
    assert exact and [(c["operator"], c["value"]) for c in native["conditions"]] == [
        ("is", ["todo"]),
        ("isEmpty", []),
    ]


# ------------------------------------------------------------------------------------ against the emulator

FIELDS = [
    {"name": "name", "type": "text"},
    {"name": "n", "type": "number"},
    {"name": "status", "type": "single_select", "options": ["todo", "doing", "done"]},
    {"name": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
    {"name": "due", "type": "date"},
    {"name": "ok", "type": "checkbox"},
    {"name": "who", "type": "user"},
]
WORDS = ["alpha", "Beta", "gamma", "beta max", "ALPHA", "delta"]
DAYS = [
    "2026-11-20",
    "2026-11-21",
    "2026-11-22T09:30:00+08:00",
    "2026-11-22T23:59:00+08:00",
    "2026-11-23T00:00:00+08:00",
]


def random_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {}
        if rng.random() < 0.8:
            row["name"] = rng.choice(WORDS)
        if rng.random() < 0.8:
            row["n"] = rng.choice([0, 1, 2.5, 3, 10, -4])
        if rng.random() < 0.7:
            row["status"] = rng.choice(["todo", "doing", "done"])
        if rng.random() < 0.7:
            row["tags"] = rng.sample(["a", "b", "c"], rng.randint(1, 3))
        if rng.random() < 0.7:
            row["due"] = rng.choice(DAYS)
        row["ok"] = rng.random() < 0.5
        if rng.random() < 0.6:
            row["who"] = rng.sample(list(USERS), rng.randint(1, 2))
        rows.append(row)
    return rows


def random_cond(rng: random.Random) -> dict[str, Any]:
    field = rng.choice(["name", "n", "status", "tags", "due", "ok", "who"])
    if field == "ok":
        return {"field": "ok", "op": rng.choice(["eq", "neq"]), "value": rng.random() < 0.5}
    op = rng.choice(
        {
            "name": ["eq", "neq", "contains", "not_contains", "is_empty", "is_not_empty", "in", "gt", "lte"],
            "n": ["eq", "neq", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty", "in"],
            "status": ["eq", "neq", "contains", "not_contains", "is_empty", "is_not_empty", "in"],
            "tags": ["eq", "neq", "contains", "not_contains", "is_empty", "is_not_empty", "in"],
            "due": ["eq", "neq", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"],
            "who": ["contains", "not_contains", "eq", "is_empty", "in"],
        }[field]
    )
    if op in ("is_empty", "is_not_empty"):
        return {"field": field, "op": op}
    value: Any = {
        "name": lambda: rng.choice(["alpha", "BETA", "a", "delta", "zzz"]),
        "n": lambda: rng.choice([0, 1, 2.5, 3, "10"]),
        "status": lambda: (
            rng.choice(["todo", "doing", "done"])
            if op in ("eq", "neq", "in")
            else rng.choice(["do", "TO", "x"])
        ),
        "tags": lambda: rng.sample(["a", "b", "c"], rng.randint(1, 2)),
        "due": lambda: rng.choice(
            ["2026-11-22", "2026-11-21", "2026-11-22T09:30:00+08:00", "2026-11-22T01:30:00Z"]
        ),
        "who": lambda: rng.sample(list(USERS), 1),
    }[field]()
    if op == "in":
        value = [value] if field not in ("tags", "who") else [value[0]]
        if field in ("name", "n", "status"):
            value.append({"name": "gamma", "n": 3, "status": "done"}[field])
    return {"field": field, "op": op, "value": value}


def random_where(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    if depth >= 3 or rng.random() < 0.35:
        return random_cond(rng)
    kind = rng.choice(["and", "or"])
    return {kind: [random_where(rng, depth + 1) for _ in range(rng.randint(2, 3))]}


async def every_match(h: Harness, where: Any) -> tuple[set[str], bool]:
    ids: set[str] = set()
    cursor = None
    flags = set()
    while True:
        page = await h.svc.query_records("feishu", None, "rand", where=where, limit=500, cursor=cursor)
        ids |= {r["id"] for r in page["records"]}
        flags.add(page["server_filtered"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, flags.pop()


@pytest.mark.parametrize("refuse_children", [False, True], ids=["feishu", "no-children-deployment"])
async def test_random_filters_match_the_contract_meaning(tmp_path: Path, refuse_children: bool) -> None:
    emu = emulator(rate_limits={"records.search": 10_000})  # many queries: not a rate test
    if refuse_children:  # a deployment that refuses nested groups: we filter those queries ourselves
        original = emu._compile_filter

        def strict(app: Any, table: Any, filt: Any, id_type: str, depth: int = 0) -> Any:
            if isinstance(filt, dict) and filt.get("children"):
                raise FeishuError(1254018)
            return original(app, table, filt, id_type, depth)

        emu._compile_filter = strict  # type: ignore[method-assign]
    rng = random.Random(20261122)
    async with serve("feishu", env(), tmp_path, emulator=emu) as h:
        h.svc.providers["feishu"].api.http.limiter.rates["records.search"] = 10_000  # type: ignore[attr-defined]
        await h.call("create_table", name="rand", fields=FIELDS)
        await h.call("create_records", table="rand", records=random_rows(rng, 60))
        schema = await h.svc.schema(h.svc.address("feishu", None, "rand"))
        everything = (await h.svc.query_records("feishu", None, "rand", limit=500))["records"]
        canonical = {r["id"]: r for r in (await _canonical(h, schema))}
        assert len(canonical) == len(everything) == 60
        exact_seen = 0
        for _ in range(300):
            where = random_where(rng)
            node = parse_where(where, schema, h.svc.tz)
            expected = {rid for rid, r in canonical.items() if matches(node, r)}
            got, server_filtered = await every_match(h, where)
            assert got == expected, where
            exact_seen += not server_filtered
        assert exact_seen > 50  # most filters are Feishu's own
        refused = h.svc.providers["feishu"]._refused  # type: ignore[attr-defined]
        assert bool(refused) is refuse_children  # Feishu took every filter we sent, unless it could not


async def _canonical(h: Harness, schema: TableSchema) -> list[dict[str, Any]]:
    from anytable.providers.base import PageRequest

    provider = h.svc.providers["feishu"]
    page = await provider.read_page(
        "bascnContractBase0001", schema, PageRequest(None, [], None, None, 500, None)
    )
    return page.records


async def test_server_filtered_says_who_filtered(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        await h.call("create_table", name="flags", fields=FIELDS[:5])
        await h.call(
            "create_records", table="flags", records=[{"name": "a", "due": "2026-11-22"}, {"name": "b"}]
        )
        text = await h.call("query_records", table="flags", where={"field": "name", "op": "eq", "value": "a"})
        date = await h.call(
            "query_records", table="flags", where={"field": "due", "op": "eq", "value": "2026-11-22"}
        )
        both = await h.call(
            "query_records",
            table="flags",
            where={
                "or": [
                    {"field": "name", "op": "eq", "value": "b"},
                    {"field": "due", "op": "gte", "value": "2026-11-22"},
                ]
            },
        )
    assert text["server_filtered"] is False and [r["fields"]["name"] for r in text["records"]] == ["a"]
    assert date["server_filtered"] is True and [r["fields"]["name"] for r in date["records"]] == ["a"]
    assert both["server_filtered"] is True and len(both["records"]) == 2


async def test_a_view_and_a_filter_together(tmp_path: Path) -> None:
    emu = emulator()
    async with serve("feishu", env(), tmp_path, emulator=emu) as h:
        await h.call("create_table", name="viewed", fields=FIELDS[:3])
        await h.call(
            "create_records",
            table="viewed",
            records=[{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c", "n": 3}],
        )
        view = await h.call("create_view", table="viewed", name="small")
        table = emu.table("bascnContractBase0001", "viewed")
        n_field = table.by_name()["n"].field_id
        table.views[view["id"]].filter_info = {
            "conjunction": "and",
            "conditions": [{"field_id": n_field, "operator": "isLess", "value": '["3"]'}],
        }
        table.views[view["id"]].hidden_fields = [n_field]
        only_view = await h.call("query_records", table="viewed", view="small")
        both = await h.call(
            "query_records", table="viewed", view="small", where={"field": "n", "op": "gte", "value": 2}
        )
    assert [r["fields"] for r in only_view["records"]] == [{"name": "a", "n": 1}, {"name": "b", "n": 2}]
    assert [r["fields"] for r in both["records"]] == [{"name": "b", "n": 2}]  # the view's rows, then where
