"""Creating records with GPTBots' asynchronous import, so the caller knows exactly which are stored.

``POST /v1/database/import/records`` takes at most 1,000 rows and 10 MB of CSV, and answers with
a task id; ``GET /v1/database/query/import-results`` tells how the task went. GPTBots processes
rows in groups of 10 and reports, per failed group, the first failure (``fail_detail``: a
``row`` number and/or a ``row_number_start``..``row_number_end`` range, 1-based, in the order of
``records``). A group that fails is discarded whole.

What this module does with an import:

1. Splits the rows by both caps (the CSV size is measured as GPTBots describes the conversion:
   one column per field of the table, a header line).
2. Follows each task to its end: polls sooner or later depending on the progress it reports,
   treats unknown status words by ``progress``/counts, gives up (saying so) after ``poll_timeout``.
3. Reads the outcome: the rows a failure names are refused, with GPTBots' reason; the other rows
   of a failed group were discarded only because they shared the group, so they are sent again
   (a group with no named row is split in halves until the bad row is alone). When the counts do
   not add up (a service that keeps a group's good rows, or gives no detail), the rows in doubt are
   looked up by their unique value, or counted, before anything is sent again.
4. A lost answer (timeout, dropped connection) is never answered by sending blindly: with a
   unique field GPTBots itself refuses a second copy, so the import is sent again and rows it
   refuses as duplicates are checked to be ours; without one, the table is watched until the
   records appear (count, then every value) and nothing is sent again.

Doubtful points, chosen from the documents: the record shape ``{"values": {...}}`` (EN/zh/es/ja
pages; the de_DE copy shows flat records: if GPTBots refuses the wrapper as a field named
``values``, flat records are sent instead, once nothing was stored); status words beyond ``FAIL``
are undocumented (PENDING/PROCESSING/SUCCESS... are recognised, anything else is judged by
``progress`` and the counts).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import anyio

from anytable.errors import ProviderError
from anytable.providers.batching import chunked
from anytable.providers.gptbots.api import MAX_IMPORT_CSV_BYTES, MAX_IMPORT_ROWS, GPTBotsApi
from anytable.providers.gptbots.errors import PARAM_ERROR, PROVIDER
from anytable.providers.gptbots.pages import count, scan
from anytable.providers.gptbots.uniques import UniqueIndex
from anytable.providers.gptbots.values import from_native, unique_key
from anytable.providers.http import NOT_APPLIED
from anytable.schemas.fields import FieldInfo, TableSchema

log = logging.getLogger("anytable.gptbots")

GROUP = 10  # GPTBots processes imported rows in groups of 10
CSV_BUDGET = MAX_IMPORT_CSV_BYTES * 9 // 10  # room for another CSV rendering than ours
UNSEEN_TIMEOUT = 60.0  # seconds a task may stay missing from import-results before we stop asking
MAX_FIRST_WAIT = 30.0  # seconds before the first poll of a task, at most
LOOK_FIRST_ROWS = 20  # after a lost import answer, rows looked up one by one before sending again
MAX_ROUNDS = 6  # first send + re-sends of discarded rows (10 -> 5 -> 3 -> 2 -> 1 isolates a bad row)

RUNNING = {
    "PENDING", "PROCESSING", "RUNNING", "QUEUED", "QUEUING", "WAITING", "IN_PROGRESS", "INPROGRESS",
    "INIT", "INITIAL", "CREATED", "IMPORTING", "STARTED", "SUBMITTED", "EXECUTING", "DOING", "NEW",
}  # fmt: skip
SUCCEEDED = {
    "SUCCESS",
    "SUCCEEDED",
    "SUCCESSFUL",
    "COMPLETED",
    "COMPLETE",
    "DONE",
    "FINISHED",
    "FINISH",
    "OK",
}
FAILED = {
    "FAIL",
    "FAILED",
    "FAILURE",
    "ERROR",
    "PARTIAL",
    "PARTIAL_SUCCESS",
    "PARTIAL_FAIL",
    "PARTIALLY_FAILED",
}

Outcome = dict[
    int, tuple[str, str]
]  # position -> ("failed" | "discarded" | "unknown", reason); absent: stored


@dataclass
class Task:
    id: str
    status: str
    progress: float | None
    total: int | None
    success: int | None
    fail: int | None
    detail: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        if self.status in RUNNING:
            return False
        if self.status in SUCCEEDED or self.status in FAILED:
            return True
        if self.total is not None and self.success is not None and self.fail is not None:
            return self.success + self.fail >= self.total
        return self.progress is not None and self.progress >= 1


@dataclass
class Landed:
    """What ``reconcile`` found after a lost answer: every row of the import is in the table."""

    rows: int


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_task(item: dict[str, Any], task_id: str) -> Task:
    progress: float | None
    try:
        progress = float(item["progress"]) if item.get("progress") is not None else None
    except (TypeError, ValueError):
        progress = None
    if progress is not None and progress > 1:
        progress /= 100  # a percentage
    detail = item.get("fail_detail") or item.get("fail_details") or []
    return Task(
        id=str(item.get("id") or item.get("task_id") or task_id),
        status=str(item.get("status") or "").strip().upper(),
        progress=progress,
        total=_int(item.get("total_count")),
        success=_int(item.get("success_count")),
        fail=_int(item.get("fail_count")),
        detail=[d for d in detail if isinstance(d, dict)] if isinstance(detail, list) else [],
    )


def interpret(task: Task, n: int) -> Outcome:
    """Which of the ``n`` rows a finished task did not store, and why (see the module docstring)."""
    if (
        task.status in SUCCEEDED
        and not task.detail
        and not task.fail
        and (task.success is None or task.success >= n)
    ):
        return {}
    bad: dict[int, str] = {}
    grouped: dict[int, str] = {}
    unnamed: set[int] = set()  # rows of a failed group whose bad row GPTBots did not name
    for item in task.detail:
        reason = str(
            item.get("fail_reason") or item.get("reason") or item.get("message") or "no reason given"
        )
        row = _int(item.get("row"))
        start, end = _int(item.get("row_number_start")), _int(item.get("row_number_end"))
        if start is not None and end is not None and 1 <= start <= end:
            if row is None and start == end:
                row = start  # a group of one: that row is the bad one
            named = row is not None and start <= row <= end
            for number in range(start, min(end, n) + 1):
                if number != row:
                    grouped.setdefault(number - 1, reason)
                    if not named:
                        unnamed.add(number - 1)
        if row is not None and 1 <= row <= n:
            bad[row - 1] = reason
    for j in bad:
        grouped.pop(j, None)
        unnamed.discard(j)
    out: Outcome = {j: ("failed", reason) for j, reason in bad.items()}
    stored_if_exact = n - len(bad) - len(grouped)
    group_note = "GPTBots discarded it with its group of 10 records, in which a record failed: {}"
    if task.success is not None and task.success == stored_if_exact:
        for j, reason in grouped.items():
            out[j] = ("isolate", reason) if j in unnamed else ("discarded", group_note.format(reason))
        return out
    if task.success is not None and task.success > stored_if_exact:  # a group's good rows were kept
        for j, reason in grouped.items():
            out[j] = ("unknown", group_note.format(reason))
        return out
    # Fewer stored than the detail explains, or no counts: every row not refused by name is in doubt.
    if task.status in SUCCEEDED and task.success is None and not task.detail:
        return {}
    doubt = "GPTBots did not say whether it was stored (task status {}, {} of {} stored)".format(
        task.status or "unknown", "?" if task.success is None else task.success, n
    )
    for j in range(n):
        if j not in out:
            out[j] = ("unknown", group_note.format(grouped[j]) if j in grouped else doubt)
    return out


def csv_header_size(table: TableSchema) -> int:
    return _csv_line([f.name for f in table.fields])


def csv_row_size(table: TableSchema, row: dict[str, Any]) -> int:
    """Bytes of ``row`` in the CSV GPTBots converts an import to (one column per field)."""
    return _csv_line([_cell(row.get(f.name)) for f in table.fields])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_line(cells: list[str]) -> int:
    buf = io.StringIO()
    csv.writer(buf).writerow(cells)
    return len(buf.getvalue().encode("utf-8"))


class _FollowFailed(Exception):
    """Asking GPTBots how an accepted import went failed (``error``)."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


