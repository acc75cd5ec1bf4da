"""import_records on Feishu when the service stops it part-way: the error says which file lines
were imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import ToolFailed, serve
from tests.providers.feishu_harness import APP_TOKEN, Recorder, emulator, env

pytestmark = pytest.mark.anyio


async def test_a_stop_part_way_names_the_file_line(tmp_path: Path) -> None:
    emu = emulator(max_records_per_table=600)
    folder = tmp_path / "files"
    folder.mkdir()
    # line 1 is the header; line 3 is skipped (skip_invalid), so record 500 is line 503
    lines = ["title,n", "r0,0", "bad,x"] + [f"r{i},{i}" for i in range(1, 1000)]
    (folder / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with serve(
        "feishu", env(ANYTABLE_FILE_ROOTS=str(folder)), tmp_path, emulator=emu, base=APP_TOKEN
    ) as h:
        await h.call(
            "create_table",
            name="t",
            fields=[{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        )
        with pytest.raises(ToolFailed) as failed:
            await h.call("import_records", table="t", path="big.csv", skip_invalid=True)
        message = str(failed.value)
        assert "Stopped part-way" in message and "record 500 is line 503" in message, message
        assert len(emu.records(APP_TOKEN, "t")) == 500


async def test_an_import_sends_only_the_requests_it_needs_one_write_at_a_time(tmp_path: Path) -> None:
    emu = emulator(write_time=0.005)  # a write overlapping another on its table would get 1254291
    recorder = Recorder(emu)
    folder = tmp_path / "files"
    folder.mkdir()
    rows = [f"r{i},{i},{('a', 'b;c', '')[i % 3]}" for i in range(1200)]
    (folder / "rows.csv").write_text("\n".join(["title,n,tags", *rows]) + "\n", encoding="utf-8")
    async with serve(
        "feishu",
        env(ANYTABLE_FILE_ROOTS=str(folder)),
        tmp_path,
        emulator=recorder,
        base=APP_TOKEN,  # type: ignore[arg-type]
    ) as h:
        await h.call(
            "create_table",
            name="t",
            fields=[
                {"name": "title", "type": "text"},
                {"name": "n", "type": "number"},
                {"name": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
            ],
        )
        before = len(recorder.exchanges)
        out = await h.call("import_records", table="t", path="rows.csv")
    assert out["created"] == 1200 and out["failed"] == []
    sent = recorder.exchanges[before:]
    kinds = sorted({(e.method, e.path.rsplit("/", 1)[-1]) for e in sent})
    # the table (by name), its fields and views, then the writes: no other read, no record search
    assert kinds == [("GET", "fields"), ("GET", "tables"), ("GET", "views"), ("POST", "batch_create")]
    assert sum(1 for e in sent if e.method == "GET") == 3
    writes = [e for e in sent if e.path.endswith("batch_create")]
    assert [len(e.body["records"]) for e in writes] == [500, 500, 200]
    assert [r["fields"]["title"] for e in writes for r in e.body["records"]] == [f"r{i}" for i in range(1200)]
    assert all(e.code == 0 for e in writes) and max(recorder.most_in_flight.values()) == 1
    stored = sorted(emu.records(APP_TOKEN, "t"), key=lambda r: r["fields"]["n"])
    assert [r["fields"].get("tags") for r in stored[:3]] == [["a"], ["b", "c"], None]


async def test_a_missing_table_is_named_before_a_bad_file(tmp_path: Path) -> None:
    emu = emulator()
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "empty.csv").write_text("", encoding="utf-8")
    async with serve(
        "feishu", env(ANYTABLE_FILE_ROOTS=str(folder)), tmp_path, emulator=emu, base=APP_TOKEN
    ) as h:
        with pytest.raises(ToolFailed) as failed:
            await h.call("import_records", table="nope", path="empty.csv")
        assert "No table 'nope'" in str(failed.value), str(failed.value)
        with pytest.raises(ToolFailed) as failed:
            await h.call("import_records", table="Sheet1", path="empty.csv")
        assert "empty.csv is empty" in str(failed.value) and "Nothing was written" in str(failed.value)
    assert emu.records(APP_TOKEN, "Sheet1") == []
