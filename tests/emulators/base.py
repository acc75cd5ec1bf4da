"""Shared machinery of the provider emulators.

An emulator is an object with ``async handle(request: httpx.Request) -> httpx.Response``. It is
reached in-process through :class:`EmulatorTransport` (fast, used by tests and benchmarks) or
over a real socket through :func:`asgi_app` and uvicorn (used by the end-to-end tests that spawn
``anytable serve``).

Every emulator shares: a controllable clock (token expiry), per-request latency, a sliding-window
rate limiter, and switchable fault injection (transient errors, throttling, a response lost after
the write happened). What a fault looks like on the wire is provider specific: each emulator
renders :class:`Fault` kinds into its provider's documented error bodies.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import httpx

FaultKind = Literal["transient", "throttle", "lost_response"]


class Clock:
    """Wall clock in seconds that tests can move forward (to expire tokens)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class RateLimiter:
    """Sliding one-second window per key: at most ``limit`` requests in any second."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, limit: float, window: float = 1.0) -> bool:
        now = self.clock.now()
        hits = self.hits[key]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str, window: float = 1.0) -> float:
        hits = self.hits[key]
        if not hits:
            return 0.0
        return max(0.0, hits[0] + window - self.clock.now())


@dataclass
class Fault:
    kind: FaultKind
    # Only requests whose "METHOD path" matches this regex are hit (None: every API request).
    match: str | None = None


@dataclass
class FaultPlan:
    """Which requests fail and how.

    ``queue``: faults applied, in order, to the next matching requests (deterministic tests).
    ``rate``: probability that any other API request fails with a kind drawn from ``mix``
    (benchmarks: "5% of requests fail transiently"). Seeded, so runs repeat.
    """

    queue: list[Fault] = field(default_factory=list)
    rate: float = 0.0
    mix: tuple[FaultKind, ...] = ("transient", "throttle", "lost_response")
    seed: int = 1234
    injected: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, kind: FaultKind, match: str | None = None, times: int = 1) -> None:
        self.queue.extend(Fault(kind, match) for _ in range(times))

    def draw(self, method: str, path: str, is_write: bool) -> FaultKind | None:
        target = f"{method} {path}"
        for i, fault in enumerate(self.queue):
            if fault.match is None or re.search(fault.match, target):
                del self.queue[i]
                return self._count(self._fit(fault.kind, is_write))
        if self.rate and self._rng.random() < self.rate:
            return self._count(self._fit(self._rng.choice(self.mix), is_write))
        return None

    @staticmethod
    def _fit(kind: FaultKind, is_write: bool) -> FaultKind:
        # A lost response only means something for a write; a read just sees a transient error.
        return "transient" if kind == "lost_response" and not is_write else kind

    def _count(self, kind: FaultKind) -> FaultKind:
        self.injected[kind] += 1
        return kind


class LostResponse(Exception):
    """Raised by an emulator after it applied a write, to make the transport drop the answer."""


Handler = Callable[..., Awaitable[httpx.Response]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str


class Router:
    """Tiny path router: ``{name}`` segments become keyword arguments of the handler."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler, name: str | None = None) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
        self.routes.append(Route(method, re.compile(regex), handler, name or path))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method and (m := route.pattern.match(path)):
                return route, {k: httpx.URL("/" + v).path[1:] for k, v in m.groupdict().items()}
        return None

    def allows_path(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)


class EmulatorBase:
    """Common state of every emulator: clock, latency, rate limiter, faults, request log."""

    def __init__(self, *, latency: float = 0.0, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.latency = latency
        self.limiter = RateLimiter(self.clock)
        self.faults = FaultPlan()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received
        self.router = Router()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request``; with ``latency``, no answer comes sooner than that after the request.

        The latency is a floor on the response time that includes the emulator's own processing,
        as a real service's response time includes its work: an emulator written in Python that
        spends 10 ms storing 500 records does not turn a 30 ms service into a 40 ms one.
        """
        self.requests.append((request.method, request.url.path))
        started = time.monotonic()
        try:
            return await self.dispatch(request)
        finally:
            if self.latency:
                remaining = self.latency - (time.monotonic() - started)
                if remaining > 0:
                    await anyio.sleep(remaining)

    async def dispatch(self, request: httpx.Request) -> httpx.Response:  # pragma: no cover
        raise NotImplementedError

    def count(self, method: str, path_regex: str = "") -> int:
        """How many requests of ``method`` whose path matches ``path_regex`` were received."""
        return sum(1 for m, p in self.requests if m == method and re.search(path_regex, p))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"content-type": "application/json; charset=utf-8", **(headers or {})},
    )


def read_json(request: httpx.Request) -> Any:
    """The JSON body, or None when there is none or it is not JSON."""
    if not request.content:
        return None
    try:
        return json.loads(request.content)
    except ValueError:
        return None


class EmulatorTransport(httpx.AsyncBaseTransport):
    """An httpx transport that hands requests to an emulator in-process.

    A :class:`LostResponse` raised by the emulator (after applying a write) reaches the client as
    ``httpx.ReadTimeout``: exactly what a client sees when a response is lost on the way back.
    """

    def __init__(self, emulator: EmulatorBase) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            response = await self.emulator.handle(request)
        except LostResponse:
            raise httpx.ReadTimeout("emulated: the response was lost", request=request) from None
        response.request = request
        return response


def asgi_app(emulator: EmulatorBase) -> Callable[..., Awaitable[None]]:
    """An ASGI app serving ``emulator`` over a real socket (uvicorn), for end-to-end tests."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host = dict(scope["headers"]).get(b"host", b"localhost").decode()
        url = f"{scope['scheme']}://{host}{scope['path']}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode()
        request = httpx.Request(
            scope["method"],
            url,
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]],
            content=body,
        )
        try:
            response = await emulator.handle(request)
        except LostResponse:
            # Closing without an answer is what a lost response looks like over a socket.
            await send({"type": "http.response.start", "status": 504, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    return app


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(emulator: EmulatorBase) -> Iterator[str]:
    """``emulator`` served by uvicorn on 127.0.0.1 (in a thread) for as long as the block runs; its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi_app(emulator), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
