"""Upsert keys: which fields say two records are the same, and the existing records by key.

Key values compare as the contract says: text whole, ignoring case and outer spaces; numbers
numerically; anything else by its canonical value. The table's key fields are read once (only
those fields; a native ``in`` filter where every key field is a number), never once per record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anytable.core.addressing import Address
from anytable.core.catalog import Catalog
from anytable.errors import InputError
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema
from anytable.schemas.filters import Cond, Group, Node
from anytable.schemas.values import is_empty

if TYPE_CHECKING:
    from anytable.core.reading import Reader

Key = tuple[Any, ...]
NUMBER_KEYS = frozenset({FieldType.number, FieldType.auto_number})
MAX_IN = 100  # values of one native in filter


def key_part(field: FieldInfo, value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict) and field.type is FieldType.url:
        return str(value.get("link", "")).strip().casefold()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class KeyIndex:
    fields: list[FieldInfo]
    keys: list[Key]  # the key of each record of the call, in order

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def of(self, row: dict[str, Any]) -> Key:
        return tuple(key_part(f, row.get(f.name)) for f in self.fields)

    def prefilter(self) -> Node | None:
        """A native filter narrowing the read to records that may match (numbers only: text keys
        compare ignoring case, which no provider's ``in`` does)."""
        if len(self.keys) > MAX_IN or any(f.type not in NUMBER_KEYS for f in self.fields):
            return None
        items: list[Node] = []
        for i, f in enumerate(self.fields):
            values = sorted({k[i] for k in self.keys})
            items.append(Cond(f, "in", values, values))
        return items[0] if len(items) == 1 else Group("and", tuple(items))

    async def existing(self, reader: Reader, addr: Address, schema: TableSchema) -> dict[Key, list[str]]:
        """Ids of the table's records by key, for the keys of this call."""
        wanted = set(self.keys)
        native = await addr.provider.find_keys(addr.base, schema, self.fields, [list(k) for k in wanted])
        if native is not None:
            return {tuple(k): ids for k, ids in native}
        found: dict[Key, list[str]] = {}
        scan = reader.plan(addr, schema, self.prefilter(), self.names)
        async for page in reader.scan(addr, schema, scan, None):
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
    index = KeyIndex(fields, [])
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
    return index
