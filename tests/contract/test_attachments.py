"""upload_attachment and download_attachments on every provider: by path, byte for byte, a small
file and a 25 MB one (Feishu's chunked upload; local's folder on SQLite and its database on
PostgreSQL); providers without an upload API say so. Files local keeps go with their record/table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from anytable.errors import InputError, ProviderError
from anytable.providers.local.files import FolderFiles
from anytable.providers.local.provider import LocalProvider
from tests.harness import Harness

pytestmark = pytest.mark.anyio

BIG = 25 * 1024 * 1024


async def _record(h: Harness) -> str:
    await h.call(
        "create_table",
        name="docs",
        fields=[{"name": "title", "type": "text"}, {"name": "files", "type": "attachment"}],
    )
    await h.call("create_records", table="docs", records=[{"title": "合同"}])
    (record,) = await h.all_records("docs")
    return str(record["id"])


async def test_upload_and_download_small_and_large(h: Harness, files: Path) -> None:
    listed = {p["id"]: p for p in (await h.call("list_providers"))["providers"]}
    if "upload" not in h.caps["attachments"]:
        assert listed[h.provider]["capabilities"]["attachments"] == []
        await h.call("create_table", name="docs", fields=[{"name": "title", "type": "text"}])
        message = await h.fails("upload_attachment", table="docs", record_id="r1", field="title", path="x")
        assert "not supported" in message and "list_providers" in message
        message = await h.fails("download_attachments", table="docs", record_id="r1", field="title", dir=".")
        assert "not supported" in message
        return
    assert listed[h.provider]["capabilities"]["attachments"] == ["upload", "download"]
    rid = await _record(h)
    small = files / "说明.txt"
    small.write_bytes("你好, attachments\n".encode() * 10)
    big = files / "big.bin"
    big.write_bytes(os.urandom(BIG))

    first = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="说明.txt")
    assert [a["name"] for a in first["attachments"]] == ["说明.txt"]
    h.progress.clear()
    second = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path=str(big))
    assert [a["name"] for a in second["attachments"]] == ["说明.txt", "big.bin"]  # appended, not replaced
    assert second["attachments"][1].get("size") == BIG
    assert h.progress and h.progress[-1][0] == BIG  # progress in bytes up to the whole file

    out = files / "out"
    out.mkdir()
    saved = await h.call("download_attachments", table="docs", record_id=rid, field="files", dir=str(out))
    assert [(f["name"], f["size"]) for f in saved["files"]] == [
        ("说明.txt", small.stat().st_size),
        ("big.bin", BIG),
    ]
    assert (out / "说明.txt").read_bytes() == small.read_bytes()
    assert (out / "big.bin").read_bytes() == big.read_bytes()
    again = await h.call("download_attachments", table="docs", record_id=rid, field="files", dir=str(out))
    assert [Path(f["path"]).name for f in again["files"]] == [
        "说明 (2).txt",
        "big (2).bin",
    ]  # never overwritten
    assert sorted(p.name for p in out.iterdir()) == ["big (2).bin", "big.bin", "说明 (2).txt", "说明.txt"]


async def test_bad_uploads_change_nothing(h: Harness, files: Path) -> None:
    if "upload" not in h.caps["attachments"]:
        pytest.skip(f"{h.provider} has no upload API")
    rid = await _record(h)
    (files / "a.txt").write_text("a")
    cases = [
        ({"path": "missing.txt"}, "no such file"),
        ({"path": "../a.txt"}, "'..'"),
        ({"path": "/etc/hostname"}, "outside the allowed folders"),
        ({"path": "a.txt", "field": "title"}, "not an attachment field"),
        ({"path": "a.txt", "record_id": "recNope0000"}, "No record"),
    ]
    for args, expected in cases:
        call = {"table": "docs", "record_id": rid, "field": "files", **args}
        message = await h.fails("upload_attachment", **call)
        assert expected in message, message
    over = files / "huge.bin"
    with over.open("wb") as f:  # sparse: over the provider's limit without using the disk
        f.truncate(h.svc.providers[h.provider].max_attachment_bytes + 1)
    message = await h.fails("upload_attachment", table="docs", record_id=rid, field="files", path="huge.bin")
    assert "the most this takes" in message
    (record,) = await h.all_records("docs")
    assert "files" not in record["fields"]


def _local(h: Harness) -> LocalProvider:
    local = h.svc.providers["local"]
    assert isinstance(local, LocalProvider)
    return local


async def _kept(h: Harness, item: dict[str, Any]) -> bytes | None:
    """The content local still keeps for an attachment item, or None (its file is gone)."""
    try:
        return b"".join([chunk async for chunk in _local(h).files.read(item)])
    except InputError:
        return None


async def _stored_files(h: Harness) -> int:
    """How many files local's file store holds (in its folder, or rows and chunks in its database)."""
    store = _local(h).files
    if isinstance(store, FolderFiles):
        return len([p for p in store.root.rglob("*") if p.is_file()]) if store.root.exists() else 0
    async with _local(h).backend.transaction() as db:
        row = await db.fetchone(
            "SELECT (SELECT count(*) FROM at_files) + (SELECT count(*) FROM at_file_chunks)"
        )
    assert row is not None
    return int(row[0])


