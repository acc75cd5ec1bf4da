"""HTTP mode: uvicorn logs to stderr through the masking formatter, never stdout (issue 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.test_transports import free_port, server_env, wait_for_http

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
        url = wait_for_http(proc, port)
        httpx.get(url, params={"key": SECRET}, timeout=5)  # a client that puts a secret in a URL
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    text = err.decode()
    assert out == b""
    assert SECRET not in text and "gptKEY%2Bsecret" not in text
