"""Addressing and the schema cache: every id-or-name lookup of a table, field or view is here.

``Catalog`` turns the tools' ``provider``/``base``/``table`` arguments into an ``Address`` and a
cached ``TableSchema``; the other services ask it for tables, fields and views by id or name and
get one kind of error when the name is wrong.
"""

from __future__ import annotations

import time
from typing import Any

from anytable.config import Settings
from anytable.core.addressing import Address, resolve_address
from anytable.errors import InputError, NotFoundError
from anytable.providers.base import Provider
from anytable.schemas.fields import FieldInfo, TableInfo, TableSchema

SCHEMA_TTL = 60.0  # seconds a table list or schema is trusted before it is read again


class Catalog:
    def __init__(
        self, settings: Settings, specs: dict[str, type[Provider]], providers: dict[str, Provider]
    ) -> None:
        self.settings = settings
        self.specs = specs
        self.providers = providers
        # Each entry: (when read, value, the provider's schema stamp then).
        self._tables: dict[tuple[str, str], tuple[float, list[TableInfo], Any]] = {}
        self._schemas: dict[tuple[str, str, str], tuple[float, TableSchema, Any]] = {}

    def address(self, provider: str | None, base: str | None, table: str | None = None) -> Address:
        return resolve_address(
            self.providers,
            self.specs,
            provider=provider,
            base=base,
            table=table,
            default_provider=self.settings.default_provider,
        )

    @staticmethod
    def require(addr: Address, group: str, op: str, tool: str) -> None:
        """Refuse ``tool`` up front when the provider's capabilities leave ``op`` out of ``group``."""
        if op not in getattr(addr.provider.capabilities, group):
            raise addr.provider.unsupported(tool)

    # ----------------------------------------------------------------------------- tables
    async def tables(self, addr: Address, *, fresh: bool = False, stamp: Any = None) -> list[TableInfo]:
        key = (addr.provider.id, addr.base)
        cached = self._tables.get(key)
        if stamp is None:  # not read yet in this call
            stamp = await addr.provider.schema_stamp(addr.base)
        if cached and not fresh and time.monotonic() - cached[0] < SCHEMA_TTL and cached[2] == stamp:
            return cached[1]
        tables = await addr.provider.list_tables(addr.base)
        self._tables[key] = (time.monotonic(), tables, stamp)
        return tables

    async def table_info(self, addr: Address, stamp: Any = None) -> TableInfo:
        if not addr.table:
            raise InputError("table is required: pass the table's id or name (list_tables shows them).")
        tables: list[TableInfo] = []
        for fresh in (False, True):
            tables = await self.tables(addr, fresh=fresh, stamp=stamp)
            for t in tables:
                if t.id == addr.table:
                    return t
            named = [t for t in tables if t.name == addr.table]
            if len(named) == 1:
                return named[0]
            if len(named) > 1:
                ids = ", ".join(t.id for t in named)
                raise InputError(f"Several tables are named {addr.table!r} (ids {ids}): pass the table id.")
        names = ", ".join(repr(t.name) for t in tables[:50]) or "none"
        raise NotFoundError(f"No table {addr.table!r} in this base; its tables are: {names}.")

    async def schema(self, addr: Address, *, fresh: bool = False) -> TableSchema:
        stamp = await addr.provider.schema_stamp(addr.base)
        info = await self.table_info(addr, stamp)
        key = (addr.provider.id, addr.base, info.id)
        cached = self._schemas.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < SCHEMA_TTL and cached[2] == stamp:
            return cached[1]
        schema = await addr.provider.get_schema(addr.base, info.id)
        self._schemas[key] = (time.monotonic(), schema, stamp)
        return schema

    def forget(self, addr: Address, table_id: str | None = None) -> None:
        """Drop cached tables (and one table's schema) after a change made through us."""
        self._tables.pop((addr.provider.id, addr.base), None)
        if table_id is not None:
            self._schemas.pop((addr.provider.id, addr.base, table_id), None)

    # ----------------------------------------------------------------------------- fields, views
    @staticmethod
    def field(schema: TableSchema, key: Any, what: str = "field") -> FieldInfo:
        """A field by name or id; ``what`` names the argument in the error."""
        field = schema.find_field(key) if isinstance(key, str) else None
        if field is None:
            names = ", ".join(repr(f.name) for f in schema.fields[:40])
            lead = "No field" if what == "field" else f"{what}: no field"
            raise NotFoundError(f"{lead} {key!r} in table {schema.name!r}; fields are {names}.")
        return field

    @classmethod
    def projection(cls, schema: TableSchema, fields: Any) -> list[str] | None:
        """The field names of a ``fields`` argument, in the order given, without repeats."""
        if fields is None:
            return None
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise InputError('fields must be a list of field names, like ["Name", "Status"].')
        names: list[str] = []
        for key in fields:
            name = cls.field(schema, key, "fields").name
            if name not in names:
                names.append(name)
        return names

    @staticmethod
    def view_id(addr: Address, schema: TableSchema, view: str | None) -> str | None:
        """A view's id by id or name (None: no view asked for)."""
        if view is None:
            return None
        if not addr.provider.capabilities.views:
            raise InputError(f"{addr.provider.title} tables have no views: leave view out.")
        return schema.view_id(view)
