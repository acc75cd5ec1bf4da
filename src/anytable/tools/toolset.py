"""Tools as data: a :class:`Tool` is a typed function that calls the engine, its output model, its
description and its kind; a :class:`Toolset` is a named group of them. ``anytable.server``
registers them (annotations from the kind, write tools left out in read-only mode, errors turned
into masked tool errors at one boundary); nothing here knows about the server or a provider.

A toolset named in ``CORE`` is always listed; any other is listed while an enabled provider
brings it (``Provider.toolsets``: ``views`` with views, ``feishu`` with Feishu).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from anytable.core.service import Anytable

Kind = Literal["read", "write", "destructive"]
# ``async def name(svc, <arguments>) -> dict``: one call into the engine; the name is the tool's.
ToolFn = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Tool:
    fn: ToolFn
    out: type[BaseModel]  # the output schema
    description: str
    kind: Kind
    idempotent: bool = False

    @property
    def name(self) -> str:
        return self.fn.__name__


@dataclass(frozen=True)
class Toolset:
    name: str
    tools: tuple[Tool, ...]


def listed(toolset: Toolset, svc: Anytable, core: frozenset[str]) -> bool:
    """Whether ``toolset`` is listed with these providers enabled."""
    return toolset.name in core or any(toolset.name in p.toolsets() for p in svc.providers.values())
