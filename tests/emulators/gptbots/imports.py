"""GPTBots emulator: the asynchronous import (tasks processed in chunks of 10 rows)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from .state import CHUNK_ROWS, ImportTask, Table
from .values import _num

if TYPE_CHECKING:
    pass


class ImportsMixin:
    """GPTBots emulator: the asynchronous import (tasks processed in chunks of 10 rows) (a part of :class:`GPTBotsEmulator`)."""

    # ------------------------------------------------------------------ imports

    def _advance(self, now: float) -> None:
        for table_id in list(self._busy):
            table = self._busy[table_id]
            while table.queue:
                task = table.queue[0]
                if task.start is None:
                    task.start = task.created
                end = task.start + task.duration
                if now >= end:
                    due = task.total
                elif now <= task.start or task.duration <= 0:
                    due = 0
                else:
                    due = int((now - task.start) / task.duration * task.total) // CHUNK_ROWS * CHUNK_ROWS
                while task.processed < due:
                    self._process_chunk(table, task)
                if task.processed < task.total:
                    break
                task.done = True
                table.queue.popleft()
                if table.queue:
                    nxt = table.queue[0]
                    nxt.start = max(nxt.created, end)
            if not table.queue:
                del self._busy[table_id]

    def _process_chunk(self, table: Table, task: ImportTask) -> None:
        start = task.processed
        chunk = task.rows[start : start + CHUNK_ROWS]
        seen: dict[str, set[Any]] = {name: set() for name in table.index}
        good: list[dict[str, Any]] = []
        first_fail: tuple[int, str] | None = None
        bad = 0
        for offset, row in enumerate(chunk):
            value, reason = self._prepare_row(table, row, seen)
            if value is None:
                bad += 1
                if first_fail is None:
                    first_fail = (start + offset + 1, reason)
                if self.import_discard == "chunk":
                    break
                continue
            for name in seen:
                if name in value:
                    seen[name].add(value[name])
            good.append(value)
        if first_fail is not None and self.import_discard == "chunk":
            good, bad = [], len(chunk)
        for value in good:
            self._insert(table, value)
        task.success_count += len(good)
        task.fail_count += bad
        if first_fail is not None:
            task.fail_detail.append(
                {
                    "row": first_fail[0] if self.fail_rows_named else None,
                    "row_number_start": start + 1,
                    "row_number_end": start + len(chunk),
                    "fail_reason": first_fail[1],
                }
            )
        task.processed = start + len(chunk)

    def _render_task(self, task: ImportTask) -> dict[str, Any]:
        if task.done:
            status = "SUCCESS" if task.fail_count == 0 else "FAIL"
            if status == "FAIL" and self.failed_task_progress == "success_ratio":
                progress = _num(task.success_count / task.total)
            else:
                progress = 1
        else:
            started = task.start is not None and self.clock.now() > task.start
            status = "PROCESSING" if task.processed or started else "PENDING"
            progress = _num(task.processed / task.total)
        return {
            "id": task.id,
            "progress": progress,
            "status": status,
            "total_count": task.total,
            "success_count": task.success_count,
            "fail_count": task.fail_count,
            "fail_detail": [dict(d) for d in task.fail_detail],
        }

    @staticmethod
    def _csv_size(table: Table, rows: list[dict[str, Any]]) -> int:
        columns = [f.name for f in table.fields]
        known = set(columns)
        for row in rows:
            for key in row:
                if key not in known:
                    known.add(key)
                    columns.append(key)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)

        def cell(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, bool):
                return "true" if v else "false"
            return str(v)

        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
        return len(buf.getvalue().encode("utf-8"))