def _cause(exc: ProviderError) -> str:
    """A short cause, without the advice a message carries ("call again" would be wrong here)."""
    what = {"throttle": "throttled", "auth": "access refused", "transient": "unavailable"}.get(
        exc.kind, "error"
    )
    return f"GPTBots {what}" + (f", code {exc.code}" if exc.code not in (None, "") else "")


def _lost(message: str) -> ProviderError:
    return ProviderError(message, kind="unknown_outcome", provider=PROVIDER)


class Importer:
    def __init__(
        self,
        api: GPTBotsApi,
        uniques: UniqueIndex,
        tz: tzinfo,
        *,
        poll_timeout: float = 600.0,
        lost_grace: float = 60.0,
        max_poll_delay: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.api = api
        self.uniques = uniques
        self.tz = tz
        self.poll_timeout = poll_timeout
        self.lost_grace = lost_grace
        self.max_poll_delay = max_poll_delay
        self.sleep = sleep
        self.shape = "values"  # {"values": {...}} per record; "flat" once GPTBots refuses it
        self.imports = 0
        self.polls = 0
        self.seconds_per_row: float | None = None  # how fast GPTBots imported, as last seen

    # ------------------------------------------------------------------------- the whole import
    async def run(self, table: TableSchema, rows: list[dict[str, Any]]) -> dict[int, str]:
        """Import ``rows`` (native values, already checked); why each row NOT stored was not."""
        failed: dict[int, str] = {}
        header = csv_header_size(table)
        sizes = [csv_row_size(table, row) for row in rows]
        normal = list(range(len(rows)))  # rows to send together
        apart: list[list[int]] = []  # groups to send on their own (their bad row is not named)
        last_reason: dict[int, str] = {}
        for round_no in range(MAX_ROUNDS):
            sends = [
                part
                for part in chunked(normal, MAX_IMPORT_ROWS, CSV_BUDGET - header, size_of=lambda i: sizes[i])
                if part
            ] + [group for group in apart if group]
            if not sends:
                break
            normal, apart = [], []
            for positions in sends:
                outcome = await self._send(table, [rows[i] for i in positions])
                isolate: dict[int, list[int]] = {}  # by the group of 10 they were sent in
                for j, (state, reason) in sorted(outcome.items()):
                    pos = positions[j]
                    last_reason[pos] = reason
                    if state == "failed":
                        failed[pos] = reason
                    elif state == "isolate":
                        isolate.setdefault(j // GROUP, []).append(pos)
                    else:
                        normal.append(pos)
                for group in isolate.values():
                    if len(group) == 1:  # alone in its group: it is the bad row
                        failed[group[0]] = last_reason[group[0]]
                    else:  # send each half on its own until the bad row is named or alone
                        half = (len(group) + 1) // 2
                        apart.extend([group[:half], group[half:]])
            log.debug("import round %d: %d to resend, %d groups apart", round_no, len(normal), len(apart))
        for pos in normal + [p for group in apart for p in group]:
            failed[pos] = (
                f"{last_reason.get(pos, 'GPTBots discarded it')}; it was not stored: create it again"
            )
        return failed

    # ------------------------------------------------------------------------- one import call
    async def _send(self, table: TableSchema, rows: list[dict[str, Any]]) -> Outcome:
        """Import ``rows`` in one call and follow it; the rows not stored, by position in ``rows``."""
        uniques = [f for f in table.fields if f.unique]
        before = None if uniques else await count(self.api, table.id)
        resent = False

        async def reconcile() -> Any:
            nonlocal resent
            if uniques:  # look first: the rows may all be stored already
                if await self._all_held(table, rows, uniques[0]):
                    log.info("import answer lost; all %d records are in the table", len(rows))
                    return Landed(len(rows))
                # GPTBots refuses a second copy of a unique value: sending again is safe
                resent = True
                log.info("import answer lost; sending again (table has unique fields)")
                return NOT_APPLIED
            return await self._landed(table, rows, before)

        shape = self.shape
        submitted = time.monotonic()
        try:
            answer = await self.api.import_records(table.id, [self._record(r) for r in rows], reconcile)
        except ProviderError as exc:
            if (
                exc.code == PARAM_ERROR
                and len(rows) > 1
                and _mentions(exc, r"\bcsv\b", r"\bmb\b", r"\bsize\b", "exceed", "too large")
            ):
                half = (len(rows) + 1) // 2
                first = await self._send(table, rows[:half])
                second = await self._send(table, rows[half:])
                return {**first, **{half + j: v for j, v in second.items()}}
            if exc.code == PARAM_ERROR and shape == "values" and _mentions(exc, r"\bvalues\b"):
                self.shape = "flat"
                return await self._send(table, rows)
            raise
        self.imports += 1
        if isinstance(answer, Landed):
            return {}
        try:
            task = await self._follow(str(answer), len(rows), submitted, time.monotonic() - submitted)
        except _FollowFailed as failed:
            # GPTBots took the import but following it failed: the rows may be stored, or be stored
            # soon. Find out before anything is said or sent again.
            return await self._unfollowed(table, rows, before, str(answer), failed.error)
        outcome = interpret(task, len(rows))
        if (
            shape == "values"
            and outcome
            and len(outcome) == len(rows)
            and not task.success
            and any("values" in reason.lower() for _, reason in outcome.values())
        ):
            log.warning("GPTBots refused records wrapped in 'values'; sending flat records")
            self.shape = "flat"
            return await self._send(table, rows)
        if resent:  # rows refused now may be the lost first copy's: check them
            outcome = {j: ("unknown", reason) for j, (_, reason) in outcome.items()}
        doubtful = {j for j, (state, _) in outcome.items() if state == "unknown"}
        if doubtful:
            outcome = await self._settle(table, rows, outcome, doubtful, before)
        stored = [row for j, row in enumerate(rows) if j not in outcome]
        self.uniques.stored(table, stored)
        return outcome

    async def _unfollowed(
        self,
        table: TableSchema,
        rows: list[dict[str, Any]],
        before: int | None,
        task_id: str,
        exc: ProviderError,
    ) -> Outcome:
        """An accepted import whose task could not be followed: what it stored, read from the table."""
        why = f"GPTBots took the import (task {task_id}) but asking how it went failed ({_cause(exc)})"
        try:
            if any(f.unique for f in table.fields):
                doubt: Outcome = {j: ("unknown", why) for j in range(len(rows))}
                outcome = await self._settle(table, rows, doubt, set(doubt), before)
                self.uniques.stored(table, [row for j, row in enumerate(rows) if j not in outcome])
                return outcome
            await self._landed(table, rows, before)
            return {}
        except ProviderError as failed:
            raise _lost(
                f"{why}, and checking the table failed too ({_cause(failed)}). The {len(rows)} records may or "
                "may not be stored: check with query_records before creating them again."
            ) from None

    async def _all_held(self, table: TableSchema, rows: list[dict[str, Any]], key_field: FieldInfo) -> bool:
        """Every row is in the table, value for value (looked up by its unique value; a few rows
        only: for many, sending again and checking what GPTBots refuses costs less)."""
        if len(rows) > LOOK_FIRST_ROWS:
            return False
        try:
            for row in rows:
                record = await self.uniques.holder(
                    table, key_field, unique_key(key_field, row.get(key_field.name))
                )
                if record is None or not self._same(table, row, record.get("value") or {}):
                    return False
        except ProviderError:
            return False  # cannot tell: sending again is still safe
        return True

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"values": row} if self.shape == "values" else dict(row)

    async def _follow(self, task_id: str, n: int, submitted: float, rtt: float) -> Task:
        """Poll the task until it is done; the finished task.

        ``rtt``: how long the import request took to answer (the task's age at a poll is about the
        time since it was sent, less that). The first poll waits about as long as GPTBots took per
        row last time (its speed is learnt from the progress it reports); later polls wait about
        as long again as the progress says is left.
        """
        delay = 0.05
        if self.seconds_per_row:
            first = min(n * self.seconds_per_row, MAX_FIRST_WAIT) - (time.monotonic() - submitted - rtt)
            if first > 0:
                await self.sleep(first)
        while True:
            self.polls += 1
            try:
                items = await self.api.import_results([task_id])
            except ProviderError as exc:
                raise _FollowFailed(exc) from None
            item = next((t for t in items if str(t.get("id") or t.get("task_id") or "") == task_id), None)
            if item is None and len(items) == 1:
                item = items[0]
            elapsed = time.monotonic() - submitted
            age = max(elapsed - rtt, 0.001)
            if item is not None:
                task = read_task(item, task_id)
                if task.final:
                    if self.seconds_per_row is None:
                        self.seconds_per_row = age / n  # at most this long
                    return task
                if task.progress and 0 < task.progress < 1:  # about as long again as it took so far
                    total = age / task.progress
                    self.seconds_per_row = total / n
                    delay = total - age
                else:
                    delay = delay * 2
            else:
                delay = delay * 2
            if item is None and elapsed > min(UNSEEN_TIMEOUT, self.poll_timeout):
                raise _lost(
                    f"GPTBots took the import of {n} records (task {task_id}) but has not listed the task in "
                    f"{elapsed:.0f}s. Check with query_records whether they are in the table before creating "
                    "them again."
                )
            if item is not None and elapsed > self.poll_timeout:
                raise _lost(
                    f"GPTBots is still importing {n} records (task {task_id}, status {task.status or '?'}, "
                    f"progress {task.progress}) after {elapsed:.0f}s. They will be in the table when it "
                    "finishes: check with query_records later, and do not create them again."
                )
            await self.sleep(min(max(delay, 0.02), self.max_poll_delay))

    # ------------------------------------------------------------------------- rows in doubt
    async def _settle(
        self,
        table: TableSchema,
        rows: list[dict[str, Any]],
        outcome: Outcome,
        doubtful: set[int],
        before: int | None,
    ) -> Outcome:
        """Decide the rows in doubt: stored (dropped from the outcome), refused, or discarded."""
        uniques = [f for f in table.fields if f.unique]
        out = dict(outcome)
        if uniques:
            key_field = uniques[0]
            limiter = anyio.CapacityLimiter(8)

            async def check(j: int) -> None:
                value = rows[j].get(key_field.name)
                async with limiter:
                    record = await self.uniques.holder(table, key_field, unique_key(key_field, value))
                _, reason = outcome[j]
                if record is None:
                    out[j] = ("discarded", reason)
                elif self._same(table, rows[j], record.get("value") or {}):
                    out.pop(j, None)  # it is in the table, as written
                else:
                    out[j] = (
                        "failed",
                        f"unique field {key_field.name!r}: {value!r} is already in the table (record "
                        f"{record.get('id')}); GPTBots said: {reason}",
                    )

            async with anyio.create_task_group() as tg:
                for j in doubtful:
                    tg.start_soon(check, j)
            return out
        after = await count(self.api, table.id)
        refused = len([j for j, (state, _) in outcome.items() if state != "unknown"])
        if before is not None and after is not None:
            added = after - before
            if added == len(rows) - refused:
                for j in doubtful:
                    out.pop(j, None)
                return out
            if added == len(rows) - refused - len(doubtful):
                for j in doubtful:
                    out[j] = ("failed", f"{outcome[j][1]}; it was not stored: create it again")
                return out
        for j in doubtful:
            out[j] = (
                "failed",
                f"{outcome[j][1]}; the table has no unique field to tell whether it was stored: check with "
                "query_records before creating it again",
            )
        return out

    async def _landed(self, table: TableSchema, rows: list[dict[str, Any]], before: int | None) -> Landed:
        """After a lost answer to an import into a table with no unique field: wait for the rows.

        Never sends again (a second copy could not be told apart). The rows are taken as stored
        once the table grew by their number and holds every one of them, value for value.
        """
        n = len(rows)
        if before is None:
            raise _lost(
                f"GPTBots took the import of {n} records but its answer was lost, and it does not say how many "
                "records the table holds: check with query_records before creating them again."
            )
        deadline = time.monotonic() + self.lost_grace
        delay = 0.1
        added = 0
        while True:
            now = await count(self.api, table.id)
            added = (now or before) - before
            if added >= n:
                if await self._all_present(table, rows):
                    log.info("import answer lost; all %d records are in the table", n)
                    return Landed(n)
                break
            if time.monotonic() > deadline:
                break
            await self.sleep(delay)
            delay = min(delay * 2, self.max_poll_delay)
        raise _lost(
            f"GPTBots took the import of {n} records but its answer was lost; {max(added, 0)} records have "
            "appeared in the table since, and it has no unique field to tell which. Check with query_records "
            "before creating any of them again."
        )

    async def _all_present(self, table: TableSchema, rows: list[dict[str, Any]]) -> bool:
        wanted = Counter(self._key(table, row) for row in rows)
        have: Counter[tuple[Any, ...]] = Counter()
        async for records in scan(self.api, table.id):
            have.update(self._key(table, r.get("value") or {}) for r in records)
        return all(have[key] >= number for key, number in wanted.items())

    def _key(self, table: TableSchema, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self._canonical(f, values.get(f.name)) for f in table.fields)

    def _canonical(self, field: FieldInfo, value: Any) -> Any:
        canonical = from_native(field, value, self.tz)
        if field.native_type == "BOOLEAN" and canonical is None:
            return False
        return canonical

    def _same(self, table: TableSchema, row: dict[str, Any], stored: dict[str, Any]) -> bool:
        return all(
            self._canonical(f, row.get(f.name)) == self._canonical(f, stored.get(f.name))
            for f in table.fields
            if f.name in row
        )


def _mentions(exc: ProviderError, *patterns: str) -> bool:
    text = exc.message.lower()
    return any(re.search(pattern, text) for pattern in patterns)
