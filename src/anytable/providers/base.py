"""The one interface every provider implements, and each provider's descriptor.

A provider class is its own descriptor: ``required_env`` (the variables that enable it),
``from_settings`` (how it is built), ``masked_credentials`` (what ``list_providers`` and ``doctor``
show), ``parse_url`` (its share links), ``capabilities`` (what it can do: the methods it overrides;
``tests/unit/test_provider_shape.py`` checks they agree) and ``limits``.

Providers speak canonical values (``anytable.schemas.values``) and the checked filter tree
(``anytable.schemas.filters``). Everything the tools share (resolving tables by name, checking
values, server-side filtering and sorting, cursors, batching, progress) lives in ``anytable.core``
and never in a provider.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
from pydantic import BaseModel

from anytable.config import ENV_VARS, Settings
from anytable.errors import InputError, NotSupportedError
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableInfo, TableSchema
from anytable.schemas.filters import Node, SortKey

if TYPE_CHECKING:
    from anytable.schemas.aggregate import Plan

Record = dict[str, Any]  # {"id": str, "fields": {field name: canonical value}}
Sent = Callable[[int], Awaitable[None]]  # bytes of a file sent so far


class Capabilities(BaseModel):
    """What a provider can do; ``list_providers`` shows it and the tools check it up front."""

    tables: list[str] = ["list", "describe", "create", "update", "delete"]
    fields: list[str] = ["create", "update", "delete"]
    records: list[str] = ["query", "get", "create", "update", "delete"]
    field_types: list[str] = []  # types create_table / create_field accept
    views: bool = False  # the one statement of views: create_view/delete_view and list_views follow it
    native_sort: bool = False  # False: sorting reads every match and sorts in the server
    record_ids_on_create: bool = True
    bases: bool = True  # False: the credentials name the only database (GPTBots)
    attachments: list[str] = []  # "upload", "download": upload_attachment / download_attachments
    # Agent tools that run natively here (aggregate, count, write_where, upsert);
    # the rest read pages and compute in the server. The methods of the same names must agree.
    native: list[str] = []


@dataclass
class Limits:
    page_size: int  # most records one read request returns
    create_batch: int
    update_batch: int
    delete_batch: int
    get_batch: int
    batch_bytes: int | None = None  # most bytes of one write request body, where documented
    serialize_writes: bool = False  # the engine takes one write at a time per table (GPTBots)
    page_total: bool = False  # a page answer says how many records match (Feishu's search total)


@dataclass
class PageRequest:
    native_filter: Any  # what ``compile_filter`` returned (None: no filter)
    sort: list[SortKey]  # only when the provider sorts natively
    fields: list[str] | None  # field names to return (None: all)
    view: str | None
    page_size: int
    token: str | None  # the provider's page token (None: first page)


@dataclass
class Page:
    records: list[Record]
    next_token: str | None
    total: int | None = None


@dataclass
class CreateResult:
    """What one create batch did: an id per input row (None where the provider gives none),
    and the rows the provider refused, by position within the batch, with the reason."""

    ids: list[str | None]
    failed: dict[int, str] = field(default_factory=dict)


@dataclass
class Aggregated:
    """A native aggregate: rows as ``anytable.core.aggregate.Groups.rows`` gives them, and how
    many records matched."""

    rows: list[dict[str, Any]]
    scanned: int


@dataclass
class CompiledFilter:
    """A provider's native filter and whether it is exact (no server-side check needed)."""

    native: Any
    exact: bool


REMOTE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # the ids every remote provider documents


