"""The one batch loop every write goes through (create, update, delete by id, by ``where``, upserts).

Batches within the provider's limits, one at a time under the table's write lock where the provider
asks for one (``limits.serialize_writes``; a provider whose client locks itself does not), progress
after each, and a failure part-way that says exactly what was stored, so that nothing is lost or
done twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

import anyio

from anytable.bulk import settled
from anytable.core.addressing import Address
from anytable.core.progress import Progress
from anytable.errors import AnytableError, PartialWriteError, ProviderError
from anytable.providers.base import CreateResult
from anytable.providers.batching import chunked
from anytable.schemas.fields import TableSchema

T = TypeVar("T")
R = TypeVar("R")
MAX_IDS_IN_MESSAGE = 20
PAST = {"create": "created", "update": "updated", "delete": "deleted"}

log = logging.getLogger("anytable.batches")


class Outcome:
    """What a run of batches did: how many items went through, and for creates their ids."""

    def __init__(self) -> None:
        self.done = 0
        self.ids: list[str | None] = []
        self.failed: list[dict[str, Any]] = []


class BatchLoop:
    def __init__(self) -> None:
        self._locks: dict[tuple[str, str, str], anyio.Lock] = {}

    async def run(
        self,
        addr: Address,
        schema: TableSchema,
        verb: str,
        items: Sequence[T],
        send: Callable[[list[T]], Awaitable[CreateResult | None]],
        progress: Progress,
        *,
        size: int,
        nbytes: int | None = None,
        again: str | None = None,
        ahead: Callable[[list[T]], object] | None = None,
    ) -> Outcome:
        """Send ``items`` in batches. ``again`` (writes by filter and upserts) tells the caller how to
        finish after a failure part-way; without it the message names the input records.
        ``ahead``: CPU work for a batch that can be done before its turn (``Provider.prepare_create``),
        run in a worker thread for the next batch while the current one is on its way: the batches
        are still sent one at a time, in order, by ``send``."""
        out = Outcome()
        total = len(items)
        lock = self._lock(addr, schema.id)
        chunks = chunked(items, size, nbytes)
        with settled() if len(chunks) > 1 else nullcontext():  # see anytable.bulk
            for k, chunk in enumerate(chunks):

                async def one(chunk: list[T] = chunk) -> CreateResult | None:
                    if lock is None:
                        return await send(chunk)
                    async with lock:
                        return await send(chunk)

                try:
                    if ahead is not None and k + 1 < len(chunks):
                        result = await _alongside(ahead, chunks[k + 1], one)
                    else:
                        result = await one()
                except Exception as exc:  # reported with what was stored
                    raise _partial(verb, exc, out, total, len(chunk), again) from None
                if result is not None:
                    for j, rid in enumerate(result.ids):
                        if j in result.failed:
                            out.failed.append({"index": out.done + j, "error": result.failed[j]})
                            out.ids.append(None)
                        else:
                            out.ids.append(rid)
                out.done += len(chunk)
                if progress is not None and total > len(chunk):
                    await progress(out.done, total, f"{PAST[verb]} {out.done - len(out.failed)} of {total}")
        return out

    def _lock(self, addr: Address, table_id: str) -> anyio.Lock | None:
        """The per-table write lock of providers that take one write at a time per table."""
        if not addr.provider.limits.serialize_writes:
            return None
        return self._locks.setdefault((addr.provider.id, addr.base, table_id), anyio.Lock())


async def _alongside(work: Callable[[list[T]], object], arg: list[T], main: Callable[[], Awaitable[R]]) -> R:
    """``main()``, while ``work(arg)`` runs in a worker thread; returns once both are done. A failure
    of ``work`` is only logged: it was work done ahead, which its batch then does itself."""

    async def background() -> None:
        try:
            await anyio.to_thread.run_sync(work, arg)
        except Exception:
            log.debug("work ahead of a batch failed; the batch does it itself", exc_info=True)

    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(background)
        try:
            result = await main()
        except Exception as exc:  # raised as it is below, not inside the task group's exception group
            error = exc
    if error is not None:
        raise error
    return result


def _partial(
    verb: str, exc: Exception, out: Outcome, total: int, batch: int, again: str | None
) -> AnytableError:
    if not isinstance(exc, AnytableError):  # a bug or an unexpected failure: that batch is in doubt
        log.exception("%s_records failed unexpectedly", verb)
        exc = ProviderError(
            f"an internal error ({type(exc).__name__}) stopped the write; check the server log",
            kind="unknown_outcome",
        )
    # A batch whose outcome is unknown (its answer was lost and could not be checked) is neither
    # done nor not done: saying "were not" would invite sending it twice.
    done = out.done
    unknown = isinstance(exc, ProviderError) and exc.kind == "unknown_outcome" and batch > 0
    if done == 0 and (not unknown or batch >= total):
        return exc
    past = PAST[verb]
    ids = out.ids
    if again is not None:
        state = f"whether the next {min(batch, total - done)} were {past} is not known; " if unknown else ""
        return PartialWriteError(
            f"Stopped part-way: {done} of the {total} records were {past}; {state}the rest were not. "
            f"Cause: {exc}. {again}",
            done=done,
            ids=ids,
        )
    present = [i for i in ids if i]
    shown = present[:MAX_IDS_IN_MESSAGE]
    more = f" and {len(present) - len(shown)} more" if len(present) > len(shown) else ""
    id_text = f" (ids {', '.join(shown)}{more})" if shown and verb == "create" else ""
    if unknown:
        last = min(done + batch, total) - 1
        message = (
            "Stopped part-way: "
            + (f"records 0-{done - 1} of the {total} given were {past}{id_text}; " if done else "")
            + f"whether records {done}-{last} were {past} is not known"
            + (f"; records {last + 1}-{total - 1} were not" if last + 1 < total else "")
            + f". Cause: {exc}. Check with query_records which of records {done}-{last} were {past}, then "
            f"call {verb}_records again with only the records that were not."
        )
        return PartialWriteError(message, done=done, ids=ids)
    failed = out.failed
    message = (
        f"Stopped part-way: records 0-{done - 1} of the {total} given were {past}{id_text}"
        f"{f', {len(failed)} of them refused' if failed else ''}; records {done}-{total - 1} were not. "
        f"Cause: {exc}. Fix the cause, then call {verb}_records again with only records {done}-{total - 1}."
    )
    return PartialWriteError(message, done=done, ids=ids)
