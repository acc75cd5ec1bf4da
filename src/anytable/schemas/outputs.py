"""Structured results of the tools (their output schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ProviderOut(_Out):
    id: str
    enabled: bool
    capabilities: dict[str, Any]
    credentials: dict[str, str]


class ProvidersOut(_Out):
    providers: list[ProviderOut]


class TableOut(_Out):
    id: str
    name: str


class TablesOut(_Out):
    tables: list[TableOut]


class FieldOut(_Out):
    id: str
    name: str
    type: str
    options: list[str] | None = None
    primary: bool


class ViewOut(_Out):
    id: str
    name: str


class TableSchemaOut(_Out):
    id: str
    name: str
    fields: list[FieldOut]
    views: list[ViewOut] | None = None


class ViewsOut(_Out):
    views: list[ViewOut]


class DeletedOut(_Out):
    deleted: bool


class RecordOut(_Out):
    id: str
    fields: dict[str, Any]


class QueryOut(_Out):
    records: list[RecordOut] | None = None
    columns: list[str] | None = None  # format rows
    rows: list[list[Any]] | None = None
    next_cursor: str | None
    server_filtered: bool


class AggregateOut(_Out):
    groups: list[dict[str, Any]]
    total_groups: int
    scanned: int
    server_computed: bool


class GetOut(_Out):
    records: list[RecordOut]
    missing: list[str]


class FailedRow(_Out):
    index: int
    error: str


class CreatedOut(_Out):
    created: int
    ids: list[str | None] | None
    failed: list[FailedRow] | None = None
    updated: int | None = None  # with key
    skipped: int | None = None


class UpdatedOut(_Out):
    updated: int
    matched: int | None = None  # with where
    sample: list[RecordOut] | None = None  # with dry_run


class DeletedCountOut(_Out):
    deleted: int
    matched: int | None = None
    sample: list[RecordOut] | None = None
