"""GPTBots emulator: record logic (filters by unique values, updates, deletes)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .state import DATETIME_RE, INT_MAX, INT_MIN, MAX_UNIQUE_CHARS, Field, Record, Table
from .values import _is_empty, _is_int, _is_number

if TYPE_CHECKING:
    pass


class RecordsMixin:
    """GPTBots emulator: record logic (filters by unique values, updates, deletes) (a part of :class:`GPTBotsEmulator`)."""

    # ------------------------------------------------------------------ record logic

    def _resolve_filter(self, table: Table, flt: Any) -> str | tuple[str] | None:
        """Find the record a one-unique-field equality filter names.

        Returns ``(record_id,)`` when found, ``None`` when no record matches, or a ``str`` error message.
        """
        if not isinstance(flt, dict) or len(flt) != 1:
            return "filter must name exactly one unique field"
        ((name, value),) = flt.items()
        f = table.by_name.get(name)
        if f is None or not f.unique:
            return f"filter field {name!r} is not a unique field of the table"
        if _is_empty(value):
            return "filter value must not be empty"
        rid = table.index[name].get(self._filter_key(f, value))
        return (rid,) if rid is not None else None

    @staticmethod
    def _filter_key(f: Field, value: Any) -> Any:
        if f.type == "INT" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        if f.type == "FLOAT" and _is_number(value):
            return float(value)
        if f.type == "TEXT" and _is_number(value):
            return str(value)
        return value

    def _check_value(self, f: Field, v: Any) -> tuple[Any, str | None]:
        """(stored value, None) or (None, fail reason) for a non-empty value."""
        t = f.type
        if t == "TEXT":
            if not isinstance(v, str):
                return None, f"`{f.name}` must be TEXT (a string), got {v!r}"
            if f.unique and len(v) > MAX_UNIQUE_CHARS:
                return None, f"`{f.name}` is unique: its value must not exceed {MAX_UNIQUE_CHARS} characters"
            return v, None
        if t == "INT":
            if not _is_int(v) or not INT_MIN <= v <= INT_MAX:
                return None, f"`{f.name}` must be INT, got {v!r}"
            return v, None
        if t == "FLOAT":
            if not _is_number(v) or v != v or v in (float("inf"), float("-inf")):
                return None, f"`{f.name}` must be FLOAT, got {v!r}"
            return float(v), None
        if t == "BOOLEAN":
            if not isinstance(v, bool):
                return None, f"`{f.name}` must be BOOLEAN (true or false), got {v!r}"
            return v, None
        if t == "DATETIME":
            ok = isinstance(v, str) and DATETIME_RE.fullmatch(v)
            if ok:
                try:
                    datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
                except ValueError:
                    ok = False
            if not ok:
                return None, f"`{f.name}` must be DATETIME as 'YYYY-MM-DD HH:MM:SS', got {v!r}"
            return v, None
        return None, f"`{f.name}` has an unknown type"  # pragma: no cover

    def _prepare_row(
        self, table: Table, row: dict[str, Any], seen: dict[str, set[Any]] | None
    ) -> tuple[dict[str, Any] | None, str]:
        """Validate one import row. ``seen``: unique values of earlier good rows of the same chunk."""
        for key in row:
            if key not in table.by_name:
                return None, f"`{key}` is not a field of table `{table.name}`"
        value: dict[str, Any] = {}
        for f in table.fields:
            v = row.get(f.name)
            if _is_empty(v):
                if f.required or f.unique:
                    return None, f"`{f.name}` is required"
                continue
            stored, reason = self._check_value(f, v)
            if reason:
                return None, reason
            if f.unique:
                if stored in table.index[f.name]:
                    return None, f"Error 1062 (23000): Duplicate entry '{stored}' for key '{f.name}'"
                if seen is not None and stored in seen[f.name]:
                    return None, f"`{f.name}` must be unique: '{stored}' is repeated in the data"
            value[f.name] = stored
        return value, ""

    def _insert(self, table: Table, value: dict[str, Any]) -> Record:
        now = self._now_ms()
        rec = Record(self._record_id(), value, now, now)
        table.records[rec.id] = rec
        for name, idx in table.index.items():
            if name in value:
                idx[value[name]] = rec.id
        return rec

    @staticmethod
    def _unindex(table: Table, rec: Record) -> None:
        for name, idx in table.index.items():
            if name in rec.value and idx.get(rec.value[name]) == rec.id:
                del idx[rec.value[name]]

    def _apply_update(self, table: Table, item: dict[str, Any], is_create: bool) -> str | None:
        """Apply one update_data item; the fail reason, or None on success."""
        fields = item.get("updated_fields")
        if not isinstance(fields, dict):
            return "updated_fields must be an object"
        rec: Record | None = None
        create_from: dict[str, Any] | None = None
        if "record_id" in item:
            rid = item["record_id"]
            if not isinstance(rid, str) or not rid:
                return "record_id must be a string"
            rec = table.records.get(rid)
            if rec is None:
                return f"record {rid!r} not found"
        elif "filter" in item:
            found = self._resolve_filter(table, item["filter"])
            if isinstance(found, str):
                return found
            if found is None:
                if not is_create:
                    return "no record matches the filter"
                create_from = dict(item["filter"])
            else:
                rec = table.records[found[0]]
        else:
            return "record_id or filter is required"

        if rec is None:  # create (is_create with an unmatched filter)
            assert create_from is not None
            row = {**create_from, **fields}
            value, reason = self._prepare_row(table, row, None)
            if value is None:
                return reason
            self._insert(table, value)
            return None

        changes: dict[str, Any] = {}
        for name, v in fields.items():
            f = table.by_name.get(name)
            if f is None:
                return f"`{name}` is not a field of table `{table.name}`"
            if _is_empty(v):
                if f.required or f.unique:
                    return f"`{name}` is required"
                changes[name] = None
                continue
            stored, reason = self._check_value(f, v)
            if reason:
                return reason
            if f.unique:
                holder = table.index[name].get(stored)
                if holder is not None and holder != rec.id:
                    return f"Error 1062 (23000): Duplicate entry '{stored}' for key '{name}'"
            changes[name] = stored
        self._unindex(table, rec)
        for name, v in changes.items():
            if v is None:
                rec.value.pop(name, None)
            else:
                rec.value[name] = v
        for name, idx in table.index.items():
            if name in rec.value:
                idx[rec.value[name]] = rec.id
        rec.updated_at = self._now_ms()
        return None
