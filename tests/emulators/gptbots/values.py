"""GPTBots emulator: value checks and rendering."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Record, Table


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float)) and not isinstance(v, bool)


def _is_empty(v: Any) -> bool:
    return v is None or v == ""


def _num(x: float) -> float | int:
    """0 and 1 as ints (as in the docs' examples), other fractions rounded."""
    if x <= 0:
        return 0
    if x >= 1:
        return 1
    return round(x, 4)


def _hex_of(text: str) -> str:
    """A stable 24-hex id derived from ``text`` (for ids the API only echoes)."""
    return hashlib.sha1(text.encode()).hexdigest()[:24]


class RenderMixin:
    """GPTBots emulator: value checks and rendering (a part of :class:`GPTBotsEmulator`)."""

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _full_value(table: Table, rec: Record) -> dict[str, Any]:
        return {f.name: rec.value.get(f.name) for f in table.fields}

    def _render_record(self, table: Table, rec: Record) -> dict[str, Any]:
        return {
            "id": rec.id,
            "value": self._full_value(table, rec),
            "created_at": rec.created_at,
            "updated_at": rec.updated_at,
        }

    def _table_info(self, table: Table) -> dict[str, Any]:
        return {
            "id": table.id,
            "name": table.name,
            "description": table.description,
            "field_count": len(table.fields),
            "fields": [f.info() for f in table.fields],
            "bot_id": table.agent_id,
            "project_id": _hex_of(f"project:{table.agent_id}"),
            "owner_id": _hex_of(f"owner:{table.agent_id}"),
        }
