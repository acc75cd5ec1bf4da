"""import_records on Feishu when the service stops it part-way: the error says which file lines
were imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import ToolFailed, serve
from tests.providers.feishu_harness import APP_TOKEN, emulator, env

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
