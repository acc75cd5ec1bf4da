"""Attachment files kept in the store's own database (local on PostgreSQL), so that every server
replica on the store sees them.

A file is one ``at_files`` row (its record, name, size) and its bytes in ``at_file_chunks``, one
row per ``CHUNK`` (1 MB), deleted with the file (ON DELETE CASCADE). Chunks rather than one value:
a file goes in and out one chunk at a time (a 25 MB file is never one 25 MB parameter, nor a 50 MB
hex string, nor held whole in this process or in one server message), and a read needs no
transaction held open across the caller's writes. Large objects (``lo_*``) would stream too, but
live outside the tables: nothing deletes them with a record, table or schema, and a dump of the
schema misses them.

Uploads are one transaction (a failed or cancelled upload leaves nothing); a read takes one short
transaction per chunk. The item's url is ``anytable-local://files/<file id>``: it names the file,
never the database or its credentials.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from anytable.errors import InputError
from anytable.providers.base import Sent
from anytable.providers.local.catalog import new_id
from anytable.providers.local.files import CHUNK, MAX_FILE, FileStore, attachment_item, not_kept

if TYPE_CHECKING:
    from anytable.providers.local.backend import Backend, Db

URL = "anytable-local://files/"
_URL = re.compile(r"anytable-local://files/(fil[0-9a-f]{24})")
_IDS_PER_STATEMENT = 10_000


class DatabaseFiles(FileStore):
    # A failed write's copies go with its transaction; nothing deletes them after it (a commit
    # whose answer was lost may have kept the record that holds them).
    rolls_back = True

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def store(
        self, base: str, table_id: str, record_id: str, source: Path, sent: Sent
    ) -> dict[str, Any]:
        fid = new_id("fil", 12)
        size = chunks = 0
        async with await anyio.open_file(source, "rb") as f, self.backend.transaction(write=True) as db:
            await db.execute(
                "INSERT INTO at_files (id, base, table_id, record_id, name, size, chunks, created_ms) "
                "VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
                (fid, base, table_id, record_id, source.name, int(time.time() * 1000)),
            )
            while chunk := await f.read(CHUNK):
                size += len(chunk)
                if size > MAX_FILE:  # it grew after its size was checked
                    raise InputError(
                        f"{source.name} grew past {MAX_FILE:,} bytes, the most local keeps; nothing was stored."
                    )
                await db.execute(
                    "INSERT INTO at_file_chunks (file_id, n, data) VALUES (?, ?, ?)", (fid, chunks, chunk)
                )
                chunks += 1
                await sent(size)
            await db.execute("UPDATE at_files SET size = ?, chunks = ? WHERE id = ?", (size, chunks, fid))
        return attachment_item(source.name, URL + fid, size)

    @staticmethod
    def file_id(item: dict[str, Any]) -> str:
        """The id of the file an item names; refused when its url is not one of ours."""
        found = _URL.fullmatch(str(item.get("url") or ""))
        if found is None:
            raise not_kept(item)
        return found.group(1)

    async def read(self, item: dict[str, Any]) -> AsyncIterator[bytes]:
        fid = self.file_id(item)
        async with self.backend.transaction() as db:
            row = await db.fetchone("SELECT chunks FROM at_files WHERE id = ?", (fid,))
        if row is None:
            raise InputError(
                f"Attachment {item.get('name')!r}: local no longer keeps its file (it was deleted with "
                "its record or table, or was never stored); upload it again."
            )
        for n in range(int(row[0])):
            # One short transaction per chunk: no connection is held while the caller writes.
            async with self.backend.transaction() as db:
                got = await db.fetchone(
                    "SELECT data FROM at_file_chunks WHERE file_id = ? AND n = ?", (fid, n)
                )
            if got is None:
                raise InputError(
                    f"Attachment {item.get('name')!r} was deleted (with its record or table) while it was "
                    "being read; the partial copy was not kept."
                )
            yield bytes(got[0])

    async def adopt(
        self, db: Db, base: str, table_id: str, record_id: str, item: dict[str, Any]
    ) -> dict[str, Any]:
        found = _URL.fullmatch(str(item.get("url") or ""))
        if found is None:  # a link: written as it is
            return item
        fid = found.group(1)
        row = await db.fetchone("SELECT base, table_id, record_id FROM at_files WHERE id = ?", (fid,))
        if row is None or tuple(row) == (base, table_id, record_id):  # no longer kept, or its own
            return item
        copy = new_id("fil", 12)
        await db.execute(
            "INSERT INTO at_files (id, base, table_id, record_id, name, size, chunks, created_ms) "
            "SELECT ?, ?, ?, ?, name, size, chunks, ? FROM at_files WHERE id = ?",
            (copy, base, table_id, record_id, int(time.time() * 1000), fid),
        )
        await db.execute(
            "INSERT INTO at_file_chunks (file_id, n, data) SELECT ?, n, data FROM at_file_chunks WHERE file_id = ?",
            (copy, fid),
        )
        return {**item, "url": URL + copy}

    async def discard(self, item: dict[str, Any]) -> None:
        fid = self.file_id(item)
        async with self.backend.transaction(write=True) as db:
            await db.execute("DELETE FROM at_files WHERE id = ?", (fid,))

    async def forget(self, db: Db, base: str, table_id: str, record_ids: list[str] | None) -> None:
        if record_ids is None:
            await db.execute("DELETE FROM at_files WHERE table_id = ?", (table_id,))
            return
        for i in range(0, len(record_ids), _IDS_PER_STATEMENT):
            part = record_ids[i : i + _IDS_PER_STATEMENT]
            marks = ",".join("?" * len(part))
            await db.execute(
                f"DELETE FROM at_files WHERE table_id = ? AND record_id IN ({marks})", [table_id, *part]
            )
