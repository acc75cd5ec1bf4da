"""Feishu attachments through the drive media API (docs/provider-api-notes.md §2.7, checked against the
``lark-oapi`` drive v1 models): a file up to 20 MB goes in one ``upload_all``; a larger one in
``upload_prepare`` -> ``upload_part`` (the blocks the prepare answer asks for) -> ``upload_finish``.
The file token is then written into the attachment field. Download reads
``medias/{file_token}/download`` in ranges, so a large file never sits in memory whole.
"""

from __future__ import annotations

import mimetypes
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from anytable.errors import ProviderError
from anytable.providers.base import Sent
from anytable.providers.feishu.api import FeishuApi

MEDIAS = "/open-apis/drive/v1/medias"
UPLOAD_ALL_MAX = 20 * 1024 * 1024  # upload_all takes at most 20 MB; above, the chunked upload
MAX_FILE = 2 * 1024 * 1024 * 1024  # the most the server lets one attachment be
DOWNLOAD_CHUNK = 8 * 1024 * 1024


def parent_type(name: str) -> str:
    mime = mimetypes.guess_type(name)[0] or ""
    return "bitable_image" if mime.startswith("image/") else "bitable_file"


async def _read(path: Path, offset: int, size: int) -> bytes:
    def work() -> bytes:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(size)

    return await anyio.to_thread.run_sync(work)


async def upload(client: FeishuApi, app: str, path: Path, sent: Sent) -> str:
    """Upload the file at ``path`` into base ``app``; its file_token."""
    name = path.name
    size = path.stat().st_size
    where = client.where(app)
    kind = parent_type(name)

    async def send(step: str, form: dict[str, str], content: bytes) -> Any:
        """One multipart upload call: ``form`` and the bytes with their size and Adler-32 checksum."""
        form = {**form, "size": str(len(content)), "checksum": str(zlib.adler32(content))}
        return await client.call(
            "POST",
            f"/{step}",
            prefix=MEDIAS,
            api=f"medias.{step}",
            where=where,
            data=form,
            files={"file": (name, content, "application/octet-stream")},
        )

    if size <= UPLOAD_ALL_MAX:
        form = {"file_name": name, "parent_type": kind, "parent_node": app}
        data = await send("upload_all", form, await _read(path, 0, size))
        await sent(size)
        return _token(data)
    prepared = await client.call(
        "POST",
        "/upload_prepare",
        prefix=MEDIAS,
        api="medias.upload_prepare",
        where=where,
        json={"file_name": name, "parent_type": kind, "parent_node": app, "size": size},
    )
    upload_id = prepared.get("upload_id")
    block_size = prepared.get("block_size")
    block_num = prepared.get("block_num")
    if not isinstance(upload_id, str) or not isinstance(block_size, int) or not isinstance(block_num, int):
        raise ProviderError("Feishu's upload_prepare answered without upload_id, block_size and block_num.")
    done = 0
    for seq in range(block_num):
        block = await _read(path, seq * block_size, block_size)
        await send("upload_part", {"upload_id": upload_id, "seq": str(seq)}, block)
        done += len(block)
        await sent(done)
    finished = await client.call(
        "POST",
        "/upload_finish",
        prefix=MEDIAS,
        api="medias.upload_finish",
        where=where,
        json={"upload_id": upload_id, "block_num": block_num},
    )
    return _token(finished)


async def download(client: FeishuApi, app: str, file_token: str, size: int | None) -> AsyncIterator[bytes]:
    """The content of a file in ranges of DOWNLOAD_CHUNK bytes (``size``: its length, when known)."""
    where = client.where(app)
    offset = 0
    while size is None or offset < size:
        answer = await client.call(
            "GET",
            f"/{file_token}/download",
            prefix=MEDIAS,
            api="medias.download",
            where=where,
            headers={"Range": f"bytes={offset}-{offset + DOWNLOAD_CHUNK - 1}"},
            binary=True,
        )
        if answer.get("past_end"):
            if offset:  # the size was unknown and the file ends exactly at a range boundary
                return
            raise ProviderError(
                "Feishu refused to send the file's first bytes (416 range not satisfiable); "
                "call download_attachments again.",
                provider="feishu",
            )
        chunk = answer.get("content")
        if not isinstance(chunk, bytes):
            raise ProviderError(
                "Feishu answered a file download without the file's bytes.", provider="feishu"
            )
        if len(chunk) > DOWNLOAD_CHUNK:  # the range was ignored: this is the whole file
            if offset:
                raise ProviderError(
                    "Feishu ignored the download's Range header part-way; call download_attachments again.",
                    provider="feishu",
                )
            yield chunk
            return
        if chunk:
            yield chunk
        offset += len(chunk)
        if len(chunk) < DOWNLOAD_CHUNK:
            return


def _token(data: Any) -> str:
    token = data.get("file_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ProviderError("Feishu's media upload answered without a file_token.", provider="feishu")
    return token
