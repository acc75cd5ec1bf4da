"""The server-side evaluator and the local SQL compiler give the same answers.

Providers leave to the evaluator what they cannot filter, so the two must agree on every
operator, type and empty value: checked here on random records and random filters.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from anytable.providers.base import PageRequest
from anytable.providers.evaluate import matches, sort_records
from anytable.providers.local import records
from anytable.providers.local.provider import LocalProvider
from anytable.schemas.fields import FieldSpec, FieldType
from anytable.schemas.filters import SUPPORTED_OPS, parse_sort, parse_where
from anytable.schemas.values import coerce_write

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")
WORDS = ["apple", "Apple pie", "BANANA", "cherry", "Äpfel", "ärger", "x_y", "50%", ""]
OPTIONS = ["red", "green", "blue"]
DATES = [
    "2026-11-20",
    "2026-11-21T23:30:00+08:00",
    "2026-11-22T00:00:00+08:00",
    "2026-11-22T12:00:00+08:00",
    "2026-11-23",
]
SPECS = [
    FieldSpec(name="text", type=FieldType.text),
    FieldSpec(name="num", type=FieldType.number),
    FieldSpec(name="flag", type=FieldType.checkbox),
    FieldSpec(name="one", type=FieldType.single_select, options=OPTIONS),
    FieldSpec(name="many", type=FieldType.multi_select, options=OPTIONS),
    FieldSpec(name="when", type=FieldType.date),
    FieldSpec(name="who", type=FieldType.user),
    FieldSpec(name="site", type=FieldType.url),
    FieldSpec(name="refs", type=FieldType.link),
]


def random_value(rng: random.Random, name: str) -> Any:
    if rng.random() < 0.2:
        return None
    return {
        "text": lambda: rng.choice(WORDS),
        "num": lambda: rng.choice([-1, 0, 1.5, 2, 10, 10.0, 100]),
        "flag": lambda: rng.choice([True, False]),
        "one": lambda: rng.choice(OPTIONS),
        "many": lambda: rng.sample(OPTIONS, rng.randint(1, 3)),
        "when": lambda: rng.choice(DATES),
        "who": lambda: [{"id": u} for u in rng.sample(["u1", "u2", "u3"], rng.randint(1, 2))],
        "site": lambda: rng.choice(
            ["https://a.example/Apple", {"text": "Banana site", "link": "https://b.example"}]
        ),
        "refs": lambda: rng.sample(["r1", "r2", "r3"], rng.randint(1, 2)),
    }[name]()


def random_operand(rng: random.Random, ftype: FieldType, op: str) -> Any:
    single = {
        FieldType.text: lambda: rng.choice([w for w in WORDS if w] + ["app", "äp", "PIE", "%", "_"]),
        FieldType.number: lambda: rng.choice([-1, 0, 1.5, 2, 10, 50]),
        FieldType.checkbox: lambda: rng.choice([True, False]),
        FieldType.single_select: lambda: (
            rng.choice(OPTIONS) if op in ("eq", "neq", "in") else rng.choice(["re", "E", "blue"])
        ),
        FieldType.multi_select: lambda: rng.sample(OPTIONS, rng.randint(1, 2)),
        FieldType.date: lambda: rng.choice([*DATES, "2026-11-21T15:30:00Z"]),
        FieldType.user: lambda: rng.choice(["u1", ["u1", "u2"], {"id": "u3"}]),
        FieldType.url: lambda: rng.choice(["apple", "https://b.example", "SITE"]),
        FieldType.link: lambda: rng.choice(["r1", ["r1", "r3"]]),
    }[ftype]
    if op == "in":
        return [single() if ftype is not FieldType.multi_select else rng.choice(OPTIONS) for _ in range(2)]
    return single()


def random_where(rng: random.Random, fields: dict[str, FieldType], depth: int = 0) -> dict[str, Any]:
    if depth < 2 and rng.random() < 0.3:
        kind = rng.choice(["and", "or"])
        return {kind: [random_where(rng, fields, depth + 1) for _ in range(rng.randint(2, 3))]}
    name = rng.choice(list(fields))
    op = rng.choice(SUPPORTED_OPS[fields[name]])
    cond: dict[str, Any] = {"field": name, "op": op}
    if op not in ("is_empty", "is_not_empty"):
        cond["value"] = random_operand(rng, fields[name], op)
    return cond


async def _no_link_check(*args: Any) -> None:
    """Links name made-up ids here."""


@asynccontextmanager
async def _store(kind: str, tmp_path: Path) -> AsyncIterator[LocalProvider]:
    if kind == "sqlite":
        local = LocalProvider(tmp_path / "eq.sqlite")
        yield local
        await local.aclose()
        return
    from anytable.providers.local.postgres import PostgresBackend
    from tests.pg import fresh_store

    async with fresh_store() as url:
        local = LocalProvider(PostgresBackend(url))
        yield local
        await local.aclose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_sql_and_evaluator_agree(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "check_links", _no_link_check)
    async with _store(kind, tmp_path) as local:
        await _agree(local)


async def _agree(local: LocalProvider) -> None:
    rng = random.Random(7)
    info = await local.create_table("b", "t", [FieldSpec(name="title", type=FieldType.text), *SPECS])
    schema = await local.get_schema("b", info.id)
    rows = []
    for i in range(300):
        row: dict[str, Any] = {"title": f"r{i}"}
        for spec in SPECS:
            value = random_value(rng, spec.name)
            if value is not None:
                row[spec.name] = coerce_write(schema.find_field(spec.name), value, TZ)  # type: ignore[arg-type]
        rows.append(row)
    await local.create_batch("b", schema, rows)
    everything = (await local.read_page("b", schema, PageRequest(None, [], None, None, 1000, None))).records
    assert len(everything) == 300
    types = {spec.name: spec.type for spec in SPECS}
    checked = 0
    for _ in range(400):
        where = random_where(rng, types)
        node = parse_where(where, schema, TZ)
        compiled = local.compile_filter(node, schema)
        page = await local.read_page("b", schema, PageRequest(compiled.native, [], None, None, 1000, None))
        by_sql = sorted(r["id"] for r in page.records)
        by_python = sorted(r["id"] for r in everything if matches(node, r))
        assert by_sql == by_python, where
        checked += len(by_python)
    assert checked > 1000  # the filters matched a fair number of records, not just nothing

    for name in ("num", "when", "text", "one", "flag"):
        for desc in (False, True):
            keys = parse_sort([{"field": name, "desc": desc}], schema)
            page = await local.read_page("b", schema, PageRequest(None, keys, None, None, 1000, None))
            expected = [r["id"] for r in sort_records(everything, keys)]
            assert [r["id"] for r in page.records] == expected, (name, desc)
