"""The engine behind the tools: addressing, schema cache, table/field/view operations.

Record operations are in ``anytable.core.records`` (mixed in). Tools call these methods and get
plain JSON-ready dicts back; every provider difference stays behind ``Provider``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from anytable.config import Settings
from anytable.core.addressing import Address, resolve_address
from anytable.core.records import RecordsMixin
from anytable.errors import InputError, NotFoundError, NotSupportedError
from anytable.providers.base import Provider
from anytable.providers.registry import TransportFactory, build_providers, provider_classes
from anytable.schemas.fields import SELECT_TYPES, FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema

Progress = Callable[[float, float | None, str | None], Awaitable[None]] | None

SCHEMA_TTL = 60.0  # seconds a table list or schema is trusted before it is read again
MAX_NAME = 100


class Anytable(RecordsMixin):
    def __init__(self, settings: Settings, transports: TransportFactory | None = None) -> None:
        self.settings = settings
        self.tz = settings.tz()
        self.specs: dict[str, type[Provider]] = provider_classes()  # each provider's descriptor
        self.providers: dict[str, Provider] = build_providers(settings, transports)
        self._tables: dict[tuple[str, str], tuple[float, list[TableInfo]]] = {}
        self._schemas: dict[tuple[str, str, str], tuple[float, TableSchema]] = {}
        self._write_locks: dict[tuple[str, str, str], anyio.Lock] = {}
        RecordsMixin.__init__(self)

    async def aclose(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()

    @property
    def open_world(self) -> bool:
        return any(p.open_world for p in self.providers.values())

    def has_views(self) -> bool:
        return any(p.capabilities.views for p in self.providers.values())

    # ------------------------------------------------------------------------- addressing
    def address(self, provider: str | None, base: str | None, table: str | None = None) -> Address:
        return resolve_address(
            self.providers,
            self.specs,
            provider=provider,
            base=base,
            table=table,
            default_provider=self.settings.default_provider,
        )

    async def tables(self, addr: Address, *, fresh: bool = False) -> list[TableInfo]:
        key = (addr.provider.id, addr.base)
        cached = self._tables.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < SCHEMA_TTL:
            return cached[1]
        tables = await addr.provider.list_tables(addr.base)
        self._tables[key] = (time.monotonic(), tables)
        return tables

    async def table_info(self, addr: Address) -> TableInfo:
        if not addr.table:
            raise InputError("table is required: pass the table's id or name (list_tables shows them).")
        for fresh in (False, True):
            tables = await self.tables(addr, fresh=fresh)
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
        info = await self.table_info(addr)
        key = (addr.provider.id, addr.base, info.id)
        cached = self._schemas.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < SCHEMA_TTL:
            return cached[1]
        schema = await addr.provider.get_schema(addr.base, info.id)
        self._schemas[key] = (time.monotonic(), schema)
        return schema

    def forget(self, addr: Address, table_id: str | None = None) -> None:
        """Drop cached tables (and one table's schema) after a change made through us."""
        self._tables.pop((addr.provider.id, addr.base), None)
        if table_id is not None:
            self._schemas.pop((addr.provider.id, addr.base, table_id), None)

    def write_lock(self, addr: Address, table_id: str) -> anyio.Lock | None:
        """The per-table write lock of providers that take one write at a time per table."""
        if not addr.provider.limits.serialize_writes:
            return None
        key = (addr.provider.id, addr.base, table_id)
        return self._write_locks.setdefault(key, anyio.Lock())

    def require(self, addr: Address, group: str, op: str, tool: str) -> None:
        caps = addr.provider.capabilities
        if op not in getattr(caps, group):
            raise addr.provider.unsupported(tool)

    # ------------------------------------------------------------------------- providers
    def list_providers(self) -> dict[str, Any]:
        out = []
        for pid, spec in self.specs.items():
            out.append(
                {
                    "id": pid,
                    "enabled": pid in self.providers,
                    "capabilities": spec.capabilities.model_dump(),
                    "credentials": {
                        **spec.masked_credentials(self.settings),
                        **(self.providers[pid].acting_as() if pid in self.providers else {}),
                    },
                }
            )
        return {"providers": out}

    # ------------------------------------------------------------------------- tables
    async def list_tables(self, provider: str | None, base: str | None) -> dict[str, Any]:
        addr = self.address(provider, base)
        tables = await self.tables(addr, fresh=True)
        return {"tables": [{"id": t.id, "name": t.name} for t in tables]}

    async def describe_table(
        self, provider: str | None, base: str | None, table: str | None
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        return (await self.schema(addr, fresh=True)).public()

    async def create_table(
        self, provider: str | None, base: str | None, name: str, fields: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        addr = self.address(provider, base)
        self.require(addr, "tables", "create", "create_table")
        name = _check_name(name, "table name")
        specs = [self._field_spec(addr.provider, f, i) for i, f in enumerate(fields or [])]
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise InputError(f"fields: {spec.name!r} is given twice; field names are unique in a table.")
            seen.add(spec.name)
        if any(t.name == name for t in await self.tables(addr, fresh=True)):
            raise InputError(f"A table named {name!r} already exists in this base; pick another name.")
        specs = [await self._link_target(addr, spec) for spec in specs]
        info = await addr.provider.create_table(addr.base, name, specs)
        self.forget(addr)
        return {"id": info.id, "name": info.name}

    async def update_table(
        self, provider: str | None, base: str | None, table: str | None, name: str
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "tables", "update", "update_table")
        name = _check_name(name, "table name")
        info = await self.table_info(addr)
        if name != info.name and any(t.name == name for t in await self.tables(addr)):
            raise InputError(f"A table named {name!r} already exists in this base; pick another name.")
        result = await addr.provider.rename_table(addr.base, info.id, name)
        self.forget(addr, info.id)
        return {"id": result.id, "name": result.name}

    async def delete_table(self, provider: str | None, base: str | None, table: str | None) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "tables", "delete", "delete_table")
        info = await self.table_info(addr)
        await addr.provider.delete_table(addr.base, info.id)
        self.forget(addr, info.id)
        return {"deleted": True}

    # ------------------------------------------------------------------------- fields
    def _field_spec(self, provider: Provider, raw: Any, position: int | None = None) -> FieldSpec:
        where = f"fields[{position}]: " if position is not None else ""
        if not isinstance(raw, dict):
            raise InputError(f'{where}a field is {{"name": "...", "type": "text", "options"?: [...]}}.')
        unknown = set(raw) - {"name", "type", "options"}
        if unknown:
            raise InputError(f"{where}unknown keys {sorted(unknown)}; a field has name, type and options.")
        return self.field_spec(provider, raw.get("name"), raw.get("type"), raw.get("options"), where)

    def field_spec(
        self, provider: Provider, name: Any, type_: Any, options: Any, where: str = ""
    ) -> FieldSpec:
        name = _check_name(name, f"{where}field name")
        types = [t.value for t in FieldType if t is not FieldType.other]
        if type_ not in types:
            raise InputError(f"{where}type {type_!r} is not a field type; use one of {', '.join(types)}.")
        ftype = FieldType(type_)
        opts = _check_options(options, ftype, where)
        spec = FieldSpec(name=name, type=ftype, options=opts)
        provider.check_field_type(spec)
        return spec

    async def create_field(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        name: str,
        type_: str,
        options: list[str] | None,
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "fields", "create", "create_field")
        spec = self.field_spec(addr.provider, name, type_, options)
        schema = await self.schema(addr, fresh=True)
        if schema.find_field(spec.name) is not None:
            raise InputError(
                f"Table {schema.name!r} already has a field named {spec.name!r}; pick another name."
            )
        spec = await self._link_target(addr, spec)
        field = await addr.provider.create_field(addr.base, schema, spec)
        self.forget(addr, schema.id)
        return field.public()

    async def update_field(
        self,
        provider: str | None,
        base: str | None,
        table: str | None,
        field: str,
        name: str | None,
        options: list[str] | None,
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "fields", "update", "update_field")
        schema = await self.schema(addr, fresh=True)
        target = _find_field(schema, field)
        if name is None and options is None:
            raise InputError("update_field needs name (the new name) or options (the new option list).")
        if name is not None:
            name = _check_name(name, "field name")
            other = schema.find_field(name)
            if other is not None and other.id != target.id:
                raise InputError(
                    f"Table {schema.name!r} already has a field named {name!r}; pick another name."
                )
        if options is not None:
            if target.type not in SELECT_TYPES:
                raise InputError(
                    f"Field {target.name!r} is {target.type.value}: only single_select and multi_select fields "
                    "have options."
                )
            options = _check_options(options, target.type, "")
        updated = await addr.provider.update_field(addr.base, schema, target, name, options)
        self.forget(addr, schema.id)
        return updated.public()

    async def delete_field(
        self, provider: str | None, base: str | None, table: str | None, field: str
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        self.require(addr, "fields", "delete", "delete_field")
        schema = await self.schema(addr, fresh=True)
        target = _find_field(schema, field)
        if target.primary:
            raise InputError(
                f"Field {target.name!r} is the table's primary field and cannot be deleted; rename it instead."
            )
        await addr.provider.delete_field(addr.base, schema, target)
        self.forget(addr, schema.id)
        return {"deleted": True}

    async def _link_target(self, addr: Address, spec: FieldSpec) -> FieldSpec:
        """A link field's options name its linked table: by id or name in, always by id out."""
        if spec.type is not FieldType.link or not spec.options:
            return spec
        target = Address(addr.provider, addr.base, spec.options[0])
        try:
            info = await self.table_info(target)
        except NotFoundError as exc:
            raise InputError(f"Link field {spec.name!r}: {exc.message}") from None
        return spec.model_copy(update={"options": [info.id]})

    # ------------------------------------------------------------------------- views
    async def list_views(self, provider: str | None, base: str | None, table: str | None) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        schema = await self.schema(addr, fresh=True)
        if schema.views is None:
            raise NotSupportedError(f"{addr.provider.title} tables have no views.")
        return {"views": [v.model_dump(exclude_none=True) for v in schema.views]}

    async def create_view(
        self, provider: str | None, base: str | None, table: str | None, name: str, view_type: str
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        if not addr.provider.capabilities.views:
            raise addr.provider.unsupported("create_view")
        name = _check_name(name, "view name")
        schema = await self.schema(addr, fresh=True)
        view = await addr.provider.create_view(addr.base, schema, name, view_type)
        self.forget(addr, schema.id)
        return view

    async def delete_view(
        self, provider: str | None, base: str | None, table: str | None, view: str
    ) -> dict[str, Any]:
        addr = self.address(provider, base, table)
        if not addr.provider.capabilities.views:
            raise addr.provider.unsupported("delete_view")
        schema = await self.schema(addr, fresh=True)
        view_id = _find_view(schema, view)
        await addr.provider.delete_view(addr.base, schema, view_id)
        self.forget(addr, schema.id)
        return {"deleted": True}


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{what} must be a non-empty string.")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InputError(f"{what} {name[:30]!r}... is {len(name)} characters; use at most {MAX_NAME}.")
    return name


def _check_options(options: Any, ftype: FieldType, where: str) -> list[str] | None:
    if options is None:
        return [] if ftype in SELECT_TYPES else None
    if ftype is FieldType.link:
        if not isinstance(options, list) or len(options) != 1 or not isinstance(options[0], str):
            raise InputError(f'{where}options of a link field name the linked table: ["<table id or name>"].')
        return [options[0].strip()]
    if ftype not in SELECT_TYPES:
        raise InputError(
            f"{where}options apply only to single_select and multi_select fields (and name the linked table "
            "of a link field)."
        )
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        raise InputError(f'{where}options must be a list of option names like ["todo", "done"].')
    cleaned = [o.strip() for o in options]
    dupes = sorted({o for o in cleaned if cleaned.count(o) > 1})
    if dupes:
        raise InputError(f"{where}options {dupes} are given twice; option names are unique.")
    return cleaned


def _find_field(schema: TableSchema, key: str) -> FieldInfo:
    field = schema.find_field(key) if isinstance(key, str) else None
    if field is None:
        names = ", ".join(repr(f.name) for f in schema.fields[:40])
        raise NotFoundError(f"No field {key!r} in table {schema.name!r}; fields are {names}.")
    return field


def _find_view(schema: TableSchema, key: str) -> str:
    for view in schema.views or []:
        if key in (view.id, view.name):
            return view.id
    names = ", ".join(repr(v.name) for v in schema.views or [])
    raise NotFoundError(f"No view {key!r} in table {schema.name!r}; views are {names or 'none'}.")
