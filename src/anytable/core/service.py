"""The engine behind the tools, composed of small services with one job each:

- ``Catalog`` (catalog.py): addressing, the schema cache, every id-or-name lookup;
- ``Structure`` (structure.py): tables, fields and views;
- ``Reader`` (reading.py): query_records, get_records, scans of every match;
- ``Aggregator`` (aggregate.py): aggregate_records;
- ``Writer`` (writing.py, upsert.py): create/update/delete by id, by ``where``, upserts, all
  through the one batch loop (batches.py).

Tools call the methods of ``Anytable`` (each delegates to one service) and get plain JSON-ready
dicts back; every provider difference stays behind ``Provider``.
"""

from __future__ import annotations

from typing import Any

from anytable.config import Settings
from anytable.core.addressing import Address
from anytable.core.aggregate import Aggregator
from anytable.core.catalog import Catalog
from anytable.core.progress import Progress
from anytable.core.reading import Reader
from anytable.core.structure import Structure
from anytable.core.writing import Writer
from anytable.providers.base import Provider
from anytable.providers.registry import TransportFactory, build_providers, provider_classes
from anytable.schemas.fields import TableSchema

__all__ = ["Anytable", "Progress"]


class Anytable:
    def __init__(self, settings: Settings, transports: TransportFactory | None = None) -> None:
        self.settings = settings
        self.tz = settings.tz()
        self.specs: dict[str, type[Provider]] = provider_classes()  # each provider's descriptor
        self.providers: dict[str, Provider] = build_providers(settings, transports)
        self.catalog = Catalog(settings, self.specs, self.providers)
        self.structure = Structure(self.catalog)
        self.reader = Reader(self.catalog, self.tz)
        self.aggregator = Aggregator(self.catalog, self.reader, self.tz)
        self.writer = Writer(self.catalog, self.reader, self.tz)
        # The tools' entry points, one service each.
        self.list_tables = self.structure.list_tables
        self.describe_table = self.structure.describe_table
        self.create_table = self.structure.create_table
        self.update_table = self.structure.update_table
        self.delete_table = self.structure.delete_table
        self.create_field = self.structure.create_field
        self.update_field = self.structure.update_field
        self.delete_field = self.structure.delete_field
        self.list_views = self.structure.list_views
        self.create_view = self.structure.create_view
        self.delete_view = self.structure.delete_view
        self.query_records = self.reader.query_records
        self.get_records = self.reader.get_records
        self.aggregate_records = self.aggregator.aggregate_records
        self.create_records = self.writer.create_records
        self.update_records = self.writer.update_records
        self.delete_records = self.writer.delete_records

    async def aclose(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()

    @property
    def open_world(self) -> bool:
        return any(p.open_world for p in self.providers.values())

    # Addressing, for tools that address a table themselves (Feishu administration).
    def address(self, provider: str | None, base: str | None, table: str | None = None) -> Address:
        return self.catalog.address(provider, base, table)

    async def schema(self, addr: Address, *, fresh: bool = False) -> TableSchema:
        return await self.catalog.schema(addr, fresh=fresh)

    def forget(self, addr: Address, table_id: str | None = None) -> None:
        self.catalog.forget(addr, table_id)

    def list_providers(self) -> dict[str, Any]:
        out = []
        for pid, spec in self.specs.items():
            enabled = self.providers.get(pid)  # its own capabilities where it is enabled
            caps = enabled.capabilities if enabled is not None else spec.capabilities
            out.append(
                {
                    "id": pid,
                    "enabled": pid in self.providers,
                    "capabilities": caps.model_dump(),
                    "credentials": {
                        **spec.masked_credentials(self.settings),
                        **(self.providers[pid].acting_as() if pid in self.providers else {}),
                    },
                }
            )
        return {"providers": out}
