"""Feishu drive media upload and download, as the Feishu emulator serves them (attachments).

Sources: docs/provider-api-notes.md §2.7 and the ``lark-oapi`` package's ``api/drive/v1`` models
(UploadAllMediaRequestBody, MediaUploadInfo, UploadPartMediaRequestBody,
UploadFinishMediaRequestBody, DownloadMediaRequest), and the reference's A.6 (the attachment
value a record shows).

* ``POST /open-apis/drive/v1/medias/upload_all``: multipart form ``file_name``, ``parent_type``,
  ``parent_node``, ``size``, optional ``checksum`` (Adler-32, decimal) and ``extra``, and ``file``.
  At most 20 MB (20,971,520 bytes) -> else 1061043; ``size`` must equal the file's length and the
  checksum the file's -> else 1061002. ``parent_type`` for a base is ``bitable_image`` or
  ``bitable_file`` (other drive parent types are refused here: this emulates a base);
  ``parent_node`` must be a base -> else 1062507. Answer ``{"file_token"}``.
* ``POST .../medias/upload_prepare`` (JSON MediaUploadInfo) -> ``{upload_id, block_size: 4 MB,
  block_num}``; ``POST .../medias/upload_part`` (multipart ``upload_id``, ``seq``, ``size``,
  ``checksum``?, ``file``): every block but the last exactly ``block_size``, ``seq`` in range;
  ``POST .../medias/upload_finish`` (JSON ``upload_id``, ``block_num``): every block present ->
  ``{file_token}``; a second finish of the same upload answers the same token.
* ``GET .../medias/{file_token}/download``: the bytes (``Range: bytes=a-b`` -> 206 with that part);
  an unknown token -> 1061044 (HTTP 404).
* Rate: 5 requests/s per app for each upload call (§2.7).
"""

from __future__ import annotations

import mimetypes
import re
import zlib
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

import httpx

from .emulator import Ctx, RouteSpec
from .errors import FeishuError

if TYPE_CHECKING:
    from .emulator import FeishuEmulator

MEDIAS = "/open-apis/drive/v1/medias"
MAX_UPLOAD_ALL = 20 * 1024 * 1024
BLOCK = 4 * 1024 * 1024
MAX_FILE = 2 * 1024 * 1024 * 1024
PARENT_TYPES = {"bitable_image", "bitable_file"}
RATES = {
    "medias.upload_all": 5,
    "medias.upload_prepare": 5,
    "medias.upload_part": 5,
    "medias.upload_finish": 5,
}
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass
class Upload:
    app_token: str
    file_name: str
    parent_type: str
    size: int
    block_num: int
    parts: dict[int, bytes] = field(default_factory=dict)
    file_token: str | None = None


