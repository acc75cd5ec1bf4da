"""The command line: tools, call, doctor; logs on stderr only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_transports import CORE_TOOLS, server_env


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anytable", *args],
        capture_output=True,
        text=True,
        env=server_env(tmp_path, **env),
        timeout=60,
    )


def test_tools_lists_every_tool(tmp_path: Path) -> None:
    out = run(tmp_path, "tools")
    assert out.returncode == 0
    assert {line.split()[0] for line in out.stdout.splitlines()} == CORE_TOOLS
    full = json.loads(run(tmp_path, "tools", "--json").stdout)
    assert {t["name"] for t in full["tools"]} == CORE_TOOLS


def test_call_prints_results_and_errors(tmp_path: Path) -> None:
    made = run(
        tmp_path, "call", "create_table", '{"name": "Notes", "fields": [{"name": "Text", "type": "text"}]}'
    )
    assert made.returncode == 0 and json.loads(made.stdout)["name"] == "Notes"
    created = run(tmp_path, "call", "create_records", '{"table": "Notes", "records": [{"Text": "hi"}]}')
    assert json.loads(created.stdout)["created"] == 1
    page = json.loads(run(tmp_path, "call", "query_records", '{"table": "Notes"}').stdout)
    assert [r["fields"] for r in page["records"]] == [{"Text": "hi"}]
    bad = run(tmp_path, "call", "query_records", '{"table": "Nope"}')
    assert bad.returncode == 1 and "Nope" in bad.stderr and "Notes" in bad.stderr and bad.stdout == ""
    not_json = run(tmp_path, "call", "list_tables", "{oops")
    assert not_json.returncode == 2 and "JSON" in not_json.stderr


def test_doctor_reports_each_provider(tmp_path: Path) -> None:
    out = run(tmp_path, "doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "- local: ok" in out.stdout


def test_bad_timezone_is_a_clear_error(tmp_path: Path) -> None:
    out = run(tmp_path, "doctor", ANYTABLE_TIMEZONE="Mars/Olympus")
    assert out.returncode != 0
    assert "ANYTABLE_TIMEZONE" in out.stdout + out.stderr and "Traceback" not in out.stdout + out.stderr