def _local_only(h: Harness) -> None:
    if h.provider != "local":
        pytest.skip("only local keeps the files it is sent")


async def test_local_files_are_deleted_with_their_record_and_table(h: Harness, files: Path) -> None:
    _local_only(h)
    rid = await _record(h)
    (files / "a.txt").write_text("a")
    (files / "big.bin").write_bytes(os.urandom(BIG))
    await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    out = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="big.bin")
    small, big = out["attachments"]
    assert await _kept(h, small) == b"a" and await _kept(h, big) == (files / "big.bin").read_bytes()
    await h.call("delete_records", table="docs", record_ids=[rid])
    assert await _kept(h, small) is None and await _kept(h, big) is None
    assert await _stored_files(h) == 0  # the bytes are gone too, not only the names
    if isinstance(_local(h).files, FolderFiles):
        assert not Path(small["url"].removeprefix("file://")).parent.exists()
    rid = (await h.call("create_records", table="docs", records=[{"title": "b"}]))["ids"][0]
    out = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    await h.call("delete_table", table="docs")
    assert await _kept(h, out["attachments"][0]) is None
    assert await _stored_files(h) == 0


async def test_local_files_are_deleted_with_records_deleted_by_where(h: Harness, files: Path) -> None:
    _local_only(h)
    rid = await _record(h)
    keep = (await h.call("create_records", table="docs", records=[{"title": "keep"}]))["ids"][0]
    (files / "a.txt").write_text("a")
    out = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    kept = await h.call("upload_attachment", table="docs", record_id=keep, field="files", path="a.txt")
    assert await _stored_files(h) > 0
    before = await _stored_files(h)
    await h.call("delete_records", table="docs", where={"field": "title", "op": "eq", "value": "合同"})
    assert await _kept(h, out["attachments"][0]) is None
    assert await _kept(h, kept["attachments"][0]) == b"a"
    assert await _stored_files(h) == before // 2


async def test_an_attachment_copied_to_other_records_outlives_the_first(h: Harness, files: Path) -> None:
    """An agent copies a record's attachment value to other records (create and update), then
    deletes the first record: the copies still hold their files, each its own."""
    _local_only(h)
    rid = await _record(h)
    (files / "a.txt").write_text("合同 v1")
    empty = await _stored_files(h)
    out = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    value = out["attachments"]
    one = await _stored_files(h) - empty  # what one small file takes (a file; or a row and a chunk)
    created = (await h.call("create_records", table="docs", records=[{"title": "copy", "files": value}]))[
        "ids"
    ][0]
    other = (await h.call("create_records", table="docs", records=[{"title": "other"}]))["ids"][0]
    await h.call("update_records", table="docs", records=[{"id": other, "fields": {"files": value}}])
    await h.call("update_records", table="docs", records=[{"id": rid, "fields": {"files": value}}])  # its own
    assert await _stored_files(h) == empty + 3 * one  # a file each; writing its own value back copies nothing
    await h.call("create_records", table="docs", records=[{"title": "by filter"}, {"title": "by filter"}])
    where = {"field": "title", "op": "eq", "value": "by filter"}
    await h.call("update_records", where=where, table="docs", set={"files": value})
    assert await _stored_files(h) == empty + 5 * one  # by filter too, a copy for each record
    await h.call("delete_records", table="docs", where=where)
    assert await _stored_files(h) == empty + 3 * one
    await h.call("delete_records", table="docs", record_ids=[rid])
    for record_id in (created, other):
        saved = files / record_id
        saved.mkdir()
        got = await h.call(
            "download_attachments", table="docs", record_id=record_id, field="files", dir=str(saved)
        )
        assert [(f["name"], (saved / f["name"]).read_text()) for f in got["files"]] == [("a.txt", "合同 v1")]
    copies = {r["id"]: r["fields"]["files"][0]["url"] for r in await h.all_records("docs")}
    assert len(set(copies.values())) == 2 and value[0]["url"] not in copies.values()
    await h.call("delete_records", table="docs", record_ids=[created, other])
    assert await _stored_files(h) == empty  # and each went with its own record


