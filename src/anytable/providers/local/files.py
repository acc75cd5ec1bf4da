"""Files of local attachment fields: kept in a folder beside the SQLite file
(``<name>.files/<base>/<table id>/<record id>/<file name>``), deleted with their record or table.
An attachment item is ``{"name", "url": "file:///...", "type", "size"}``.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import anyio

from anytable.errors import InputError
from anytable.files.newfile import link_new
from anytable.providers.base import Sent

MAX_FILE = 1024 * 1024 * 1024  # 1 GB: the most one local attachment may be
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def _part(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(" .") or "_"


class LocalFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, base: str, table_id: str, record_id: str | None = None) -> Path:
        path = self.root / _part(base) / _part(table_id)
        return path / _part(record_id) if record_id is not None else path

    async def store(
        self, base: str, table_id: str, record_id: str, source: Path, sent: Sent
    ) -> dict[str, Any]:
        folder = self.folder(base, table_id, record_id)
        name = source.name

        def copy() -> Path:
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

        target = await anyio.to_thread.run_sync(copy)
        size = target.stat().st_size
        await sent(size)
        return {
            "name": name,
            "url": target.as_uri(),
            "type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "size": size,
        }

    def path_of(self, item: dict[str, Any]) -> Path:
        """The stored file an attachment item names; refused when it is a link, not a file kept here."""
        url = str(item.get("url") or "")
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(url2pathname(parsed.path)).resolve()
            if path.is_relative_to(self.root.resolve()) and path.is_file():
                return path
        raise InputError(
            f"Attachment {item.get('name')!r} is a link ({url[:80]}), not a file kept by local: open its url instead."
        )

    async def read(self, item: dict[str, Any]) -> AsyncIterator[bytes]:
        path = self.path_of(item)
        async with await anyio.open_file(path, "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk

    async def discard(self, item: dict[str, Any]) -> None:
        """Delete the one file ``store`` kept for ``item`` (its record was not updated to hold it)."""
        path = self.path_of(item)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def forget(self, base: str, table_id: str, record_ids: list[str] | None = None) -> None:
        """Delete the files of these records (None: of the whole table)."""
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