class FeishuDrive:
    def __init__(self, emulator: FeishuEmulator) -> None:
        self.emu = emulator
        self.files: dict[str, bytes] = {}  # file_token -> content
        self.uploads: dict[str, Upload] = {}
        self.max_upload_all = MAX_UPLOAD_ALL

    def install(self) -> None:
        emu = self.emu
        routes = [
            ("POST", MEDIAS + "/upload_all", self._upload_all, "medias.upload_all", True),
            ("POST", MEDIAS + "/upload_prepare", self._upload_prepare, "medias.upload_prepare", True),
            ("POST", MEDIAS + "/upload_part", self._upload_part, "medias.upload_part", True),
            ("POST", MEDIAS + "/upload_finish", self._upload_finish, "medias.upload_finish", True),
            ("GET", MEDIAS + "/{file_token}/download", self._download, "medias.download", False),
        ]
        for method, path, handler, name, is_write in routes:
            emu.specs[name] = RouteSpec(name, is_write, "drive")
            emu.router.add(method, path, handler, name)
        for name, rate in RATES.items():
            emu.rate_limits.setdefault(name, rate)

    # ------------------------------------------------------------------------------ helpers
    @staticmethod
    def _error(code: int, msg: str, status: int = 400) -> Exception:
        return FeishuError(code, msg, status=status)

    @staticmethod
    def _form(request: httpx.Request) -> tuple[dict[str, str], bytes | None]:
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise FeishuDrive._error(1061002, "params error: the body must be multipart/form-data")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + request.content
        )
        fields: dict[str, str] = {}
        content: bytes | None = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if name == "file":
                content = payload
            elif isinstance(name, str):
                fields[name] = payload.decode()
        return fields, content

    def _check_parent(self, parent_type: Any, parent_node: Any) -> str:
        if parent_type not in PARENT_TYPES:
            raise self._error(
                1061002, f"params error: parent_type {parent_type!r} is not one of {sorted(PARENT_TYPES)}"
            )
        if not isinstance(parent_node, str) or parent_node not in self.emu.apps:
            raise self._error(1062507, "parent node not exist")
        return parent_node

    @staticmethod
    def _int(raw: Any, name: str) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise FeishuDrive._error(1061002, f"params error: {name} must be an integer") from None
        if value < 0:
            raise FeishuDrive._error(1061002, f"params error: {name} must not be negative")
        return value

    def _store(self, app_token: str, name: str, content: bytes) -> str:
        token = "boxcn" + self.emu._new_id("", 22)
        self.files[token] = content
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.emu.add_attachment(app_token, token, name, len(content), mime)
        return token

    # ------------------------------------------------------------------------------ routes
    async def _upload_all(self, ctx: Ctx) -> dict[str, Any]:
        form, content = self._form(ctx.request)
        app_token = self._check_parent(form.get("parent_type"), form.get("parent_node"))
        name = form.get("file_name") or ""
        if not name or len(name) > 250:
            raise self._error(1061002, "params error: file_name is required (at most 250 characters)")
        if content is None:
            raise self._error(1061002, "params error: file is required")
        size = self._int(form.get("size"), "size")
        if size > self.max_upload_all or len(content) > self.max_upload_all:
            raise self._error(1061043, "file size beyond limit: upload_all takes at most 20MB")
        if size != len(content):
            raise self._error(1061002, "params error: size does not match the file")
        checksum = form.get("checksum")
        if checksum is not None and checksum != str(zlib.adler32(content)):
            raise self._error(1061002, "params error: checksum does not match the file")
        return {"file_token": self._store(app_token, name, content)}

    async def _upload_prepare(self, ctx: Ctx) -> dict[str, Any]:
        body = self.emu._body(ctx)
        app_token = self._check_parent(body.get("parent_type"), body.get("parent_node"))
        name = body.get("file_name")
        if not isinstance(name, str) or not name or len(name) > 250:
            raise self._error(1061002, "params error: file_name is required (at most 250 characters)")
        size = self._int(body.get("size"), "size")
        if size == 0:
            raise self._error(1061002, "params error: size must be positive")
        if size > MAX_FILE:
            raise self._error(1061043, "file size beyond limit")
        block_num = -(-size // BLOCK)
        upload_id = self.emu._new_id("", 24)
        self.uploads[upload_id] = Upload(app_token, name, body["parent_type"], size, block_num)
        return {"upload_id": upload_id, "block_size": BLOCK, "block_num": block_num}

    async def _upload_part(self, ctx: Ctx) -> dict[str, Any]:
        form, content = self._form(ctx.request)
        upload = self.uploads.get(form.get("upload_id") or "")
        if upload is None:
            raise self._error(1061002, "params error: unknown upload_id")
        if content is None:
            raise self._error(1061002, "params error: file is required")
        seq = self._int(form.get("seq"), "seq")
        if seq >= upload.block_num:
            raise self._error(1061002, f"params error: seq must be below block_num {upload.block_num}")
        expected = BLOCK if seq < upload.block_num - 1 else upload.size - BLOCK * (upload.block_num - 1)
        size = self._int(form.get("size"), "size")
        if size != len(content) or size != expected:
            raise self._error(1061002, f"params error: block {seq} must be {expected} bytes")
        checksum = form.get("checksum")
        if checksum is not None and checksum != str(zlib.adler32(content)):
            raise self._error(1061002, "params error: checksum does not match the block")
        upload.parts[seq] = content
        return {}

    async def _upload_finish(self, ctx: Ctx) -> dict[str, Any]:
        body = self.emu._body(ctx)
        upload = self.uploads.get(body.get("upload_id") or "")
        if upload is None:
            raise self._error(1061002, "params error: unknown upload_id")
        if upload.file_token is not None:
            return {"file_token": upload.file_token}
        if self._int(body.get("block_num"), "block_num") != upload.block_num:
            raise self._error(1061002, f"params error: block_num must be {upload.block_num}")
        missing = [i for i in range(upload.block_num) if i not in upload.parts]
        if missing:
            raise self._error(1061002, f"params error: blocks {missing[:5]} were not uploaded")
        content = b"".join(upload.parts[i] for i in range(upload.block_num))
        upload.parts.clear()
        upload.file_token = self._store(upload.app_token, upload.file_name, content)
        return {"file_token": upload.file_token}

    async def _download(self, ctx: Ctx, file_token: str) -> httpx.Response:
        content = self.files.get(file_token)
        if content is None:
            raise self._error(1061044, "file not exist", status=404)
        headers = {"content-type": "application/octet-stream", "X-Tt-Logid": self.emu._next_logid()}
        wanted = ctx.request.headers.get("range")
        if wanted:
            m = _RANGE.match(wanted.strip())
            if m is None or int(m[1]) >= len(content):  # RFC 9110 15.5.17: the length in Content-Range
                return httpx.Response(416, headers={**headers, "content-range": f"bytes */{len(content)}"})
            start = int(m[1])
            end = min(int(m[2]) if m[2] else len(content) - 1, len(content) - 1)
            headers["content-range"] = f"bytes {start}-{end}/{len(content)}"
            return httpx.Response(206, content=content[start : end + 1], headers=headers)
        return httpx.Response(200, content=content, headers=headers)
