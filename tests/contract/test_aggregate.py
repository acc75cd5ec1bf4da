"""aggregate_records against values computed here, independently, from the rows the test wrote."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.contract.dataset import ROWS, TABLE, build
from tests.harness import TZ, Harness

pytestmark = pytest.mark.anyio


def local_day(value: str) -> date:
    if "T" not in value:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).astimezone(ZoneInfo(TZ)).date()


def period(d: date, by: str) -> str:
    start = {
        "day": d,
        "week": d - timedelta(days=d.weekday()),
        "month": d.replace(day=1),
        "quarter": date(d.year, (d.month - 1) // 3 * 3 + 1, 1),
        "year": date(d.year, 1, 1),
    }[by]
    return start.isoformat()


def as_map(groups: list[dict[str, Any]], key: str, metric: str = "count") -> dict[Any, Any]:
    return {g[key]: g[metric] for g in groups}


async def test_totals_without_groups(h: Harness) -> None:
    await build(h)
    scores = [r["score"] for r in ROWS if "score" in r]
    out = await h.call(
        "aggregate_records",
        table=TABLE,
        metrics=[
            {"op": "count"},
            {"op": "sum", "field": "score"},
            {"op": "avg", "field": "score"},
            {"op": "min", "field": "score"},
            {"op": "max", "field": "score", "as": "top"},
            {"op": "count", "field": "name", "as": "named"},
            {"op": "count_distinct", "field": "name"},
        ],
    )
    (row,) = out["groups"]
    assert row["count"] == len(ROWS) and out["scanned"] == len(ROWS) and out["total_groups"] == 1
    assert row["sum(score)"] == pytest.approx(sum(scores))
    assert row["avg(score)"] == pytest.approx(sum(scores) / len(scores))
    assert row["min(score)"] == min(scores) and row["top"] == max(scores)
    assert row["named"] == sum(1 for r in ROWS if r.get("name"))  # count of a field: records with a value
    assert row["count_distinct(name)"] == len({r["name"] for r in ROWS if r.get("name")})
    plain = await h.call("aggregate_records", table=TABLE)
    assert plain["groups"] == [{"count": len(ROWS)}]
    filtered = await h.call(
        "aggregate_records", table=TABLE, where={"field": "score", "op": "gte", "value": 20}
    )
    assert filtered["groups"] == [{"count": sum(1 for s in scores if s >= 20)}]
    nothing = await h.call(
        "aggregate_records",
        table=TABLE,
        where={"field": "score", "op": "gt", "value": 1000},
        metrics=[{"op": "count"}, {"op": "avg", "field": "score"}],
    )
    assert nothing["groups"] == [{"count": 0, "avg(score)": None}]


async def test_grouping_by_each_field_type(h: Harness) -> None:
    await build(h)
    if h.supports_type("single_select"):
        out = await h.call(
            "aggregate_records",
            table=TABLE,
            group_by=["status"],
            metrics=[{"op": "count"}, {"op": "sum", "field": "score"}],
        )
        expected = Counter(r.get("status") for r in ROWS)
        assert as_map(out["groups"], "status") == dict(expected)
        sums: dict[Any, float] = defaultdict(float)
        for r in ROWS:
            sums[r.get("status")] += r.get("score", 0)
        assert {k: pytest.approx(v) for k, v in sums.items()} == as_map(out["groups"], "status", "sum(score)")
        assert out["groups"][-1]["status"] is None  # the empty group sorts last
    if h.supports_type("multi_select"):
        out = await h.call("aggregate_records", table=TABLE, group_by=["tags"])
        expected = Counter(t for r in ROWS for t in (r.get("tags") or [None]))
        assert as_map(out["groups"], "tags") == dict(expected)
        assert out["scanned"] == len(ROWS)  # each record once, however many groups it is in
    if h.supports_type("checkbox"):
        out = await h.call("aggregate_records", table=TABLE, group_by=["done"])
        assert as_map(out["groups"], "done") == dict(Counter(bool(r.get("done")) for r in ROWS))
    out = await h.call("aggregate_records", table=TABLE, group_by=["name"])
    assert as_map(out["groups"], "name") == dict(Counter(r.get("name") for r in ROWS))
    out = await h.call("aggregate_records", table=TABLE, group_by=["score"])
    assert as_map(out["groups"], "score") == dict(Counter(r.get("score") for r in ROWS))


@pytest.mark.parametrize("by", ["day", "week", "month", "quarter", "year"])
async def test_dates_group_by_period_in_the_timezone(h: Harness, by: str) -> None:
    if not h.supports_type("date"):
        pytest.skip("no date fields")
    await build(h)
    out = await h.call("aggregate_records", table=TABLE, group_by=[{"field": "due", "by": by}])
    expected = Counter(period(local_day(r["due"]), by) if r.get("due") else None for r in ROWS)
    assert as_map(out["groups"], "due") == dict(expected)
    assert out["server_computed"] is ("aggregate" not in h.caps["native"])
    days = [g["due"] for g in out["groups"] if g["due"] is not None]
    assert days == sorted(days)


async def test_sort_limit_and_two_group_fields(h: Harness) -> None:
    if not h.supports_type("single_select") or not h.supports_type("checkbox"):
        pytest.skip("needs select and checkbox fields")
    await build(h)
    out = await h.call(
        "aggregate_records",
        table=TABLE,
        group_by=["status", "done"],
        sort=[{"field": "count", "desc": True}, {"field": "status"}],
        limit=2,
    )
    expected = Counter((r.get("status"), bool(r.get("done"))) for r in ROWS)
    assert out["total_groups"] == len(expected)
    assert len(out["groups"]) == 2
    counts = [g["count"] for g in out["groups"]]
    assert counts == sorted(expected.values(), reverse=True)[:2]
    for g in out["groups"]:
        assert expected[(g["status"], g["done"])] == g["count"]
    where = {"field": "status", "op": "eq", "value": "todo"}
    only = await h.call("aggregate_records", table=TABLE, where=where, group_by=["status"])
    assert only["groups"] == [{"status": "todo", "count": sum(1 for r in ROWS if r.get("status") == "todo")}]


@pytest.mark.parametrize(
    ("args", "must_say"),
    [
        ({"group_by": ["nope"]}, ["group_by[0]", "nope", "name"]),
        ({"group_by": ["name", "score", "name", "score"]}, ["at most 3"]),
        ({"metrics": [{"op": "sum", "field": "name"}]}, ["metrics[0]", "sum", "number"]),
        ({"metrics": [{"op": "median", "field": "score"}]}, ["median", "count_distinct"]),
        ({"group_by": ["name"], "metrics": [{"op": "count", "as": "name"}]}, ["'name'", "label"]),
        ({"sort": [{"field": "missing"}]}, ["sort[0]", "count"]),
        ({"metrics": [{"op": "count"}, {"op": "count", "field": "name"}]}, ["'count'", "twice", "as"]),
        ({"group_by": [{"field": "name", "by": "month"}]}, ["date"]),
        ({"limit": 5000}, ["limit"]),
    ],
)
async def test_bad_aggregates_are_refused(h: Harness, args: dict[str, Any], must_say: list[str]) -> None:
    await build(h)
    message = await h.fails("aggregate_records", table=TABLE, **args)
    for text in must_say:
        assert text.lower() in message.lower(), message


async def test_where_the_work_is_done_and_progress_on_long_scans(h: Harness) -> None:
    await h.call(
        "create_table",
        name="many",
        fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    )
    total = 1_200
    await h.call(
        "create_records", table="many", records=[{"title": f"t{i % 7}", "n": i} for i in range(total)]
    )
    native = h.caps["native"]
    h.progress.clear()
    grouped = await h.call(
        "aggregate_records", table="many", group_by=["title"], metrics=[{"op": "sum", "field": "n"}]
    )
    assert grouped["server_computed"] is ("aggregate" not in native)
    assert grouped["scanned"] == total and grouped["total_groups"] == 7
    assert {g["title"]: g["sum(n)"] for g in grouped["groups"]} == {
        f"t{k}": sum(i for i in range(total) if i % 7 == k) for k in range(7)
    }
    pages = total > h.svc.providers[h.provider].limits.page_size
    if grouped["server_computed"] and pages:  # a scan over several pages reports progress
        assert h.progress and h.progress[-1][0] <= total
    before = len(h.emulator.requests) if h.emulator is not None else 0
    count = await h.call("aggregate_records", table="many", where={"field": "n", "op": "lt", "value": 1000})
    assert count["groups"] == [{"count": 1000}] and count["scanned"] == 1000
    if "count" in native and h.emulator is not None:  # the search answer's total: one request
        assert len(h.emulator.requests) - before == 1
    assert count["server_computed"] is not ({"aggregate", "count"} & set(native))
