"""Attachment files of local on PostgreSQL, kept in the database: every server on the store sees
them, an interrupted upload leaves nothing, a 25 MB file never sits whole in memory, the item's url
names no database or password, an older store gains the file tables, and only files kept by the
store are ever read (on SQLite too)."""

from __future__ import annotations

import os
import sqlite3
import tracemalloc
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import anyio
import pytest

from anytable.config import Settings
from anytable.errors import InputError
from anytable.providers.local.backend import store_backend
from anytable.providers.local.dbfiles import URL, DatabaseFiles
from anytable.providers.local.provider import LocalProvider
from anytable.schemas.fields import FieldSpec, FieldType
from tests.harness import Harness, serve
from tests.pg import fresh_store, server_url

pytestmark = pytest.mark.anyio
BIG = 25 * 1024 * 1024
FIELDS = [{"name": "title", "type": "text"}, {"name": "files", "type": "attachment"}]


async def _record(h: Harness, title: str = "合同") -> str:
    return str((await h.call("create_records", table="docs", records=[{"title": title}]))["ids"][0])


async def _count(provider: LocalProvider, table: str) -> int:
    async with provider.backend.transaction() as db:
        row = await db.fetchone(f"SELECT count(*) FROM {table}")
    assert row is not None
    return int(row[0])


def _roots(h: Harness, folder: Path) -> None:
    h.svc.settings = h.svc.settings.model_copy(update={"file_roots": str(folder)})


async def test_a_file_uploaded_through_one_server_is_seen_and_deleted_through_another(tmp_path: Path) -> None:
    files = tmp_path / "files"
    (files / "out").mkdir(parents=True)
    content = os.urandom(3 * 1024 * 1024 + 17)  # three chunks and a bit
    (files / "报告.pdf").write_bytes(content)
    (files / "empty.txt").write_bytes(b"")
    async with (
        fresh_store() as url,
        serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path / "a", base="b") as a,
        serve("local", {"ANYTABLE_LOCAL_URL": url}, tmp_path / "b", base="b") as b,
    ):
        _roots(a, files)
        _roots(b, files)
        await a.call("create_table", name="docs", fields=FIELDS)
        rid = await _record(a)
        out = await a.call("upload_attachment", table="docs", record_id=rid, field="files", path="报告.pdf")
        (item,) = out["attachments"]
        assert (
            item["name"] == "报告.pdf" and item["size"] == len(content) and item["type"] == "application/pdf"
        )
        assert item["url"].startswith(URL)
        password = "anytable-test-pw"
        assert password in server_url()
        assert (
            password not in item["url"] and "127.0.0.1" not in item["url"] and "postgresql" not in item["url"]
        )
        await a.call("upload_attachment", table="docs", record_id=rid, field="files", path="empty.txt")

        saved = await b.call("download_attachments", table="docs", record_id=rid, field="files", dir="out")
        assert saved["files"] == [
            {"name": "报告.pdf", "path": str(files / "out" / "报告.pdf"), "size": len(content)},
            {"name": "empty.txt", "path": str(files / "out" / "empty.txt"), "size": 0},
        ]
        assert (files / "out" / "报告.pdf").read_bytes() == content
        assert (files / "out" / "empty.txt").read_bytes() == b""

        await b.call("delete_records", table="docs", record_ids=[rid])
        local = a.svc.providers["local"]
        assert isinstance(local, LocalProvider)
        assert await _count(local, "at_files") == await _count(local, "at_file_chunks") == 0
        assert not [p for p in tmp_path.rglob("*.files")]  # no folder beside anything: all in the database


async def test_an_interrupted_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(5 * 1024 * 1024))
    async with fresh_store() as url:
        provider = LocalProvider(store_backend(Settings.from_env({"ANYTABLE_LOCAL_URL": url})))
        try:
            assert isinstance(provider.files, DatabaseFiles)
            info = await provider.create_table(
                "b", "docs", [FieldSpec(name="files", type=FieldType.attachment)]
            )

            async def broken(n: int) -> None:
                if n > 2 * 1024 * 1024:  # the client went away after two chunks
                    raise ConnectionResetError("client gone")

            with pytest.raises(ConnectionResetError):
                await provider.files.store("b", info.id, "rec1", source, broken)
            assert await _count(provider, "at_files") == await _count(provider, "at_file_chunks") == 0

            with anyio.CancelScope() as scope:  # the call is cancelled (its deadline passed) mid-upload

                async def cancelled(n: int) -> None:
                    if n > 2 * 1024 * 1024:
                        scope.cancel()
                        await anyio.sleep(1)

                await provider.files.store("b", info.id, "rec1", source, cancelled)
            assert scope.cancelled_caught
            assert await _count(provider, "at_files") == await _count(provider, "at_file_chunks") == 0
        finally:
            await provider.aclose()


