"""Tables, fields and views: checking the arguments, then one provider call."""

from __future__ import annotations

from typing import Any

from anytable.core.addressing import Address
from anytable.core.catalog import Catalog
from anytable.errors import InputError, NotFoundError, NotSupportedError
from anytable.providers.base import Provider
from anytable.schemas.fields import SELECT_TYPES, FieldSpec, FieldType
from anytable.schemas.inputs import check_name


class Structure:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # ------------------------------------------------------------------------- tables
    async def list_tables(self, provider: str | None, base: str | None) -> dict[str, Any]:
        addr = self.catalog.address(provider, base)
        tables = await self.catalog.tables(addr, fresh=True)
        return {"tables": [{"id": t.id, "name": t.name} for t in tables]}

    async def describe_table(
        self, provider: str | None, base: str | None, table: str | None
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        return (await self.catalog.schema(addr, fresh=True)).public()

    async def create_table(
        self, provider: str | None, base: str | None, name: str, fields: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base)
        self.catalog.require(addr, "tables", "create", "create_table")
        name = check_name(name, "table name")
        specs = [self._field_spec(addr.provider, f, i) for i, f in enumerate(fields or [])]
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise InputError(f"fields: {spec.name!r} is given twice; field names are unique in a table.")
            seen.add(spec.name)
        if any(t.name == name for t in await self.catalog.tables(addr, fresh=True)):
            raise InputError(f"A table named {name!r} already exists in this base; pick another name.")
        specs = [await self._link_target(addr, spec) for spec in specs]
        info = await addr.provider.create_table(addr.base, name, specs)
        self.catalog.forget(addr)
        return {"id": info.id, "name": info.name}

    async def update_table(
        self, provider: str | None, base: str | None, table: str | None, name: str
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "tables", "update", "update_table")
        name = check_name(name, "table name")
        info = await self.catalog.table_info(addr)
        if name != info.name and any(t.name == name for t in await self.catalog.tables(addr)):
            raise InputError(f"A table named {name!r} already exists in this base; pick another name.")
        result = await addr.provider.rename_table(addr.base, info.id, name)
        self.catalog.forget(addr, info.id)
        return {"id": result.id, "name": result.name}

    async def delete_table(self, provider: str | None, base: str | None, table: str | None) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "tables", "delete", "delete_table")
        info = await self.catalog.table_info(addr)
        await addr.provider.delete_table(addr.base, info.id)
        self.catalog.forget(addr, info.id)
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
        name = check_name(name, f"{where}field name")
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
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "fields", "create", "create_field")
        spec = self.field_spec(addr.provider, name, type_, options)
        schema = await self.catalog.schema(addr, fresh=True)
        if schema.find_field(spec.name) is not None:
            raise InputError(
                f"Table {schema.name!r} already has a field named {spec.name!r}; pick another name."
            )
        spec = await self._link_target(addr, spec)
        field = await addr.provider.create_field(addr.base, schema, spec)
        self.catalog.forget(addr, schema.id)
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
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "fields", "update", "update_field")
        schema = await self.catalog.schema(addr, fresh=True)
        target = self.catalog.field(schema, field)
        if name is None and options is None:
            raise InputError("update_field needs name (the new name) or options (the new option list).")
        if name is not None:
            name = check_name(name, "field name")
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
        self.catalog.forget(addr, schema.id)
        return updated.public()

    async def delete_field(
        self, provider: str | None, base: str | None, table: str | None, field: str
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        self.catalog.require(addr, "fields", "delete", "delete_field")
        schema = await self.catalog.schema(addr, fresh=True)
        target = self.catalog.field(schema, field)
        if target.primary:
            raise InputError(
                f"Field {target.name!r} is the table's primary field and cannot be deleted; rename it instead."
            )
        await addr.provider.delete_field(addr.base, schema, target)
        self.catalog.forget(addr, schema.id)
        return {"deleted": True}

    async def _link_target(self, addr: Address, spec: FieldSpec) -> FieldSpec:
        """A link field's options name its linked table: by id or name in, always by id out."""
        if spec.type is not FieldType.link or not spec.options:
            return spec
        target = Address(addr.provider, addr.base, spec.options[0])
        try:
            info = await self.catalog.table_info(target)
        except NotFoundError as exc:
            raise InputError(f"Link field {spec.name!r}: {exc.message}") from None
        return spec.model_copy(update={"options": [info.id]})

    # ------------------------------------------------------------------------- views
    async def list_views(self, provider: str | None, base: str | None, table: str | None) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        if not addr.provider.capabilities.views:
            raise NotSupportedError(f"{addr.provider.title} tables have no views.")
        schema = await self.catalog.schema(addr, fresh=True)
        return {"views": [v.model_dump(exclude_none=True) for v in schema.views or []]}

    async def create_view(
        self, provider: str | None, base: str | None, table: str | None, name: str, view_type: str
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        if not addr.provider.capabilities.views:
            raise addr.provider.unsupported("create_view")
        name = check_name(name, "view name")
        schema = await self.catalog.schema(addr, fresh=True)
        view = await addr.provider.create_view(addr.base, schema, name, view_type)
        self.catalog.forget(addr, schema.id)
        return view

    async def delete_view(
        self, provider: str | None, base: str | None, table: str | None, view: str
    ) -> dict[str, Any]:
        addr = self.catalog.address(provider, base, table)
        if not addr.provider.capabilities.views:
            raise addr.provider.unsupported("delete_view")
        schema = await self.catalog.schema(addr, fresh=True)
        view_id = self.catalog.view_id(addr, schema, view) or view
        await addr.provider.delete_view(addr.base, schema, view_id)
        self.catalog.forget(addr, schema.id)
        return {"deleted": True}


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
