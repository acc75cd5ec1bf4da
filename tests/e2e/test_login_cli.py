"""End to end: `anytable login feishu`, `anytable doctor` and `anytable logout feishu` as a user runs
them, against the Feishu emulator on a real socket (FEISHU_DOMAIN=http://127.0.0.1:port); the test
is the browser: it opens the printed link and follows the redirect to the command's callback."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_transports import server_env
from tests.emulators.base import free_port
from tests.emulators.base import served as served_on_loopback
from tests.providers.feishu_harness import APP_ID, APP_SECRET, APP_TOKEN
from tests.providers.feishu_user_harness import ADA, user_emulator


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anytable", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_login_doctor_logout(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    port = free_port()
    oauth.register_redirect(f"http://127.0.0.1:{port}/callback")
    config = tmp_path / "config"
    with served_on_loopback(emu) as url:
        env = server_env(
            tmp_path,
            FEISHU_APP_ID=APP_ID,
            FEISHU_APP_SECRET=APP_SECRET,
            FEISHU_APP_TOKEN=APP_TOKEN,
            FEISHU_DOMAIN=url,
            FEISHU_REDIRECT_PORT=str(port),
            XDG_CONFIG_HOME=str(config),
        )
        login = subprocess.Popen(
            [sys.executable, "-m", "anytable", "login", "feishu", "--no-browser", "--timeout", "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert login.stdout is not None
            link = ""
            deadline = time.monotonic() + 30
            while not link and time.monotonic() < deadline:
                line = login.stdout.readline()
                if "/open-apis/authen/v1/authorize?" in line:
                    link = line.strip()
            assert link.startswith(url), link
            # The browser: the authorize page redirects to the command's loopback callback.
            authorize = httpx.get(link, timeout=10)
            assert authorize.status_code == 302
            page = httpx.get(authorize.headers["location"], timeout=10)
            assert page.status_code == 200 and "Signed in" in page.text
            out, err = login.communicate(timeout=30)
        finally:
            if login.poll() is None:
                login.kill()
                login.wait()
        assert login.returncode == 0, err
        assert "Signed in to Feishu: signed in as Ada (ou_a****)" in out
        stored = config / "anytable" / "credentials.json"
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        doctor = run(env, "doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "feishu: ok: acting as the user (user: signed in as Ada (ou_a****)" in doctor.stdout
        assert "sign-in lasts until" in doctor.stdout
        logout = run(env, "logout", "feishu")
        assert logout.returncode == 0 and "Signed out of Feishu" in logout.stdout
        assert not stored.exists()
        again = run(env, "doctor")
        assert "feishu: ok: tenant_access_token" in again.stdout
    shown = out + err + doctor.stdout + doctor.stderr + logout.stdout + again.stdout
    for secret in {*oauth.secrets(), APP_SECRET, ADA}:
        assert secret not in shown


def test_login_needs_the_app(tmp_path: Path) -> None:
    result = run(server_env(tmp_path), "login", "feishu")
    assert result.returncode == 2 and "set FEISHU_APP_ID and FEISHU_APP_SECRET" in result.stderr


def test_a_bad_redirect_port_is_a_clear_error(tmp_path: Path) -> None:
    env = server_env(tmp_path, FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_REDIRECT_PORT="web")
    result = run(env, "login", "feishu", "--no-browser")
    assert result.returncode == 1 and "FEISHU_REDIRECT_PORT='web' is not a port" in result.stderr
