"""Upsert keys: which fields say two records are the same, and the existing records by key.

Key values compare as the contract says: text whole, ignoring case and outer spaces; numbers
numerically; anything else by its canonical value. The table's key fields are read once, only those
fields, narrowed by a filter the provider can run (``in`` for numbers, ``contains`` for text, which
ignores case: a superset, checked exactly here), never once per record; local looks keys up in an
index.
"""

from __future__ import annotations

import json
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from anytable.core.addressing import Address
from anytable.core.catalog import Catalog
from anytable.core.reading import Reader
from anytable.errors import InputError
from anytable.schemas.fields import TEXT_TYPES, FieldInfo, FieldType, TableSchema
from anytable.schemas.filters import parse_where
from anytable.schemas.values import SPACE, is_empty

Key = tuple[Any, ...]
NUMBER_KEYS = frozenset({FieldType.number, FieldType.auto_number})
TEXT_KEYS = TEXT_TYPES | {FieldType.single_select}
MAX_PREFILTER = 50  # keys of one call narrowed by a filter (more: the key fields of every record)


def key_part(field: FieldInfo, value: Any) -> Any:
    if isinstance(value, str):
        return value.strip(SPACE).lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict) and field.type is FieldType.url:
        return str(value.get("link", "")).strip(SPACE).lower()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class KeyIndex:
    fields: list[FieldInfo]
    keys: list[Key]  # the key of each record of the call, in order
    given: list[tuple[Any, ...]]  # the key values as given (text stripped), in order

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def of(self, row: dict[str, Any]) -> Key:
        return tuple(key_part(f, row.get(f.name)) for f in self.fields)

    def prefilter(self) -> dict[str, Any] | None:
        """A filter (the ``where`` language) narrowing the read to records that may match."""
        if len(self.keys) > MAX_PREFILTER:
            return None
        parts: list[dict[str, Any]] = []
        for i, f in enumerate(self.fields):
            if f.type not in NUMBER_KEYS | TEXT_KEYS:
                continue  # list and object values (url, multi_select...): no narrowing filter, and unhashable
            values = sorted({g[i] for g in self.given}, key=str)
            if f.type in NUMBER_KEYS:
                parts.append({"field": f.name, "op": "in", "value": values})
            else:
                parts.append({"or": [{"field": f.name, "op": "contains", "value": v} for v in values]})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"and": parts}

    async def existing(self, reader: Reader, addr: Address, schema: TableSchema) -> dict[Key, list[str]]:
        """Ids of the table's records by key, for the keys of this call."""
        wanted = set(self.keys)
        native = await addr.provider.find_keys(addr.base, schema, self.fields, [list(k) for k in wanted])
        if native is not None:
            return {tuple(k): ids for k, ids in native}
        found: dict[Key, list[str]] = {}
        scan = reader.plan(addr, schema, parse_where(self.prefilter(), schema, reader.tz), self.names)
        async with aclosing(reader.scan(addr, schema, scan, None)) as pages:
            async for page in pages:
                for record in page:
                    key = self.of(record["fields"])
                    if key in wanted:
                        found.setdefault(key, []).append(record["id"])
        return found


def parse_key(schema: TableSchema, key: Any, rows: list[dict[str, Any]]) -> KeyIndex:
    if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key):
        raise InputError('key is a list of field names whose values identify a record, like ["Title"].')
    fields: list[FieldInfo] = []
    for k in key:
        f = Catalog.field(schema, k, "key")
        if f.computed:
            raise InputError(f"key: {f.name!r} is computed; key fields are fields the records give.")
        if f.type is FieldType.attachment:
            raise InputError(f"key: {f.name!r} is an attachment field; pick a text or number field.")
        if f not in fields:
            fields.append(f)
    index = KeyIndex(fields, [], [])
    first: dict[Key, int] = {}
    for i, row in enumerate(rows):
        missing = [f.name for f in fields if is_empty(row.get(f.name))]
        if missing:
            raise InputError(
                f"Record {i}: key field {missing[0]!r} has no value; every record needs its key fields."
            )
        k = index.of(row)
        if k in first:
            raise InputError(
                f"Records {first[k]} and {i} have the same key ({', '.join(f.name for f in fields)}); merge them "
                "into one record."
            )
        first[k] = i
        index.keys.append(k)
        index.given.append(tuple(_given(row.get(f.name)) for f in fields))
    return index


def _given(value: Any) -> Any:
    return value.strip(SPACE) if isinstance(value, str) else value
