"""The tools, declared as data: one module per resource, each a ``TOOLSET`` of thin, typed
functions that call the engine (``anytable.tools.toolset``). ``anytable.server`` registers them.

``CORE`` toolsets are always listed; ``views`` and ``feishu`` while an enabled provider brings them
(``Provider.toolsets``). The order here is the order of tools/list.
"""

from anytable.tools import feishu_admin, fields, files, providers, records, tables, views
from anytable.tools.toolset import Tool, Toolset

TOOLSETS: tuple[Toolset, ...] = (
    providers.TOOLSET,
    tables.TOOLSET,
    fields.TOOLSET,
    views.TOOLSET,
    records.TOOLSET,
    files.TOOLSET,
    feishu_admin.TOOLSET,
)
CORE = frozenset({"providers", "tables", "fields", "records", "files"})

__all__ = ["CORE", "TOOLSETS", "Tool", "Toolset"]
