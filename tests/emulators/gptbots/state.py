"""GPTBots emulator: field types and limits, the stored state (tables, records, import tasks), seeding and inspection."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

FIELD_TYPES = ("TEXT", "INT", "FLOAT", "DATETIME", "BOOLEAN")
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

MAX_DESCRIPTION = 128
MAX_IMPORT_ROWS = 1000
MAX_IMPORT_CSV_BYTES = 10 * 1024 * 1024
MAX_UNIQUE_CHARS = 256
MAX_PAGE_SIZE = 100
MAX_UPDATE_ITEMS = 100
MAX_UPDATE_BODY_BYTES = 5 * 1024 * 1024
MAX_DELETE_ITEMS = 1000
CHUNK_ROWS = 10

OK = {"code": 0, "message": "OK"}


@dataclass
class Field:
    name: str
    type: str
    description: str
    required: bool = False
    unique: bool = False

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "required": self.required,
            "unique": self.unique,
        }


@dataclass
class Record:
    id: str
    value: dict[str, Any]  # only non-empty values are stored
    created_at: int
    updated_at: int


@dataclass
class Table:
    id: str
    agent_id: str
    name: str
    description: str
    fields: list[Field]
    records: dict[str, Record] = field(default_factory=dict)  # insertion (= creation) order
    # unique field name -> stored value -> record id
    index: dict[str, dict[Any, str]] = field(default_factory=dict)
    queue: deque[ImportTask] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.index = {f.name: {} for f in self.fields if f.unique}


@dataclass
class ImportTask:
    id: str
    table_id: str
    agent_id: str
    rows: list[dict[str, Any]]
    created: float
    duration: float
    start: float | None = None  # when it reached the head of its table's queue
    processed: int = 0
    success_count: int = 0
    fail_count: int = 0
    fail_detail: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    @property
    def total(self) -> int:
        return len(self.rows)


class SeedingMixin:
    """GPTBots emulator: field types and limits, the stored state (tables, records, import tasks), seeding and inspection (a part of :class:`GPTBotsEmulator`)."""

    # ------------------------------------------------------------------ seeding / inspection helpers

    def add_api_key(self, key: str, agent_id: str) -> None:
        self.api_keys[key] = agent_id

    def add_table(
        self,
        agent_id: str,
        name: str,
        fields: list[dict[str, Any]],
        description: str | None = None,
        records: list[dict[str, Any]] | None = None,
    ) -> str:
        """Create a table directly (no validation of names); returns its 24-hex id.

        ``fields``: ``[{"name", "type", "description"?, "required"?, "unique"?}]``.
        ``records``: flat value dicts, stored at once (they must be valid; ValueError otherwise).
        """
        table = Table(
            id=self._object_id(),
            agent_id=agent_id,
            name=name,
            description=description if description is not None else name,
            fields=[
                Field(
                    name=f["name"],
                    type=f["type"],
                    description=f.get("description", f["name"]),
                    required=bool(f.get("required", False)),
                    unique=bool(f.get("unique", False)),
                )
                for f in fields
            ],
        )
        self.tables[table.id] = table
        if records:
            self.add_records(table.id, records)
        return table.id

    def add_records(self, table_id: str, rows: list[dict[str, Any]]) -> list[str]:
        """Store flat value dicts directly (validated like an import row); returns the record ids."""
        table = self.tables[table_id]
        ids = []
        for row in rows:
            value, reason = self._prepare_row(table, row, None)
            if value is None:
                raise ValueError(reason)
            ids.append(self._insert(table, value).id)
        return ids

    def rows(self, table_id: str) -> list[dict[str, Any]]:
        """The stored values of a table, in creation order, with every field (empty = None)."""
        self.run_imports()
        table = self.tables[table_id]
        return [self._full_value(table, rec) for rec in table.records.values()]

    def records(self, table_id: str) -> list[dict[str, Any]]:
        """The stored records as records/page renders them: ``{id, value, created_at, updated_at}``."""
        self.run_imports()
        table = self.tables[table_id]
        return [self._render_record(table, rec) for rec in table.records.values()]

    def task(self, task_id: str) -> dict[str, Any]:
        """An import task as the newer import-results form renders it."""
        self.run_imports()
        return self._render_task(self.tasks[task_id])

    def run_imports(self) -> None:
        """Process the import chunks that are due by ``self.clock.now()``."""
        self._advance(self.clock.now())

    def finish_imports(self) -> None:
        """Complete every pending import now, whatever its processing time."""
        self._advance(float("inf"))
