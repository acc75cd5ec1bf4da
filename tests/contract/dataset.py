"""A small table with every kind of value, and helpers to build it on any provider."""

from __future__ import annotations

from typing import Any

from tests.harness import Harness

TABLE = "contract_items"
# name, score, status, tags, due, done
ROWS: list[dict[str, Any]] = [
    {"name": "alpha", "score": 10, "status": "todo", "tags": ["a"], "due": "2026-11-20", "done": False},
    {"name": "Beta", "score": 20, "status": "doing", "tags": ["a", "b"], "due": "2026-11-21", "done": True},
    {
        "name": "gamma",
        "score": 30,
        "status": "done",
        "tags": ["b"],
        "due": "2026-11-22T09:30:00+08:00",
        "done": False,
    },
    {"name": "delta", "status": "todo", "done": True},
    {
        "name": "Epsilon beta",
        "score": 5.5,
        "tags": ["a", "b", "c"],
        "due": "2026-11-22T23:59:00+08:00",
        "done": False,
    },
    {"score": 40, "status": "done", "tags": ["c"], "due": "2026-11-23", "done": False},
]
NAMES = ["alpha", "Beta", "gamma", "delta", "Epsilon beta", None]

FIELDS = [
    {"name": "name", "type": "text"},
    {"name": "score", "type": "number"},
    {"name": "status", "type": "single_select", "options": ["todo", "doing", "done"]},
    {"name": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
    {"name": "due", "type": "date"},
    {"name": "done", "type": "checkbox"},
]


def supported_fields(h: Harness) -> list[dict[str, Any]]:
    return [f for f in FIELDS if h.supports_type(f["type"])]


async def build(h: Harness, table: str = TABLE) -> list[str]:
    """Create the dataset table; the ids of ROWS in order."""
    fields = supported_fields(h)
    await h.call("create_table", name=table, fields=fields)
    names = {f["name"] for f in fields}
    rows = [{k: v for k, v in row.items() if k in names} for row in ROWS]
    created = await h.call("create_records", table=table, records=rows)
    assert created["created"] == len(ROWS)
    if created["ids"] is None:  # the provider gives no ids: find them by name
        records = await h.all_records(table)
        by_name = {r["fields"].get("name"): r["id"] for r in records}
        return [by_name[n] for n in NAMES]
    return created["ids"]


def names_of(records: list[dict[str, Any]]) -> list[str | None]:
    return [r["fields"].get("name") for r in records]
