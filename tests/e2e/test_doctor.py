"""`anytable doctor`: says what each provider needs, creates nothing, survives a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_transports import server_env


def doctor(
    tmp_path: Path, stdout: int | None = subprocess.PIPE, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anytable", "doctor"],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(tmp_path, **env),
        timeout=60,
    )


def test_doctor_does_not_create_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet.sqlite"
    out = doctor(tmp_path, ANYTABLE_LOCAL_PATH=str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"- local: ok: SQLite file {path} does not exist yet" in out.stdout
    assert not path.exists() and not path.parent.exists()


def test_doctor_says_everything_a_provider_needs(tmp_path: Path) -> None:
    out = doctor(tmp_path)
    assert (
        "- dingtalk: not enabled (to enable, set DINGTALK_APP_KEY, DINGTALK_APP_SECRET and "
        "DINGTALK_OPERATOR_ID (the unionId the server acts as) or DINGTALK_USER_ID" in out.stdout
    )
    assert "- feishu: not enabled (to enable, set FEISHU_APP_ID, FEISHU_APP_SECRET" in out.stdout
    assert "GPTBOTS_AGENT_ID" in out.stdout
    secret = "dt-secret-value-123456"
    no_operator = doctor(tmp_path, DINGTALK_APP_KEY="dingkey", DINGTALK_APP_SECRET=secret)
    assert no_operator.returncode == 1
    assert "- dingtalk: FAILED: no operator: set DINGTALK_OPERATOR_ID" in no_operator.stdout
    assert secret not in no_operator.stdout + no_operator.stderr and "dt-s****" in no_operator.stdout


def test_doctor_on_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before doctor writes a byte
    try:
        out = doctor(tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr, out.stderr
