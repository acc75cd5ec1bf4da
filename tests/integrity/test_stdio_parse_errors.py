"""Over stdio every line gets an answer: one the server cannot read gets a JSON-RPC error instead
of being dropped (the client would wait forever) (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.test_transports import INITIALIZE as INIT
from tests.e2e.test_transports import server_env


def test_unreadable_lines_are_answered_with_json_rpc_errors(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    lines = [
        json.dumps(INIT),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {"name": "list_tables", "arguments": {"table": deep}},
            }
        ),
        '{"jsonrpc": "2.0", "id": 6, "method": ',  # cut short
        "not json at all",
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "anytable", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path),
        text=True,
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.flush()
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(a.get("id") == 7 for a in answers):
        line = proc.stdout.readline()
        if not line:
            break
        answers.append(json.loads(line))
    proc.stdin.close()
    proc.wait(timeout=20)
    errors = [a for a in answers if "error" in a]
    by_id = {a.get("id"): a for a in answers}
    assert by_id[5]["error"]["code"] == -32700  # the deep request, answered by its id
    assert [e["id"] for e in errors if e["id"] is None] == [None, None]  # the two unreadable lines
    assert all(e["error"]["code"] == -32700 for e in errors)
    assert "tools" in by_id[7]["result"]  # and the server carried on