async def test_a_25_mb_file_goes_in_and_out_a_chunk_at_a_time(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(BIG))
    async with fresh_store() as url:
        provider = LocalProvider(store_backend(Settings.from_env({"ANYTABLE_LOCAL_URL": url})))
        try:
            info = await provider.create_table(
                "b", "docs", [FieldSpec(name="files", type=FieldType.attachment)]
            )
            reported: list[int] = []

            async def sent(n: int) -> None:
                reported.append(n)

            tracemalloc.start()
            try:
                item = await provider.files.store("b", info.id, "rec1", source, sent)
                _, stored_peak = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                size, parts = 0, 0
                async for chunk in provider.files.read(item):
                    size += len(chunk)
                    parts += 1
                _, read_peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert size == BIG and parts == 25
            assert reported == [(i + 1) * 1024 * 1024 for i in range(25)]  # progress per chunk
            # Neither way is the file (25 MB) held whole: a few 1 MB chunks at most.
            assert stored_peak < 8 * 1024 * 1024, stored_peak
            assert read_peak < 8 * 1024 * 1024, read_peak
            assert b"".join([c async for c in provider.files.read(item)]) == source.read_bytes()
        finally:
            await provider.aclose()


async def test_an_older_postgresql_store_gains_the_file_tables(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("kept")
    async with fresh_store() as url:
        settings = Settings.from_env({"ANYTABLE_LOCAL_URL": url})
        old = LocalProvider(store_backend(settings))
        try:
            info = await old.create_table("b", "docs", [FieldSpec(name="files", type=FieldType.attachment)])
            async with old.backend.transaction(write=True) as db:  # the store as version 2 left it
                await db.execute("DROP TABLE at_file_chunks")
                await db.execute("DROP TABLE at_files")
                await db.execute("UPDATE at_meta SET value = '2' WHERE key = 'store_version'")
        finally:
            await old.aclose()
        new = LocalProvider(store_backend(settings))
        try:

            async def sent(n: int) -> None:
                return None

            item = await new.files.store("b", info.id, "rec1", source, sent)
            assert b"".join([c async for c in new.files.read(item)]) == b"kept"
            assert "store version 3" in await new.check()
        finally:
            await new.aclose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_only_files_kept_by_the_store_are_read(kind: str, tmp_path: Path) -> None:
    """An attachment written by hand (a path elsewhere, an id that was never stored) is refused,
    and nothing is written into the folder."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the agent")
    files = tmp_path / "files"
    files.mkdir()
    env: dict[str, str] = {}
    async with fresh_store() if kind == "postgres" else nullcontext("") as url:
        if url:
            env["ANYTABLE_LOCAL_URL"] = url
        async with serve("local", env, tmp_path, base="b") as h:
            _roots(h, files)
            await h.call("create_table", name="docs", fields=FIELDS)
            rid = await _record(h)
            cases: list[tuple[dict[str, Any], str]] = [
                ({"name": "secret.txt", "url": secret.as_uri()}, "not a file kept by local"),
                ({"name": "x.txt", "url": "https://example.com/x.txt"}, "not a file kept by local"),
                ({"name": "gone.txt", "url": URL + "fil" + "0" * 24}, "no longer keeps its file"),
            ]
            for item, expected in cases:
                await h.call(
                    "update_records", table="docs", records=[{"id": rid, "fields": {"files": [item]}}]
                )
                message = await h.fails(
                    "download_attachments", table="docs", record_id=rid, field="files", dir="."
                )
                if kind == "sqlite" and item["url"].startswith(URL):
                    expected = "not a file kept by local"  # SQLite keeps files in its folder only
                assert expected in message, message
                assert "not for the agent" not in message
                assert list(files.iterdir()) == []


async def test_the_file_tables_are_made_on_sqlite_too(tmp_path: Path) -> None:
    """One list of migrations for both databases: the store version means the same tables."""
    provider = LocalProvider(tmp_path / "s.sqlite")
    try:
        await provider.list_tables("b")
    finally:
        await provider.aclose()
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"at_files", "at_file_chunks"} <= names
    with pytest.raises(InputError):
        DatabaseFiles.file_id({"name": "x", "url": "file:///etc/passwd"})