class Provider(ABC):
    id: str = ""
    title: str = ""
    capabilities: Capabilities = Capabilities()
    limits: Limits = Limits(
        page_size=100, create_batch=100, update_batch=100, delete_batch=100, get_batch=100
    )
    open_world: bool = True  # talks to an external service
    # The documented shape of ids the caller passes straight through ("base", "record"); an id of
    # another shape is refused before anything is sent (ids are data: they never bend a request).
    id_shapes: ClassVar[dict[str, re.Pattern[str]]] = {}
    base_env: str | None = None  # the variable that sets a default base (FEISHU_APP_TOKEN...)
    required_env: ClassVar[tuple[str, ...]] = ()  # variables that enable it, all needed (none: always on)

    # --------------------------------------------------------------- the descriptor
    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """Enabled when every variable of ``required_env`` is set."""
        return all(getattr(settings, ENV_VARS[var]) for var in cls.required_env)

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Self:
        """The provider the settings describe (``transport``: tests route its HTTP to an emulator)."""

    @classmethod
    def masked_credentials(cls, settings: Settings) -> dict[str, str]:
        """The provider's configuration as ``list_providers`` and ``doctor`` show it, secrets masked
        (``abcd****``); the same whether it is enabled or not."""
        return {}

    @classmethod
    def parse_url(cls, url: str) -> tuple[str, str | None, str | None] | None:
        """(base, table, view) from a share URL of this provider, or None if it is not one."""
        return None

    # --------------------------------------------------------------- configuration and bases
    def acting_as(self) -> dict[str, str]:
        """What the running provider adds to ``masked_credentials`` when it is decided at run time
        (whose identity calls are made with: Feishu's FEISHU_AUTH). Masked like the rest."""
        return {}

    def default_base(self) -> str | None:
        return None

    async def check(self) -> str:
        """A short line saying the configuration works (doctor); raises when it does not."""
        return "configured"

    async def aclose(self) -> None:  # noqa: B027 (optional hook)
        """Release connections."""

    def check_ids(self, kind: str, ids: list[str]) -> None:
        """Refuse ids that are not of the provider's documented shape, naming them."""
        shape = self.id_shapes.get(kind)
        if shape is None:
            return
        bad = [i for i in ids if not shape.fullmatch(i)]
        if bad:
            shown = ", ".join(repr(i[:80]) for i in bad[:10]) + (
                f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            )
            raise InputError(
                f"{shown} {'is not a' if len(bad) == 1 else 'are not'} {self.title} {kind} id"
                f"{'' if len(bad) == 1 else 's'} (letters, digits, '_' and '-'); nothing was sent. Pass ids as "
                f"{'list_tables' if kind == 'base' else 'query_records'} shows them."
            )

    async def schema_stamp(self, base: str) -> Any:
        """A value that changes whenever anyone (another process included) changes the tables or
        fields of ``base``; cached schemas are read again when it does. None: no cheap way to tell
        (cached schemas live for their TTL)."""
        return None

    async def cursor_key(self) -> bytes | None:
        """A key for signing cursors shared by every server on the same store (None: not kept)."""
        return None

    # ------------------------------------------------------------------------------ tables
    @abstractmethod
    async def list_tables(self, base: str) -> list[TableInfo]: ...

    @abstractmethod
    async def get_schema(self, base: str, table_id: str) -> TableSchema: ...

    async def create_table(self, base: str, name: str, fields: list[FieldSpec]) -> TableInfo:
        raise self.unsupported("create_table")

    async def rename_table(self, base: str, table_id: str, name: str) -> TableInfo:
        raise self.unsupported("update_table")

    async def delete_table(self, base: str, table_id: str) -> None:
        raise self.unsupported("delete_table")

    # ------------------------------------------------------------------------------ fields
    async def create_field(self, base: str, table: TableSchema, spec: FieldSpec) -> FieldInfo:
        raise self.unsupported("create_field")

    async def update_field(
        self, base: str, table: TableSchema, field: FieldInfo, name: str | None, options: list[str] | None
    ) -> FieldInfo:
        raise self.unsupported("update_field")

    async def delete_field(self, base: str, table: TableSchema, field: FieldInfo) -> None:
        raise self.unsupported("delete_field")

    # ------------------------------------------------------------------------------ views
    async def create_view(self, base: str, table: TableSchema, name: str, view_type: str) -> dict[str, Any]:
        raise self.unsupported("create_view")

    async def delete_view(self, base: str, table: TableSchema, view_id: str) -> None:
        raise self.unsupported("delete_view")

    # ------------------------------------------------------------------------------ records
    def compile_filter(self, where: Node | None, table: TableSchema) -> CompiledFilter:
        """The provider's native form of ``where``. Default: nothing native, all in the server."""
        return CompiledFilter(native=None, exact=where is None)

    def check_rows(self, table: TableSchema, rows: list[dict[str, Any]], *, update: bool) -> None:  # noqa: B027
        """Provider rules a value must meet beyond its contract type (a whole number for an integer
        field, a length limit...), checked on every row of a create or update call before anything
        is sent. ``rows[i]`` is record ``i`` of the call (canonical values; on update only the fields
        being changed, None clearing one). Raise InputError naming the record and the field."""

    @abstractmethod
    async def read_page(self, base: str, table: TableSchema, request: PageRequest) -> Page: ...

    @abstractmethod
    async def get_records(self, base: str, table: TableSchema, ids: list[str]) -> list[Record]:
        """The records among ``ids`` that exist (at most ``limits.get_batch`` ids per call)."""

    @abstractmethod
    async def create_batch(self, base: str, table: TableSchema, rows: list[dict[str, Any]]) -> CreateResult:
        """Create one batch (at most ``limits.create_batch`` rows); idempotent under retries."""

    def prepare_create(self, table: TableSchema, rows: list[dict[str, Any]]) -> None:  # noqa: B027
        """Optional: the CPU work of a create batch that can be done before its turn (converting
        and encoding its request body). The batch loop runs it in a worker thread for the next
        batch while the current one is sent; ``create_batch`` with the same ``rows`` list then
        finds it done (and does it itself when it is not). The default has nothing to prepare."""

    @abstractmethod
    async def update_batch(
        self, base: str, table: TableSchema, rows: list[tuple[str, dict[str, Any]]]
    ) -> None: ...

    @abstractmethod
    async def delete_batch(self, base: str, table: TableSchema, ids: list[str]) -> None: ...

    # ------------------------------------------------------------------------------ attachments
    max_attachment_bytes: int = 0  # the largest file upload_file takes

    async def upload_file(
        self, base: str, table: TableSchema, record_id: str, path: Path, sent: Sent
    ) -> dict[str, Any]:
        """Store the file at ``path`` for an attachment field of ``record_id``; the item to add to the
        field's value (canonical write form). ``sent(n)`` reports bytes sent so far."""
        raise self.no_attachments("upload_attachment")

    async def discard_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> None:
        """Forget a file ``upload_file`` stored when the record was not updated to hold it. Remote
        providers keep unreferenced media to themselves (their APIs have no delete): nothing to do."""
        return None

    def read_file(self, base: str, table: TableSchema, item: dict[str, Any]) -> AsyncIterator[bytes]:
        """The content of one attachment (an item of the field's read value), in chunks."""
        raise self.no_attachments("download_attachments")

    def no_attachments(self, tool: str) -> NotSupportedError:
        return NotSupportedError(
            f"{tool} is not supported by {self.title or self.id}: its API has no file upload or download "
            "(list_providers shows what each provider can do)."
        )

    # ------------------------------------------------------------ native fast paths (optional)
    # Each returns None where the provider has none: the engine then does the work itself.
    async def aggregate(
        self, base: str, table: TableSchema, native_filter: Any, plan: Plan, tz: tzinfo
    ) -> Aggregated | None:
        """``plan`` over the records matching ``native_filter`` (an exact filter), in one request."""
        return None

    async def write_where(
        self,
        base: str,
        table: TableSchema,
        native_filter: Any,
        values: dict[str, Any] | None,
        at_most: int | None,
    ) -> int | None:
        """Update every record matching ``native_filter`` (an exact filter) with ``values``, or delete
        them (``values`` None), all or nothing; how many matched. When more than ``at_most`` match,
        nothing is written."""
        return None

    async def find_keys(
        self, base: str, table: TableSchema, fields: list[FieldInfo], keys: list[list[Any]]
    ) -> list[tuple[list[Any], list[str]]] | None:
        """Ids of the records whose ``fields`` have one of ``keys`` (parts as
        ``anytable.core.upsert.key_part`` makes them), by key."""
        return None

    # ------------------------------------------------------------------------------ tool groups
    @classmethod
    def toolsets(cls) -> tuple[str, ...]:
        """The tool groups beyond the core ones that this provider brings (``anytable.tools``), listed
        while it is enabled. ``views`` comes with ``capabilities.views``; a provider adds its own
        administration group (``feishu``) and implements it with ``administer``."""
        return ("views",) if cls.capabilities.views else ()

    def admin_needs_table(self, action: str) -> bool:
        """Whether ``administer(action)`` needs the table's schema (then ``table`` is required)."""
        return False

    async def administer(
        self, base: str, action: str, table: TableSchema | None, args: dict[str, Any], tz: tzinfo
    ) -> dict[str, Any]:
        """One action of this provider's administration tool group (base settings, roles...):
        ``args`` holds the tool's other arguments. Its result, JSON-ready."""
        raise self.unsupported(action)

    # ------------------------------------------------------------------------------ helpers
    def unsupported(self, tool: str) -> NotSupportedError:
        return NotSupportedError(
            f"{tool} is not supported by {self.title or self.id}: the {self.title or self.id} API has no such "
            "operation. list_providers shows what each provider can do."
        )

    def check_field_type(self, spec: FieldSpec) -> None:
        allowed = self.capabilities.field_types
        if allowed and spec.type.value not in allowed:
            raise NotSupportedError(
                f"Field {spec.name!r}: type {spec.type.value!r} cannot be created on {self.title or self.id}; "
                f"use one of {', '.join(allowed)}."
            )


__all__ = [
    "Aggregated",
    "Capabilities",
    "CompiledFilter",
    "CreateResult",
    "FieldType",
    "Limits",
    "Page",
    "PageRequest",
    "Provider",
    "Record",
]
