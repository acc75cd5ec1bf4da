"""Feishu attachments: which drive media calls go out, and the emulator's strictness to §2.7 and the
lark-oapi drive v1 models (the 20 MB single-upload limit, parent types, sizes, checksums, blocks)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from anytable.providers.feishu import drive
from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import FeishuEmulator
from tests.harness import serve
from tests.providers.feishu_harness import APP_ID, APP_TOKEN, emulator, env

pytestmark = pytest.mark.anyio
MB = 1024 * 1024


async def _post(emu: FeishuEmulator, path: str, **kwargs: Any) -> dict[str, Any]:
    token = emu.issue_token(APP_ID)
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://open.feishu.cn") as http:
        response = await http.post(
            drive.MEDIAS + path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    body: dict[str, Any] = response.json()
    return body


def _form(content: bytes, **fields: Any) -> dict[str, Any]:
    data = {
        "file_name": "a.txt",
        "parent_type": "bitable_file",
        "parent_node": APP_TOKEN,
        "size": str(len(content)),
    }
    data.update({k: str(v) for k, v in fields.items()})
    return {"data": data, "files": {"file": ("a.txt", content, "application/octet-stream")}}


async def test_emulator_is_strict_to_the_upload_rules() -> None:
    emu = emulator(rate_limits={f"medias.{n}": 1000 for n in ("upload_all", "upload_prepare", "upload_part")})
    ok = await _post(emu, "/upload_all", **_form(b"hello", checksum=zlib.adler32(b"hello")))
    assert ok["code"] == 0 and ok["data"]["file_token"].startswith("boxcn")
    assert (await _post(emu, "/upload_all", **_form(b"hello", size=4)))["code"] == 1061002
    assert (await _post(emu, "/upload_all", **_form(b"hello", checksum=1)))["code"] == 1061002
    assert (await _post(emu, "/upload_all", **_form(b"hello", parent_type="doc_file")))["code"] == 1061002
    assert (await _post(emu, "/upload_all", **_form(b"hello", parent_node="bascnNope")))["code"] == 1062507
    big = b"x" * (20 * MB + 1)
    assert (await _post(emu, "/upload_all", **_form(big)))["code"] == 1061043
    assert (await _post(emu, "/upload_all", json={"file_name": "a"}))["code"] == 1061002  # not multipart

    prep = await _post(
        emu,
        "/upload_prepare",
        json={"file_name": "b.bin", "parent_type": "bitable_file", "parent_node": APP_TOKEN, "size": 9 * MB},
    )
    assert prep["data"]["block_size"] == 4 * MB and prep["data"]["block_num"] == 3
    uid = prep["data"]["upload_id"]

    def part(seq: int, content: bytes) -> dict[str, Any]:
        data = {"upload_id": uid, "seq": str(seq), "size": str(len(content))}
        return {"data": data, "files": {"file": ("b.bin", content, "application/octet-stream")}}

    assert (await _post(emu, "/upload_part", **part(0, b"x" * MB)))["code"] == 1061002  # not a whole block
    assert (await _post(emu, "/upload_part", **part(3, b"x" * MB)))["code"] == 1061002  # seq out of range
    assert (await _post(emu, "/upload_part", **part(0, b"x" * 4 * MB)))["code"] == 0
    finish = {"json": {"upload_id": uid, "block_num": 3}}
    assert (await _post(emu, "/upload_finish", **finish))["code"] == 1061002  # blocks missing
    assert (await _post(emu, "/upload_part", **part(1, b"y" * 4 * MB)))["code"] == 0
    assert (await _post(emu, "/upload_part", **part(2, b"z" * MB)))["code"] == 0
    done = await _post(emu, "/upload_finish", **finish)
    assert (await _post(emu, "/upload_finish", **finish))["data"] == done["data"]  # a repeat: same token
    assert done["code"] == 0
    assert emu.drive.files[done["data"]["file_token"]] == b"x" * 4 * MB + b"y" * 4 * MB + b"z" * MB


async def test_upload_calls_are_limited_to_five_a_second() -> None:
    emu = emulator()
    codes = [(await _post(emu, "/upload_all", **_form(b"hello")))["code"] for _ in range(6)]
    assert codes == [0, 0, 0, 0, 0, 99991400]


async def test_small_files_go_in_one_call_large_ones_in_blocks(tmp_path: Path) -> None:
    emu = emulator()
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "photo.png").write_bytes(b"\x89PNG" + b"0" * 1000)
    (folder / "big.bin").write_bytes(b"1" * (21 * MB))
    async with serve(
        "feishu", env(ANYTABLE_FILE_ROOTS=str(folder)), tmp_path, emulator=emu, base=APP_TOKEN
    ) as h:
        await h.call(
            "create_table",
            name="t",
            fields=[{"name": "title", "type": "text"}, {"name": "f", "type": "attachment"}],
        )
        await h.call("create_records", table="t", records=[{"title": "x"}])
        (record,) = await h.all_records("t")
        out = await h.call(
            "upload_attachment", table="t", record_id=record["id"], field="f", path="photo.png"
        )
        assert out["attachments"][0]["type"] == "image/png"
        assert emu.count("POST", "upload_all") == 1 and emu.count("POST", "upload_prepare") == 0
        await h.call("upload_attachment", table="t", record_id=record["id"], field="f", path="big.bin")
        assert emu.count("POST", "upload_all") == 1
        assert emu.count("POST", "upload_prepare") == 1 and emu.count("POST", "upload_part") == 6
        assert emu.count("POST", "upload_finish") == 1
        saved = await h.call("download_attachments", table="t", record_id=record["id"], field="f", dir=".")
        assert [f["size"] for f in saved["files"]] == [1004, 21 * MB]
        assert emu.count("GET", "/download") == 1 + 3  # ranges of 8 MB


async def test_a_download_whose_range_is_ignored_is_not_repeated() -> None:
    """A server answering the whole file to a ranged request: the file once, not once per range."""
    content = b"z" * (drive.DOWNLOAD_CHUNK + 5)

    class WholeFile:
        calls = 0

        def where(self, app: str) -> str:
            return app

        async def call(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            self.calls += 1
            return {"content": content if self.calls <= 3 else b""}  # bounded, should it ask again

    api = WholeFile()
    got = b"".join([chunk async for chunk in drive.download(api, APP_TOKEN, "boxcn1", None)])  # type: ignore[arg-type]
    assert got == content and api.calls == 1


async def test_a_download_of_unknown_size_ending_on_a_range_boundary_ends_cleanly() -> None:
    """Size unknown, the file exactly two ranges long: the third range is past the end (416)."""
    from tests.providers.feishu_harness import direct

    emu = emulator()
    content = bytes(range(256)) * (2 * drive.DOWNLOAD_CHUNK // 256)
    token = emu.drive._store(APP_TOKEN, "exact.bin", content)
    provider, _ = direct(emu)
    got = b"".join([chunk async for chunk in drive.download(provider.api, APP_TOKEN, token, None)])
    assert got == content
    assert emu.count("GET", "/download") == 3  # the last one answered 416, taken as the end of the file
