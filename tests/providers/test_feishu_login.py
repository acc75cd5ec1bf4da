"""`anytable login feishu` against the emulator: the test plays the browser (it opens the authorize
link on the emulator and follows its redirect to the loopback callback), and the sign-in is kept
in a sign-in file under a temporary config directory. Every bad answer fails clearly and stores
nothing."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.from_thread
import httpx
import pytest

from anytable.config import Settings
from anytable.credstore import FileStore, default_file, open_store
from anytable.masking import SECRETS
from anytable.providers.feishu.identity import UserIdentity, user_identity
from anytable.providers.feishu.login import LoginError, login, logout
from anytable.providers.feishu.oauth import s256
from tests.emulators.base import EmulatorTransport, free_port
from tests.emulators.feishu import FeishuEmulator
from tests.emulators.feishu.oauth import FeishuOAuth
from tests.providers.feishu_harness import APP_ID, APP_SECRET
from tests.providers.feishu_user_harness import ADA, user_emulator

pytestmark = pytest.mark.anyio


@dataclass
class Browser:
    """Opens the authorize link on the emulator and follows its redirect over a real socket."""

    emu: FeishuEmulator
    tamper: Callable[[str], str] = lambda location: location  # edit the redirect before following it
    seen: list[tuple[int, str]] = field(default_factory=list)  # (status, body) of each page
    authorize_query: dict[str, str] = field(default_factory=dict)

    def __call__(self, url: str) -> None:  # called in a worker thread, like webbrowser.open
        self.authorize_query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        answer = anyio.from_thread.run(self.emu.handle, httpx.Request("GET", url))
        self.seen.append((answer.status_code, answer.text))
        location = answer.headers.get("location")
        if answer.status_code != 302 or not location:
            return  # an error or login page: the browser never comes back
        try:
            page = httpx.get(self.tamper(location), timeout=10)
        except httpx.HTTPError as exc:
            self.seen.append((0, type(exc).__name__))
            return
        self.seen.append((page.status_code, page.text))


def make_user(emu: FeishuEmulator, store: Path | None = None) -> UserIdentity:
    env = {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_AUTH": "user"}
    if store is not None:
        env["ANYTABLE_TOKEN_STORE"] = str(store)
    settings = Settings.from_env(env)
    return user_identity(settings, EmulatorTransport(emu))  # type: ignore[arg-type]


def said() -> tuple[list[str], Callable[[str], None]]:
    lines: list[str] = []
    return lines, lines.append


async def sign_in(
    emu: FeishuEmulator, oauth: FeishuOAuth, *, browser: Browser | None = None, port: int | None = None,
    store: Path | None = None, timeout: float = 10, register: bool = True,
) -> tuple[UserIdentity, Any, Browser, list[str]]:  # fmt: skip
    port = port or free_port()
    if register:
        oauth.register_redirect(f"http://127.0.0.1:{port}/callback")
    browser = browser or Browser(emu)
    user = make_user(emu, store)
    lines, say = said()
    try:
        session = await login(user, port=port, timeout=timeout, open_browser=browser, say=say)
    except LoginError as exc:
        session = exc
    finally:
        await user.oauth.aclose()
    return user, session, browser, lines


async def test_sign_in_end_to_end_keeps_the_tokens_in_a_private_file(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    user, session, browser, lines = await sign_in(emu, oauth)
    assert not isinstance(session, Exception), session
    # The link asked for PKCE S256, a random state and a refresh token (offline_access).
    q = browser.authorize_query
    assert q["client_id"] == APP_ID and q["code_challenge_method"] == "S256" and len(q["state"]) >= 20
    assert "offline_access" in q["scope"].split() and q["redirect_uri"].endswith("/callback")
    assert any(q["client_id"] in line and "/open-apis/authen/v1/authorize" in line for line in lines)
    assert browser.seen[-1][0] == 200 and "Signed in" in browser.seen[-1][1]
    # Who signed in, kept in the default file of the (temporary) config directory, mode 0600.
    assert session.open_id == ADA and session.name == "Ada"
    path = default_file()
    assert str(path).startswith(os.environ["XDG_CONFIG_HOME"]) and user.store.where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = user.load()
    assert (
        stored is not None
        and stored.access_token in oauth.access
        and stored.refresh_token in oauth.refresh_tokens
    )
    # The tokens are registered as secrets: masked wherever they would be shown.
    assert SECRETS.scrub(stored.access_token) == stored.access_token[:4] + "****"
    assert stored.access_token not in repr(stored) and stored.refresh_token not in repr(stored)
    assert oauth.token_calls == ["authorization_code"]
    # Logging out removes it (and says so when there was nothing).
    assert await logout(user) is True
    assert user.load() is None and not path.exists()
    assert await logout(user) is False


async def test_a_wrong_state_is_refused_and_nothing_is_exchanged_or_stored(tmp_path: Path) -> None:
    emu, oauth = user_emulator()

    def forge(location: str) -> str:
        return location.replace("state=", "state=forged")

    _, outcome, browser, _ = await sign_in(emu, oauth, browser=Browser(emu, tamper=forge))
    assert isinstance(outcome, LoginError)
    assert "state" in str(outcome) and "anytable login feishu" in str(outcome) and "nothing" in str(outcome)
    assert browser.seen[-1][0] == 400
    assert oauth.token_calls == [] and not default_file().exists()


async def test_a_replayed_code_is_refused(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    _, session, _, _ = await sign_in(emu, oauth)
    assert not isinstance(session, Exception)
    path = default_file()
    before = path.read_bytes()
    code = next(iter(oauth.codes))
    # A second login whose browser is handed the first sign-in's (spent) code.

    def replay(location: str) -> str:
        parts = urlsplit(location)
        state = parse_qs(parts.query)["state"][0]
        return f"{parts.scheme}://{parts.netloc}{parts.path}?code={code}&state={state}"

    _, outcome, _, _ = await sign_in(emu, oauth, browser=Browser(emu, tamper=replay))
    assert isinstance(outcome, LoginError)
    assert "already used" in str(outcome) and "Nothing was stored" in str(outcome)
    assert path.read_bytes() == before  # the earlier sign-in is untouched
    assert code not in str(outcome)


async def test_a_pkce_mismatch_is_refused(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    # An attacker's authorization (another challenge) delivered to our callback with our state.
    stolen: dict[str, str] = {}

    def swap(location: str) -> str:
        parts = urlsplit(location)
        state = parse_qs(parts.query)["state"][0]
        for grant in oauth.codes.values():
            grant.challenge = s256("the-attacker-verifier-" + "x" * 30)
        stolen["code"] = parse_qs(parts.query)["code"][0]
        return f"{parts.scheme}://{parts.netloc}{parts.path}?code={stolen['code']}&state={state}"

    _, outcome, _, _ = await sign_in(emu, oauth, browser=Browser(emu, tamper=swap))
    assert isinstance(outcome, LoginError) and "PKCE" in str(outcome)
    assert not default_file().exists()


async def test_a_redirect_uri_on_another_port_times_out_clearly(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    registered = free_port()
    oauth.register_redirect(f"http://127.0.0.1:{registered}/callback")  # the app says another port
    _, outcome, browser, _ = await sign_in(emu, oauth, timeout=1, register=False)
    assert browser.seen[0][0] == 400 and "redirect_uri" in browser.seen[0][1]  # Feishu's error page
    assert isinstance(outcome, LoginError)
    text = str(outcome)
    assert "did not come back" in text and "FEISHU_REDIRECT_PORT" in text and "/callback" in text
    assert not default_file().exists()


async def test_a_redirect_to_another_port_never_reaches_the_listener(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    elsewhere = free_port()

    def other_port(location: str) -> str:
        parts = urlsplit(location)
        return f"http://127.0.0.1:{elsewhere}{parts.path}?{parts.query}"

    _, outcome, browser, _ = await sign_in(emu, oauth, browser=Browser(emu, tamper=other_port), timeout=1)
    assert browser.seen[-1] == (0, "ConnectError")
    assert isinstance(outcome, LoginError) and "did not come back" in str(outcome)
    assert oauth.token_calls == [] and not default_file().exists()


async def test_the_browser_never_coming_back_times_out(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    oauth.browser_user = None  # the user never finishes logging in to Feishu
    _, outcome, browser, _ = await sign_in(emu, oauth, timeout=0.5)
    assert browser.seen == [(200, browser.seen[0][1])]
    assert isinstance(outcome, LoginError) and "within 0 s" not in str(outcome)
    assert "did not come back" in str(outcome) and "Nothing was stored" in str(outcome)
    assert not default_file().exists()


async def test_declining_is_a_clear_error(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    oauth.decline = True
    _, outcome, _, _ = await sign_in(emu, oauth)
    assert isinstance(outcome, LoginError) and "access_denied" in str(outcome)
    assert not default_file().exists()


async def test_a_busy_port_says_what_to_do(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        _, outcome, browser, _ = await sign_in(emu, oauth, port=port)
    assert isinstance(outcome, LoginError) and "FEISHU_REDIRECT_PORT" in str(outcome)
    assert browser.seen == []


async def test_other_paths_on_the_callback_port_are_ignored(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    port = free_port()
    oauth.register_redirect(f"http://127.0.0.1:{port}/callback")
    user = make_user(emu)
    real = Browser(emu)

    def favicon_first(url: str) -> None:
        assert httpx.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=10).status_code == 404
        real(url)

    try:
        session = await login(user, port=port, timeout=10, open_browser=favicon_first, say=lambda _: None)
    finally:
        await user.oauth.aclose()
    assert session.open_id == ADA


def test_the_file_store_is_private_and_keeps_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "credentials.json"
    store = FileStore(path)
    store.put("a", "1")
    store.put("b", "2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.delete("a") and store.get("a") is None and store.get("b") == "2"
    assert not store.delete("a")
    path.write_text("{not json")
    with pytest.raises(Exception, match="not valid JSON: delete it"):
        store.get("b")


def test_the_store_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("file"), FileStore)
    assert open_store(str(tmp_path / "x.json")).where == str(tmp_path / "x.json")
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)  # the extra is not installed
    assert isinstance(open_store(None), FileStore)
    with pytest.raises(Exception, match="ANYTABLE_TOKEN_STORE=keyring, but no usable OS keychain"):
        open_store("keyring")


def test_the_keyring_store_is_used_when_a_backend_works(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    class Backend:
        priority = 5

        def __init__(self) -> None:
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, key: str) -> str | None:
            return self.items.get((service, key))

        def set_password(self, service: str, key: str, value: str) -> None:
            self.items[(service, key)] = value

        def delete_password(self, service: str, key: str) -> None:
            del self.items[(service, key)]

    backend = Backend()
    fake = types.ModuleType("keyring")
    fake.get_keyring = lambda: backend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    store = open_store(None)
    assert "keychain" in store.where
    store.put("feishu:x", "{}")
    assert backend.items == {("anytable", "feishu:x"): "{}"}
    assert store.delete("feishu:x") and not store.delete("feishu:x")


def test_the_authorize_page_is_on_the_accounts_host_of_the_domain() -> None:
    from anytable.providers.feishu.oauth import authorize_url
    from anytable.providers.feishu.urls import api_base_url

    def link(domain: str) -> str:
        base = api_base_url(domain)
        return authorize_url(base, app_id="cli_x", redirect_uri="http://127.0.0.1:3000/callback",
                             scope="bitable:app offline_access", state="s", challenge="c")  # fmt: skip

    assert link("feishu").startswith(
        "https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=cli_x&"
    )
    assert link("lark").startswith("https://accounts.larksuite.com/open-apis/authen/v1/authorize?")
    assert link("https://open.example.com").startswith(
        "https://open.example.com/open-apis/authen/v1/authorize?"
    )
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback" in link("feishu")
    assert "code_challenge_method=S256" in link("feishu") and "scope=bitable%3Aapp+offline_access" in link(
        "feishu"
    )


async def test_a_lost_token_answer_is_not_resent(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    emu.faults.add("lost_response", match="oauth/token")
    _, outcome, _, _ = await sign_in(emu, oauth)
    assert isinstance(outcome, LoginError) and "did not answer" in str(outcome)
    assert oauth.token_calls == ["authorization_code"]  # the single-use code was sent once
    assert not default_file().exists()


def test_a_locked_keychain_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    class Locked:
        priority = 5

        def get_password(self, service: str, key: str) -> str | None:
            raise RuntimeError("the keychain is locked")

    fake = types.ModuleType("keyring")
    fake.get_keyring = Locked  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    with pytest.raises(
        Exception, match=r"Cannot read the sign-in in the OS keychain.*ANYTABLE_TOKEN_STORE=file"
    ):
        open_store("keyring").get("feishu:x")
