"""`anytable serve` as a user runs it: a real process, real signals, real HTTP.

Ctrl-C and SIGTERM end it at once without a traceback, the SQLite file closed (its WAL file
gone); over HTTP a token guards /mcp, Host and Origin are checked on every address, a
non-loopback bind without a token does not start, and stateless replicas share one session.
"""

from __future__ import annotations

import itertools
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.test_transports import INITIALIZE as INIT
from tests.e2e.test_transports import free_port, server_env

pytestmark = pytest.mark.anyio
TOKEN = "tok_" + "s3cr3t" * 5


def start(tmp_path: Path, *args: str, stdin: Any = subprocess.PIPE, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "anytable", "serve", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path, **env),
    )


def stop(proc: subprocess.Popen[bytes], signum: int) -> tuple[float, str]:
    """Send ``signum``; how long the process took to end, and its stderr."""
    began = time.monotonic()
    proc.send_signal(signum)
    proc.wait(timeout=10)
    assert proc.stderr is not None
    return time.monotonic() - began, proc.stderr.read().decode()


def wait_http(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)


def headers(**extra: str) -> dict[str, str]:
    return {"content-type": "application/json", "accept": "application/json, text/event-stream", **extra}


async def write_something(client: Client) -> None:
    made = await client.call_tool("create_table", {"name": "T", "fields": [{"name": "A", "type": "text"}]})
    assert not made.is_error, made.content
    created = await client.call_tool("create_records", {"table": "T", "records": [{"A": "x"}]})
    assert created.structured_content["created"] == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stdio_stops_at_once_on_a_signal_and_closes_the_store(tmp_path: Path, signum: int) -> None:
    proc = start(tmp_path)
    assert proc.stdin and proc.stdout
    proc.stdin.write(
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
        b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
        b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_table","arguments":'
        b'{"name":"T","fields":[{"name":"A","type":"text"}]}}}\n'
    )
    proc.stdin.flush()
    answers = [proc.stdout.readline(), proc.stdout.readline()]
    assert b'"id":2' in answers[1] and b'"isError":true' not in answers[1]
    assert (tmp_path / "e2e.sqlite-wal").exists()  # the store is open
    took, stderr = stop(proc, signum)  # stdin stays open: the server is waiting for its client
    assert proc.returncode == 0, stderr
    assert took < 3, took
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert not (tmp_path / "e2e.sqlite-wal").exists(), "the SQLite file was not closed"


