"""Where the local store keeps the files of its attachment fields: one interface, two places.

- :class:`FolderFiles` (SQLite): a folder beside the SQLite file
  (``<name>.files/<base>/<table id>/<record id>/<file name>``); an item's url is ``file:///...``.
- ``DatabaseFiles`` (PostgreSQL, ``dbfiles.py``): in the store's own tables, so that every replica
  sees them; an item's url is ``anytable-local://files/<file id>``.

The backend chooses (``Backend.file_store``). Either way an attachment item is
``{"name", "url", "type", "size"}``, at most ``MAX_FILE`` bytes, and its file is deleted with its
record (by id or by filter) or its table. Each record owns its files: an item of a file kept for
another record, written to this one (an agent copying an attachment), gets a copy of its own
(``adopt``), so deleting the first record never takes the file from the second.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import anyio

from anytable.errors import InputError
from anytable.files.newfile import link_new
from anytable.providers.base import Sent

if TYPE_CHECKING:
    from anytable.providers.local.backend import Db

MAX_FILE = 1024 * 1024 * 1024  # 1 GB: the most one local attachment may be
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def _part(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(" .") or "_"


def attachment_item(name: str, url: str, size: int) -> dict[str, Any]:
    """The value local stores for one kept file (its type guessed from the name)."""
    return {
        "name": name,
        "url": url,
        "type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "size": size,
    }


def not_kept(item: dict[str, Any]) -> InputError:
    url = str(item.get("url") or "")
    return InputError(
        f"Attachment {item.get('name')!r} is a link ({url[:80]}), not a file kept by local: open its url instead."
    )


class FileStore(ABC):
    """The files of one local store's attachment fields."""

    # whether what ``adopt`` makes is undone with its transaction (files in the database), or must
    # be deleted when the write fails (files in a folder)
    rolls_back = False

    @abstractmethod
    async def store(
        self, base: str, table_id: str, record_id: str, source: Path, sent: Sent
    ) -> dict[str, Any]:
        """Keep a copy of ``source`` for ``record_id``; its attachment item. ``sent(n)``: bytes kept so far."""

    @abstractmethod
    def read(self, item: dict[str, Any]) -> AsyncIterator[bytes]:
        """The content of the file ``item`` names, in chunks; InputError when it names none kept here."""

    @abstractmethod
    async def discard(self, item: dict[str, Any]) -> None:
        """Delete the one file ``store`` kept for ``item`` (its record was not updated to hold it)."""

    @abstractmethod
    async def adopt(
        self, db: Db, base: str, table_id: str, record_id: str, item: dict[str, Any]
    ) -> dict[str, Any]:
        """``item`` as ``record_id`` may hold it, inside the transaction that writes it: itself when
        it is a link or a file kept for that record; else a copy of the file, kept for that record."""

    async def forget(self, db: Db, base: str, table_id: str, record_ids: list[str] | None) -> None:  # noqa: B027
        """Inside the transaction that deletes these records (None: the whole table): delete what of
        their files the database holds (committed or rolled back with the records)."""

    async def sweep(self, base: str, table_id: str, record_ids: list[str] | None) -> None:  # noqa: B027
        """After that transaction committed: delete what of their files lives outside the database."""


def _keep_copy(source: Path, folder: Path, name: str, record_id: str) -> Path:
    """A copy of ``source`` in ``folder`` under ``name`` (``name (2)``... when taken), placed whole."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{uuid.uuid4().hex[:12]}.part"
    try:
        shutil.copyfile(source, tmp)
        stem, suffix = os.path.splitext(_part(name))
        for n in range(1, 10_000):
            target = folder / (f"{stem}{suffix}" if n == 1 else f"{stem} ({n}){suffix}")
            try:
                link_new(tmp, target)
                return target
            except FileExistsError:
                continue
        raise InputError(f"Record {record_id} already holds too many files named {name!r}.")
    finally:
        tmp.unlink(missing_ok=True)


class FolderFiles(FileStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, base: str, table_id: str, record_id: str | None = None) -> Path:
        path = self.root / _part(base) / _part(table_id)
        return path / _part(record_id) if record_id is not None else path

    async def store(
        self, base: str, table_id: str, record_id: str, source: Path, sent: Sent
    ) -> dict[str, Any]:
        folder = self.folder(base, table_id, record_id)
        target = await anyio.to_thread.run_sync(_keep_copy, source, folder, source.name, record_id)
        size = target.stat().st_size
        await sent(size)
        return attachment_item(source.name, target.as_uri(), size)

    async def adopt(
        self, db: Db, base: str, table_id: str, record_id: str, item: dict[str, Any]
    ) -> dict[str, Any]:
        if not str(item.get("url") or "").startswith("file:"):
            return item
        try:
            path = self.path_of(item)
        except InputError:  # a link, or a file no longer kept: written as it is
            return item
        folder = self.folder(base, table_id, record_id)
        if path.parent == folder.resolve():
            return item
        name = str(item.get("name") or path.name)
        target = await anyio.to_thread.run_sync(_keep_copy, path, folder, name, record_id)
        return {**item, "url": target.as_uri(), "size": target.stat().st_size}

    def path_of(self, item: dict[str, Any]) -> Path:
        """The stored file an attachment item names; refused when it is a link, not a file kept here."""
        url = str(item.get("url") or "")
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(url2pathname(parsed.path)).resolve()
            if path.is_relative_to(self.root.resolve()) and path.is_file():
                return path
        raise not_kept(item)

    async def read(self, item: dict[str, Any]) -> AsyncIterator[bytes]:
        path = self.path_of(item)
        async with await anyio.open_file(path, "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk

    async def discard(self, item: dict[str, Any]) -> None:
        path = self.path_of(item)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def sweep(self, base: str, table_id: str, record_ids: list[str] | None) -> None:
        targets = (
            [self.folder(base, table_id)]
            if record_ids is None
            else [self.folder(base, table_id, rid) for rid in record_ids]
        )

        def remove() -> None:
            for target in targets:
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)

        await anyio.to_thread.run_sync(remove)
