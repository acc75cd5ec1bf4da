"""Record-level helpers of the local store: ids, attachment checks, link and existence checks."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

from anytable.errors import InputError
from anytable.providers.local.backend import Db
from anytable.providers.local.catalog import records_table
from anytable.schemas.fields import FieldType, TableSchema

_record_clock = itertools.count(time.time_ns() // 1000)


def record_ids(n: int) -> list[str]:
    """Record ids that sort by creation (index-friendly for bulk inserts) and do not collide:
    a microsecond-seeded counter plus random bits."""
    tail = secrets.token_bytes(3 * n).hex()
    return [f"rec{next(_record_clock):013x}{tail[6 * i : 6 * i + 6]}" for i in range(n)]


def is_attachment(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and set(item) <= {"name", "url", "type", "size"}
        and isinstance(item.get("name"), str)
        and isinstance(item.get("url"), str)
        and isinstance(item.get("type", ""), str)
        and (isinstance(item.get("size", 0), int) and not isinstance(item.get("size"), bool))
    )


def check_attachments(table: TableSchema, rows: list[dict[str, Any]]) -> None:
    """Attachments here are metadata: each is {"name", "url", "type"?, "size"?}."""
    for field in (f for f in table.fields if f.type is FieldType.attachment):
        for i, row in enumerate(rows):
            for item in row.get(field.name) or []:
                if not is_attachment(item):
                    raise InputError(
                        f"Record {i}: field {field.name!r} takes attachments like "
                        f'{{"name": "a.pdf", "url": "https://...", "type"?: "application/pdf", "size"?: 1024}}; '
                        f"got {json.dumps(item, ensure_ascii=False)[:80]}."
                    )


async def check_links(db: Db, table: TableSchema, rows: list[dict[str, Any]]) -> None:
    """Link values must name records of the linked table (of this base, when none is named)."""
    for field in (f for f in table.fields if f.type is FieldType.link):
        wanted = {rid for row in rows for rid in row.get(field.name) or []}
        if not wanted:
            continue
        if field.options:
            targets = [field.options[0]]
            if not await db.fetchone("SELECT 1 FROM at_tables WHERE id = ?", (targets[0],)):
                raise InputError(f"Field {field.name!r} links to table {targets[0]}, which no longer exists.")
        else:
            row = await db.fetchone("SELECT base FROM at_tables WHERE id = ?", (table.id,))
            assert row is not None
            targets = [
                tid for (tid,) in await db.fetchall("SELECT id FROM at_tables WHERE base = ?", (row[0],))
            ]
        found: set[str] = set()
        for tid in targets:
            found |= await existing(db, tid, list(wanted))
        missing = sorted(wanted - found)
        if missing:
            where = f"table {field.options[0]}" if field.options else "this base"
            raise InputError(
                f"Field {field.name!r}: no records {', '.join(missing[:20])} in {where}; link values are "
                "record ids of the linked table."
            )


async def existing(db: Db, table_id: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are records of the table."""
    found: set[str] = set()
    name = records_table(table_id)
    for i in range(0, len(ids), 10_000):
        part = ids[i : i + 10_000]
        marks = ",".join("?" * len(part))
        found |= {r for (r,) in await db.fetchall(f"SELECT rid FROM {name} WHERE rid IN ({marks})", part)}
    return found


async def missing(db: Db, table_id: str, ids: list[str]) -> list[str]:
    found = await existing(db, table_id, ids)
    return [i for i in ids if i not in found]
