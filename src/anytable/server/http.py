"""Serving over streamable HTTP (docs/PRODUCT.md "Serving over HTTP").

- A bearer token (``ANYTABLE_HTTP_TOKEN``) guards ``/mcp``, compared in constant time; any
  address other than loopback needs one, or the server refuses to start.
- Host and Origin checks stay on for every address: loopback names, the bind address, and the
  names ``ANYTABLE_ALLOWED_HOSTS`` adds.
- ``--stateless``: no session state in the process, so replicas behind a load balancer can serve
  one client's calls in turn.
- ``/healthz`` answers probes without a token and says nothing about the data.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ConfigDict

from anytable import __version__
from anytable.config import Settings
from anytable.errors import ConfigError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from anytable.server.app import AnytableServer

log = logging.getLogger("anytable")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
MIN_TOKEN_LENGTH = 16
HEALTH_PATH = "/healthz"
MCP_PATH = "/mcp"


class HttpOptions(BaseModel):
    """What ``anytable serve --transport http`` was asked for, checked by :func:`http_options`."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    stateless: bool
    token: str | None
    allowed_hosts: tuple[str, ...]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def http_options(settings: Settings, host: str, port: int, stateless: bool) -> HttpOptions:
    """Check the settings for serving on ``host``; a ConfigError says what to do."""
    token = settings.http_token
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"ANYTABLE_HTTP_TOKEN is too short ({len(token)} characters; at least {MIN_TOKEN_LENGTH}). "
            "Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"Refusing to serve on {host}: any address other than loopback needs a token. Set "
            "ANYTABLE_HTTP_TOKEN (clients then send 'Authorization: Bearer <token>'), or bind 127.0.0.1."
        )
    extra = tuple(h.strip() for h in (settings.allowed_hosts or "").split(",") if h.strip())
    for name in extra:
        if "/" in name or " " in name:
            raise ConfigError(
                f"ANYTABLE_ALLOWED_HOSTS: {name!r} is not a host name; give names like "
                "'tables.example.com' or 'tables.example.com:8443', separated by commas."
            )
    return HttpOptions(host=host, port=port, stateless=stateless, token=token, allowed_hosts=extra)


def allowed_hosts(options: HttpOptions) -> list[str]:
    """Host header values accepted: each name bare (default port) and with any port, unless the
    name gives its own port."""
    names = list(LOOPBACK_NAMES)
    bind = options.host
    if bind not in ("0.0.0.0", "::", "") and not is_loopback(bind):
        names.append(f"[{bind}]" if ":" in bind else bind)
    names.extend(options.allowed_hosts)
    hosts: list[str] = []
    for name in names:
        if re.search(r"(^[^\[:]+|\]):\d+$", name):
            hosts.append(name)
        else:
            hosts.extend([name, f"{name}:*"])
    return hosts


def transport_security(options: HttpOptions) -> Any:
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = allowed_hosts(options)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")],
    )


class BearerAuth:
    """ASGI middleware: every request but ``/healthz`` carries ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers
        from starlette.responses import JSONResponse

        scheme, _, value = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {
                "error": "invalid_token",
                "error_description": "Send 'Authorization: Bearer <token>' with the server's ANYTABLE_HTTP_TOKEN.",
            },
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="anytable"'},
        )
        await response(scope, receive, send)


class Draining:
    """ASGI wrapper: on stop, the requests still open (a client's SSE stream, a tool call) end at
    once with their response completed, rather than being cancelled after a grace period with a
    traceback in the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._open: set[anyio.CancelScope] = set()

    def stop(self) -> None:
        for scope in list(self._open):
            scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = done = False

        async def tracking(message: Message) -> None:
            nonlocal started, done
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                done = True
            await send(message)

        with anyio.CancelScope() as cancel:
            self._open.add(cancel)
            try:
                await self.app(scope, receive, tracking)
            finally:
                self._open.discard(cancel)
        if not cancel.cancelled_caught or done:
            return
        with contextlib.suppress(Exception):
            if not started:
                await send(
                    {"type": "http.response.start", "status": 503, "headers": [(b"content-length", b"0")]}
                )
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def build_app(server: AnytableServer, options: HttpOptions) -> ASGIApp:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    register: Callable[[Callable[[Request], Awaitable[Response]]], object] = server.custom_route(
        HEALTH_PATH, methods=["GET"]
    )
    register(healthz)

    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=options.stateless,  # answers still stream (SSE): progress reaches the client
        transport_security=transport_security(options),
        host=options.host,
    )
    if options.token is not None:
        app = BearerAuth(app, options.token)
    return app


def listen(options: HttpOptions) -> socket.socket:
    """The listening socket, bound before anything starts: a port in use is a one-line error."""
    host = options.host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, options.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot listen on {options.host}:{options.port} ({exc.strerror or exc}). "
            "Choose another --port, or stop what is using it."
        ) from None
    return sock


async def serve_http(server: AnytableServer, options: HttpOptions, sock: socket.socket) -> None:
    """Serve until SIGINT/SIGTERM: open requests are ended at once, then everything is closed."""
    import uvicorn

    from anytable.server.lifecycle import run_until_signal

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # signals are run_until_signal's
            yield

    app = Draining(build_app(server, options))
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=1,
        server_header=False,
    )
    logging.getLogger("uvicorn.error").setLevel(max(logging.WARNING, logging.getLogger().level))
    http = Server(config)

    def stop() -> None:
        http.should_exit = True
        app.stop()

    await run_until_signal(lambda: http.serve(sockets=[sock]), stop)
