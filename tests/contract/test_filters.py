"""The filter language and sort mean the same on every provider."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.dataset import TABLE, build, names_of
from tests.harness import Harness

pytestmark = pytest.mark.anyio

R6 = None  # the record with no name
ALL = {"alpha", "Beta", "gamma", "delta", "Epsilon beta", R6}

# (needed type, where, expected names)
FILTERS: list[tuple[str, Any, set[str | None]]] = [
    ("text", {"field": "name", "op": "eq", "value": "alpha"}, {"alpha"}),
    ("text", {"field": "name", "op": "neq", "value": "alpha"}, ALL - {"alpha"}),
    ("text", {"field": "name", "op": "contains", "value": "BETA"}, {"Beta", "Epsilon beta"}),
    ("text", {"field": "name", "op": "not_contains", "value": "beta"}, {"alpha", "gamma", "delta", R6}),
    ("text", {"field": "name", "op": "is_empty"}, {R6}),
    ("text", {"field": "name", "op": "is_not_empty"}, ALL - {R6}),
    ("text", {"field": "name", "op": "in", "value": ["alpha", "gamma"]}, {"alpha", "gamma"}),
    ("number", {"field": "score", "op": "gt", "value": 10}, {"Beta", "gamma", R6}),
    ("number", {"field": "score", "op": "gte", "value": 10}, {"alpha", "Beta", "gamma", R6}),
    ("number", {"field": "score", "op": "lt", "value": 10}, {"Epsilon beta"}),
    ("number", {"field": "score", "op": "lte", "value": "20"}, {"alpha", "Beta", "Epsilon beta"}),
    ("number", {"field": "score", "op": "eq", "value": 30}, {"gamma"}),
    ("number", {"field": "score", "op": "neq", "value": 30}, ALL - {"gamma"}),
    ("number", {"field": "score", "op": "is_empty"}, {"delta"}),
    ("number", {"field": "score", "op": "in", "value": [10, 40]}, {"alpha", R6}),
    ("single_select", {"field": "status", "op": "eq", "value": "todo"}, {"alpha", "delta"}),
    (
        "single_select",
        {"field": "status", "op": "neq", "value": "todo"},
        {"Beta", "gamma", "Epsilon beta", R6},
    ),
    ("single_select", {"field": "status", "op": "is_empty"}, {"Epsilon beta"}),
    ("single_select", {"field": "status", "op": "in", "value": ["doing", "done"]}, {"Beta", "gamma", R6}),
    ("multi_select", {"field": "tags", "op": "contains", "value": "a"}, {"alpha", "Beta", "Epsilon beta"}),
    ("multi_select", {"field": "tags", "op": "contains", "value": ["a", "b"]}, {"Beta", "Epsilon beta"}),
    ("multi_select", {"field": "tags", "op": "eq", "value": ["b", "a"]}, {"Beta"}),
    ("multi_select", {"field": "tags", "op": "not_contains", "value": "a"}, {"gamma", "delta", R6}),
    ("multi_select", {"field": "tags", "op": "is_empty"}, {"delta"}),
    ("multi_select", {"field": "tags", "op": "in", "value": ["c"]}, {"Epsilon beta", R6}),
    ("date", {"field": "due", "op": "eq", "value": "2026-11-22"}, {"gamma", "Epsilon beta"}),
    ("date", {"field": "due", "op": "gt", "value": "2026-11-22"}, {R6}),
    ("date", {"field": "due", "op": "gte", "value": "2026-11-22"}, {"gamma", "Epsilon beta", R6}),
    ("date", {"field": "due", "op": "lt", "value": "2026-11-21"}, {"alpha"}),
    ("date", {"field": "due", "op": "lte", "value": "2026-11-21"}, {"alpha", "Beta"}),
    ("date", {"field": "due", "op": "neq", "value": "2026-11-22"}, {"alpha", "Beta", "delta", R6}),
    ("date", {"field": "due", "op": "is_empty"}, {"delta"}),
    ("date", {"field": "due", "op": "eq", "value": "2026-11-22T09:30:00+08:00"}, {"gamma"}),
    ("date", {"field": "due", "op": "gt", "value": "2026-11-22T01:30:00Z"}, {"Epsilon beta", R6}),
    ("checkbox", {"field": "done", "op": "eq", "value": True}, {"Beta", "delta"}),
    ("checkbox", {"field": "done", "op": "eq", "value": False}, {"alpha", "gamma", "Epsilon beta", R6}),
    ("checkbox", {"field": "done", "op": "neq", "value": True}, {"alpha", "gamma", "Epsilon beta", R6}),
    (
        "single_select",
        {
            "and": [
                {"field": "status", "op": "eq", "value": "todo"},
                {"field": "name", "op": "neq", "value": "alpha"},
            ]
        },
        {"delta"},
    ),
    (
        "multi_select",
        {
            "or": [
                {"field": "score", "op": "gt", "value": 25},
                {
                    "and": [
                        {"field": "tags", "op": "contains", "value": "c"},
                        {"field": "name", "op": "contains", "value": "EPS"},
                    ]
                },
            ]
        },
        {"gamma", R6, "Epsilon beta"},
    ),
]


@pytest.fixture
async def items(h: Harness) -> Harness:
    await build(h)
    return h


@pytest.mark.parametrize("case", range(len(FILTERS)), ids=[f"{f[0]}-{i}" for i, f in enumerate(FILTERS)])
async def test_filter(items: Harness, case: int) -> None:
    needed, where, expected = FILTERS[case]
    if not items.supports_type(needed) or not items.supports_type("text"):
        pytest.skip(f"{items.provider} has no {needed} fields")
    page = await items.call("query_records", table=TABLE, where=where, limit=500)
    assert isinstance(page["server_filtered"], bool)
    assert page["next_cursor"] is None
    got = names_of(page["records"])
    assert sorted(got, key=str) == sorted(expected, key=str), where


@pytest.mark.parametrize(
    ("field", "desc", "expected"),
    [
        ("score", True, [R6, "gamma", "Beta", "alpha", "Epsilon beta", "delta"]),
        ("score", False, ["Epsilon beta", "alpha", "Beta", "gamma", R6, "delta"]),
        ("due", False, ["alpha", "Beta", "gamma", "Epsilon beta", R6, "delta"]),
        ("due", True, [R6, "Epsilon beta", "gamma", "Beta", "alpha", "delta"]),
    ],
)
async def test_sort_puts_empty_values_last(
    items: Harness, field: str, desc: bool, expected: list[Any]
) -> None:
    page = await items.call("query_records", table=TABLE, sort=[{"field": field, "desc": desc}])
    assert names_of(page["records"]) == expected


async def test_sort_with_filter_and_projection(items: Harness) -> None:
    page = await items.call(
        "query_records",
        table=TABLE,
        where={"field": "score", "op": "gte", "value": 10},
        sort=[{"field": "score", "desc": True}],
        fields=["name"],
    )
    assert [r["fields"] for r in page["records"]] == [
        {},
        {"name": "gamma"},
        {"name": "Beta"},
        {"name": "alpha"},
    ]


async def test_projection_returns_only_named_fields(items: Harness) -> None:
    page = await items.call(
        "query_records", table=TABLE, fields=["score"], where={"field": "name", "op": "eq", "value": "Beta"}
    )
    assert [r["fields"] for r in page["records"]] == [{"score": 20}]


async def test_bad_filters_say_what_fits(items: Harness) -> None:
    message = await items.fails("query_records", table=TABLE, where={"field": "nope", "op": "eq", "value": 1})
    assert "nope" in message and "name" in message
    message = await items.fails(
        "query_records", table=TABLE, where={"field": "name", "op": "like", "value": "a"}
    )
    assert "like" in message and "contains" in message
    message = await items.fails(
        "query_records", table=TABLE, where={"field": "score", "op": "contains", "value": 1}
    )
    assert "contains" in message and "gt" in message
    message = await items.fails(
        "query_records", table=TABLE, where={"field": "due", "op": "eq", "value": "soon"}
    )
    assert "2026-11-22" in message
    message = await items.fails(
        "query_records", table=TABLE, where={"field": "score", "op": "in", "value": 3}
    )
    assert "list" in message
    if items.supports_type("single_select"):
        message = await items.fails(
            "query_records", table=TABLE, where={"field": "status", "op": "eq", "value": "nope"}
        )
        assert "todo" in message
    message = await items.fails("query_records", table=TABLE, sort=[{"field": "nope"}])
    assert "nope" in message