async def test_concurrent_uploads_to_one_record_keep_every_file(h: Harness, files: Path) -> None:
    if "upload" not in h.caps["attachments"]:
        pytest.skip(f"{h.provider} has no upload API")
    rid = await _record(h)
    names = [f"f{i}.txt" for i in range(4)]
    for name in names:
        (files / name).write_text(name)

    async def upload(name: str) -> None:
        await h.call("upload_attachment", table="docs", record_id=rid, field="files", path=name)

    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(upload, name)
    (record,) = await h.all_records("docs")
    assert sorted(a["name"] for a in record["fields"]["files"]) == names


async def test_file_systems_without_hard_links_copy_instead(
    h: Harness, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "upload" not in h.caps["attachments"]:
        pytest.skip(f"{h.provider} has no upload API")
    rid = await _record(h)
    (files / "a.txt").write_text("first")

    def no_links(src: object, dst: object, **_: object) -> None:
        raise PermissionError(1, "Operation not permitted")  # what os.link says on FAT or some shares

    monkeypatch.setattr(os, "link", no_links)
    await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    out = files / "out"
    out.mkdir()
    saved = await h.call("download_attachments", table="docs", record_id=rid, field="files", dir=str(out))
    assert [Path(f["path"]).name for f in saved["files"]] == ["a.txt", "a (2).txt"]  # never overwritten
    assert sorted(p.name for p in out.iterdir()) == ["a (2).txt", "a.txt"]  # no temporary file left
    assert (out / "a.txt").read_text() == (out / "a (2).txt").read_text() == "first"


async def test_a_failed_record_update_keeps_no_stored_file(
    h: Harness, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local_only(h)
    rid = await _record(h)
    (files / "a.txt").write_text("a")

    async def refused(*args: object, **kwargs: object) -> None:
        raise ProviderError("the record could not be updated")

    monkeypatch.setattr(h.svc, "update_records", refused)
    message = await h.fails("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    assert "could not be updated" in message
    assert await _stored_files(h) == 0  # the stored copy is gone too


async def test_a_failed_write_keeps_no_copied_file(
    h: Harness, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local_only(h)
    rid = await _record(h)
    (files / "a.txt").write_text("a")
    out = await h.call("upload_attachment", table="docs", record_id=rid, field="files", path="a.txt")
    kept = await _stored_files(h)
    backend = _local(h).backend

    class Refusing:  # the store refuses the insert after the copy was made in the same call
        def __init__(self, db: Any) -> None:
            self.db = db

        def __getattr__(self, name: str) -> Any:
            return getattr(self.db, name)

        async def insert(self, *args: object) -> None:
            raise ProviderError("the store refused the insert")

    real = backend.transaction

    def transaction(write: bool = False) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def wrapped() -> Any:
            async with real(write) as db:
                yield Refusing(db)

        return wrapped()

    monkeypatch.setattr(backend, "transaction", transaction)
    message = await h.fails(
        "create_records", table="docs", records=[{"title": "copy", "files": out["attachments"]}]
    )
    assert "refused the insert" in message
    monkeypatch.undo()
    assert await _stored_files(h) == kept  # the copy went with the failed call
    assert [r["fields"]["title"] for r in await h.all_records("docs")] == ["合同"]
