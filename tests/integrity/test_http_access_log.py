"""HTTP mode: uvicorn's access log goes to stderr, masked; stdout stays empty (issue 11)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_transports import free_port, server_env

SECRET = "gptKEY+secret/value=0123456789"


def test_access_log_goes_to_stderr_masked(tmp_path: Path) -> None:
    port = free_port()
    env = {**server_env(tmp_path), "GPTBOTS_API_KEY": SECRET, "GPTBOTS_AGENT_ID": "agent1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "anytable", "serve", "--transport", "http", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.1)
        httpx.get(url, params={"key": SECRET}, timeout=5)  # a client that puts a secret in a URL
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    text = err.decode()
    assert out == b""
    assert "GET /mcp?key=" in text  # the access log line is there, on stderr
    assert SECRET not in text and "gptKEY%2Bsecret" not in text
