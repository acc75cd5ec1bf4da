"""Running until a signal: Ctrl-C (SIGINT) and SIGTERM end the server at once and cleanly.

The engine is closed by the server's lifespan (connections, the SQLite file); no traceback is
printed. Where the platform cannot deliver signals to the event loop (Windows), Ctrl-C arrives
as KeyboardInterrupt and the command line catches it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectSendStream

log = logging.getLogger("anytable")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_until_signal(
    main: Callable[[], Awaitable[None]], stop: Callable[[], None] | None = None
) -> None:
    """Run ``main``; the first SIGINT or SIGTERM calls ``stop`` (a graceful stop ``main`` honours
    promptly) or else cancels ``main``. A second signal cancels ``main`` outright."""
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            graceful = stop
            try:
                with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
                    async for signum in signals:
                        log.info("%s received: stopping", signal.Signals(signum).name)
                        if graceful is None:
                            tg.cancel_scope.cancel()
                            return
                        graceful()
                        graceful = None  # a second signal cancels
            except NotImplementedError:  # no signals in the event loop here (Windows)
                return

        tg.start_soon(watch)
        await main()
        tg.cancel_scope.cancel()


class StdinLines:
    """stdin as an async iterator of text lines, read on a daemon thread.

    The SDK reads stdin on an AnyIO worker thread that cancellation has to wait for, so a signal
    could not stop a server whose client sends nothing. Here a blocked read holds up nothing: the
    daemon thread is left behind when the process ends. It reads a duplicate of fd 0, so it
    shares no lock with ``sys.stdin``.
    """

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        send, receive = anyio.create_memory_object_stream[str](16)
        token = anyio.lowlevel.current_token()
        thread = threading.Thread(target=_pump, args=(send, token), name="anytable-stdin", daemon=True)
        thread.start()
        async with receive:
            async for line in receive:
                yield line


def _pump(send: MemoryObjectSendStream[str], token: anyio.lowlevel.EventLoopToken) -> None:
    try:
        with os.fdopen(os.dup(0), "rb") as stdin:
            for chunk in iter(stdin.readline, b""):
                anyio.from_thread.run(send.send, chunk.decode("utf-8", errors="replace"), token=token)
    except (RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        return  # the server has stopped (or stdin is gone): nothing more to deliver
    finally:
        with contextlib.suppress(RuntimeError):
            anyio.from_thread.run_sync(send.close, token=token)
