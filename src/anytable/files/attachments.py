"""upload_attachment and download_attachments: files by path, never their bytes through the model.

Upload: the provider stores the file (Feishu drive media, local's file folder), then the record's
attachment list is written through update_records (the same checks and per-table write lock) with
the new file added to what was there. Download: each attachment is streamed into a hidden file in
the target folder and moved into place under a name not yet taken (nothing is overwritten).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from anytable.errors import InputError, NotFoundError
from anytable.files.newfile import link_new
from anytable.files.roots import FileRoots
from anytable.schemas.fields import FieldInfo, FieldType, TableSchema

if TYPE_CHECKING:
    from anytable.core.addressing import Address
    from anytable.core.service import Anytable

Progress = Callable[[float, float | None, str | None], Awaitable[None]] | None
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
# One lock per record whose attachment list an upload is changing (read, add, write back).
_record_locks: dict[tuple[str, str, str, str], anyio.Lock] = {}


async def upload_attachment(
    svc: Anytable,
    roots: FileRoots,
    provider: str | None,
    base: str | None,
    table: str | None,
    record_id: str,
    field: str,
    path: str,
    progress: Progress = None,
) -> dict[str, Any]:
    addr = svc.address(provider, base, table)
    if "upload" not in addr.provider.capabilities.attachments:
        raise addr.provider.no_attachments("upload_attachment")
    source = roots.readable(path, addr.provider.max_attachment_bytes)
    schema = await svc.schema(addr)
    target = _attachment_field(schema, field)
    size = source.stat().st_size
    await _current(svc, addr, schema, record_id, target)  # the record exists, before sending the file

    async def sent(n: int) -> None:
        if progress is not None and size:
            await progress(n, size, f"sent {n:,} of {size:,} bytes")

    item = await addr.provider.upload_file(addr.base, schema, record_id, source, sent)
    key = (addr.provider.id, addr.base, schema.id, record_id)
    lock = _record_locks.setdefault(key, anyio.Lock())
    try:
        async with lock:  # read and write the list as one step: concurrent uploads each keep their file
            try:
                current = await _current(svc, addr, schema, record_id, target)
                await svc.update_records(
                    provider, base, table, [{"id": record_id, "fields": {target.name: [*current, item]}}]
                )
            except BaseException:  # the record does not hold the file: do not keep it
                with anyio.CancelScope(shield=True):
                    await addr.provider.discard_file(addr.base, schema, item)
                raise
    finally:
        if not lock.locked() and lock.statistics().tasks_waiting == 0:
            _record_locks.pop(key, None)
    after = await svc.get_records(provider, base, table, [record_id])
    records = after["records"]
    return {"attachments": records[0]["fields"].get(target.name, []) if records else []}


async def download_attachments(
    svc: Anytable,
    roots: FileRoots,
    provider: str | None,
    base: str | None,
    table: str | None,
    record_id: str,
    field: str,
    folder: str,
    progress: Progress = None,
) -> dict[str, Any]:
    addr = svc.address(provider, base, table)
    if "download" not in addr.provider.capabilities.attachments:
        raise addr.provider.no_attachments("download_attachments")
    dest = roots.folder(folder)
    schema = await svc.schema(addr)
    target = _attachment_field(schema, field)
    items = await _current(svc, addr, schema, record_id, target)
    files: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        name = safe_name(str(item.get("name") or f"attachment-{i + 1}"))
        tmp = dest / f".{uuid.uuid4().hex[:12]}.part"
        size = 0
        try:
            async with await anyio.open_file(tmp, "xb") as out:
                async for chunk in addr.provider.read_file(addr.base, schema, item):
                    await out.write(chunk)
                    size += len(chunk)
            final = await anyio.to_thread.run_sync(_place_new, tmp, dest, name, roots)
        finally:
            tmp.unlink(missing_ok=True)
        files.append({"name": item.get("name") or name, "path": str(final), "size": size})
        if progress is not None and len(items) > 1:
            await progress(i + 1, len(items), f"saved {i + 1} of {len(items)} files")
    return {"files": files}


def _attachment_field(schema: TableSchema, key: str) -> FieldInfo:
    found = schema.find_field(key) if isinstance(key, str) else None
    if found is None:
        names = ", ".join(repr(f.name) for f in schema.fields if f.type is FieldType.attachment) or "none"
        raise NotFoundError(f"No field {key!r} in table {schema.name!r}; its attachment fields are {names}.")
    if found.type is not FieldType.attachment:
        raise InputError(f"Field {found.name!r} is {found.type.value}, not an attachment field.")
    return found


async def _current(
    svc: Anytable, addr: Address, schema: TableSchema, record_id: str, field: FieldInfo
) -> list[dict[str, Any]]:
    if not isinstance(record_id, str) or not record_id.strip():
        raise InputError("record_id must be a record id (query_records shows them).")
    found = await addr.provider.get_records(addr.base, schema, [record_id])
    if not found:
        raise NotFoundError(f"No record {record_id!r} in table {schema.name!r}; nothing was changed.")
    value = found[0].get("fields", {}).get(field.name)
    return [dict(v) for v in value] if isinstance(value, list) else []


def safe_name(name: str) -> str:
    """A provider's file name made safe as one path component."""
    base = _UNSAFE.sub("_", os.path.basename(name.replace("\\", "/"))).strip(" .")
    return base[:200] or "attachment"


def _place_new(tmp: Path, dest: Path, name: str, roots: FileRoots) -> Path:
    """Move ``tmp`` to ``dest/name``, or ``name (2)``... when taken; never over an existing file."""
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        candidate = dest / (name if n == 1 else f"{stem} ({n}){suffix}")
        if not roots.inside(candidate.parent.resolve()):
            raise roots.refuse(f"{candidate} is outside the allowed folders")
        try:
            link_new(tmp, candidate)
        except FileExistsError:
            continue
        return candidate
    raise InputError(f"{dest} already holds {name!r} and 998 more copies of it; pick another folder.")