def test_on_a_terminal_one_line_says_what_it_is_and_how_to_stop(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        proc = start(tmp_path, stdin=terminal)
        deadline = time.monotonic() + 30
        while not (tmp_path / "e2e.sqlite").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        _, stderr = stop(proc, signal.SIGINT)
    finally:
        os.close(controller)
        os.close(terminal)
    lines = stderr.strip().splitlines()
    assert lines[0] == (
        "anytable 0.1.0 speaks MCP on stdin/stdout (providers: local): an MCP client starts it. Ctrl-C stops it."
    )
    assert proc.returncode == 0 and "Traceback" not in stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_http_stops_at_once_on_a_signal_with_a_session_open(tmp_path: Path, signum: int) -> None:
    port = free_port()
    proc = start(tmp_path, "--transport", "http", "--port", str(port))
    try:
        wait_http(proc, port)
        with anyio.fail_after(60):
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client:
                await write_something(client)
                took, stderr = stop(proc, signum)  # the client's session is still open
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert took < 5, took
    assert "Traceback" not in stderr, stderr
    assert not (tmp_path / "e2e.sqlite-wal").exists(), "the SQLite file was not closed"


@pytest.mark.parametrize("bind", ["127.0.0.1", "0.0.0.0"])
def test_http_token_host_and_origin_on_every_address(tmp_path: Path, bind: str) -> None:
    port = free_port()
    proc = start(
        tmp_path,
        "--transport",
        "http",
        "--host",
        bind,
        "--port",
        str(port),
        ANYTABLE_HTTP_TOKEN=TOKEN,
        ANYTABLE_ALLOWED_HOSTS="tables.example.com",
    )
    url = f"http://127.0.0.1:{port}/mcp"
    auth = {"authorization": f"Bearer {TOKEN}"}
    try:
        wait_http(proc, port)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        none = httpx.post(url, headers=headers(), json=INIT)
        assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Bearer")
        wrong = httpx.post(url, headers=headers(authorization=f"Bearer {TOKEN[:-1]}x"), json=INIT)
        assert wrong.status_code == 401
        assert httpx.post(url, headers=headers(authorization=TOKEN), json=INIT).status_code == 401
        assert httpx.post(url, headers=headers(**auth), json=INIT).status_code == 200
        bad_host = httpx.post(url, headers=headers(host="evil.example", **auth), json=INIT)
        assert bad_host.status_code == 421
        bad_origin = httpx.post(url, headers=headers(origin="http://evil.example", **auth), json=INIT)
        assert bad_origin.status_code == 403
        added = httpx.post(
            url,
            headers=headers(host="tables.example.com", origin="https://tables.example.com", **auth),
            json=INIT,
        )
        assert added.status_code == 200
        local_origin = httpx.post(url, headers=headers(origin=f"http://localhost:{port}", **auth), json=INIT)
        assert local_origin.status_code == 200
    finally:
        _, stderr = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0 and TOKEN not in stderr and "bearer token required" in stderr


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "192.0.2.10"])
def test_non_loopback_without_a_token_refuses_to_start(tmp_path: Path, bind: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "anytable", "serve", "--transport", "http", "--host", bind, "--port", "9"],
        capture_output=True,
        text=True,
        env=server_env(tmp_path),
        timeout=30,
    )
    assert out.returncode == 2
    assert f"Refusing to serve on {bind}" in out.stderr and "ANYTABLE_HTTP_TOKEN" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "e2e.sqlite").exists()


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "anytable", "serve", "--transport", "http", "--port", "9"],
        capture_output=True,
        text=True,
        env=server_env(tmp_path, ANYTABLE_HTTP_TOKEN="short"),
        timeout=30,
    )
    assert (
        out.returncode == 2 and "too short" in out.stderr and "short" not in out.stderr.split("short", 1)[0]
    )


class RoundRobin(httpx2.AsyncBaseTransport):
    """A load balancer in the client: each request goes to the next replica."""

    def __init__(self, ports: list[int]) -> None:
        self._next = itertools.cycle(ports)
        self._inner = httpx2.AsyncHTTPTransport()
        self.served: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._next)
        request.url = request.url.copy_with(port=port)
        request.headers["host"] = f"127.0.0.1:{port}"
        self.served.append(port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_two_stateless_replicas_serve_one_session_in_turn(tmp_path: Path, mode: str) -> None:
    ports = [free_port(), free_port()]
    procs = [
        start(tmp_path, "--transport", "http", "--stateless", "--port", str(p), ANYTABLE_HTTP_TOKEN=TOKEN)
        for p in ports
    ]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_http(proc, port)
        balancer = RoundRobin(ports)
        http = httpx2.AsyncClient(transport=balancer, headers={"authorization": f"Bearer {TOKEN}"})
        with anyio.fail_after(60):
            async with (
                http,
                Client(
                    streamable_http_client(f"http://127.0.0.1:{ports[0]}/mcp", http_client=http), mode=mode
                ) as client,
            ):  # type: ignore[arg-type]
                await write_something(client)
                for _ in range(2):
                    page = await client.call_tool("query_records", {"table": "T"})
                    assert [r["fields"] for r in page.structured_content["records"]] == [{"A": "x"}]
                progress: list[float] = []

                async def on_progress(done: float, total: float | None, message: str | None) -> None:
                    progress.append(done)

                rows = [{"A": str(i)} for i in range(1_500)]
                bulk = await client.call_tool(
                    "create_records", {"table": "T", "records": rows}, progress_callback=on_progress
                )
                assert bulk.structured_content["created"] == 1_500
                assert progress == [1_000, 1_500]  # streamed from a replica that keeps no session
        assert set(balancer.served) == set(ports) and len(balancer.served) >= 5
    finally:
        for proc in procs:
            _, stderr = stop(proc, signal.SIGTERM)
            assert proc.returncode == 0 and "Traceback" not in stderr, stderr


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "anytable", "serve", "--transport", "http", "--port", str(port)],
            capture_output=True,
            text=True,
            env=server_env(tmp_path),
            timeout=30,
        )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"anytable: Cannot listen on 127.0.0.1:{port}") and "--port" in out.stderr
