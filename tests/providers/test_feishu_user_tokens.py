"""Acting as the signed-in user (FEISHU_AUTH): which token calls carry, refreshing before expiry and
after Feishu refuses a token (one refresh for any number of concurrent calls), single-use refresh
tokens (never sent twice, another process's refresh adopted), and the errors that say to sign in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from anytable.credstore import FileStore
from anytable.errors import AnytableError
from anytable.providers.feishu import FeishuApi, FeishuProvider
from anytable.providers.feishu.identity import SignInRequired, UserIdentity
from anytable.providers.feishu.oauth import OAuthClient
from tests.emulators.base import EmulatorTransport
from tests.emulators.feishu import FeishuEmulator
from tests.harness import serve
from tests.providers.feishu_harness import APP_ID, APP_SECRET, APP_TOKEN, FAST, Recorder
from tests.providers.feishu_user_harness import ADA, BOB, store_session, user_emulator, user_env

pytestmark = pytest.mark.anyio
API = "https://open.feishu.cn"


def as_user(
    emu: FeishuEmulator, store: Path, *, mode: str = "user", rates: dict[str, float] | None = None
) -> tuple[FeishuProvider, Recorder, UserIdentity]:
    """A provider acting per ``mode`` on the emulator, its clock the emulator's, its sign-in in ``store``."""
    recorder = Recorder(emu)
    transport: Any = EmulatorTransport(recorder)  # type: ignore[arg-type]
    oauth = OAuthClient(app_id=APP_ID, app_secret=APP_SECRET, api_base=API, transport=transport, retry=FAST)
    user = UserIdentity(mode=mode, oauth=oauth, store=FileStore(store), clock=emu.clock.now)
    user.session = user.load()
    api = FeishuApi(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_url=API,
        transport=transport,
        retry=FAST,
        clock=emu.clock.now,
        identity=user,
        rates=rates,
    )
    return FeishuProvider(api, app_token=APP_TOKEN), recorder, user


async def twenty_calls(provider: FeishuProvider) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(provider.list_tables, APP_TOKEN)


async def test_calls_go_as_the_user_and_twenty_calls_across_an_expiry_refresh_once(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    first = store_session(oauth, store)
    provider, recorder, user = as_user(emu, store)
    assert [t.name for t in await provider.list_tables(APP_TOKEN)] == ["Sheet1"]
    assert recorder.count("POST", "tenant_access_token") == 0 and oauth.token_calls == []
    assert "signed in as Ada (ou_a****)" in provider.acting_as()["FEISHU_AUTH"]
    # 2 minutes before the access token expires (inside the 5-minute margin): 20 calls at once.
    emu.clock.advance(7200 - 120)
    await twenty_calls(provider)
    assert oauth.token_calls == ["refresh_token"] and user.refreshes == 1
    assert recorder.count("POST", "/oauth/token") == 1
    assert 99991677 not in recorder.codes() and 99991668 not in recorder.codes()
    stored = user.load()
    assert stored is not None and stored.access_token != first.access_token
    assert stored.refresh_token != first.refresh_token and stored.name == "Ada" and stored.open_id == ADA
    assert oauth.refresh_tokens[str(first.refresh_token)].used  # the old one is spent
    await provider.aclose()


async def test_twenty_calls_refused_as_expired_make_one_refresh(tmp_path: Path) -> None:
    # No rate limit in the way: the 20 calls are in flight together.
    emu, oauth = user_emulator(latency=0.02, rate_limits={"tables.list": 1e6})
    store = tmp_path / "credentials.json"
    first = store_session(oauth, store)
    provider, recorder, _ = as_user(emu, store, rates={"tables.list": 1e6})
    await provider.list_tables(APP_TOKEN)
    app_id, open_id, _ = oauth.access[first.access_token]
    oauth.access[first.access_token] = (app_id, open_id, emu.clock.now() - 1)  # Feishu ended it early
    await twenty_calls(provider)
    refused = recorder.codes().count(99991677)
    assert refused >= 10  # the calls in flight together were refused...
    assert oauth.token_calls == ["refresh_token"]  # ...and one refresh served them all
    assert len(recorder.exchanges) == 1 + 20 + refused + 1  # none refused twice
    await provider.aclose()


async def test_a_revoked_refresh_token_is_sent_once_and_says_to_sign_in(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    store_session(oauth, store)
    before = store.read_bytes()
    provider, _, _ = as_user(emu, store)
    oauth.revoke(ADA)
    emu.clock.advance(7300)
    for _ in range(3):
        with pytest.raises(SignInRequired) as caught:
            await provider.list_tables(APP_TOKEN)
        assert "revoked" in str(caught.value) and "anytable login feishu" in str(caught.value)
    assert oauth.token_calls == ["refresh_token"]  # never sent again
    assert store.read_bytes() == before  # nothing written: the failed refresh stored nothing
    await provider.aclose()


async def test_an_expired_sign_in_says_to_sign_in_without_asking_feishu(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    store_session(oauth, store)
    provider, _, _ = as_user(emu, store)
    emu.clock.advance(31 * 86400)
    with pytest.raises(SignInRequired, match=r"refresh token has expired.*anytable login feishu"):
        await provider.list_tables(APP_TOKEN)
    assert oauth.token_calls == []
    await provider.aclose()


async def test_a_sign_in_without_offline_access_cannot_be_renewed(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    store_session(oauth, store, scope="bitable:app")
    provider, _, _ = as_user(emu, store)
    emu.clock.advance(7300)
    with pytest.raises(SignInRequired, match="there is no refresh token"):
        await provider.list_tables(APP_TOKEN)
    await provider.aclose()


async def test_a_refresh_racing_another_process_adopts_its_tokens(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    stale = store_session(oauth, store)
    a, _, a_user = as_user(emu, store)
    b, _, b_user = as_user(emu, store)
    emu.clock.advance(7300)
    await a.list_tables(APP_TOKEN)  # A refreshes first: the stored refresh token is spent
    # B had read the sign-in before A saved the new one, and refreshes with the spent token.
    token, _ = await b_user._refresh(stale)
    stored = a_user.load()
    assert stored is not None and token == stored.access_token
    assert oauth.token_calls == ["refresh_token", "refresh_token"]  # A's, and B's refused one
    assert [t.name for t in await b.list_tables(APP_TOKEN)] == ["Sheet1"]
    assert oauth.token_calls == ["refresh_token", "refresh_token"]  # B goes on with A's tokens
    await a.aclose()
    await b.aclose()


async def test_a_base_not_shared_with_the_user_answers_as_feishu_does(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    emu.add_app("bascnNotShared000001", name="private")
    emu.add_table("bascnNotShared000001", "Secret", fields=[{"field_name": "Title", "type": 1}])
    store = tmp_path / "credentials.json"
    store_session(oauth, store)
    provider, recorder, _ = as_user(emu, store)
    with pytest.raises(AnytableError) as caught:
        await provider.list_tables("bascnNotShared000001")
    text = str(caught.value)
    assert "You (the signed-in user) have no permission on base 'bascnNotShared000001'" in text
    assert "code 1254302" in text and recorder.exchanges[-1].status == 403
    # The app itself (tenant token) still sees it: the identity is what differs.
    tenant, _, _ = as_user(emu, store, mode="tenant")
    assert [t.name for t in await tenant.list_tables("bascnNotShared000001")] == ["Secret"]
    # Bob signed in instead of Ada does not see the contract base either.
    store_session(oauth, store, open_id=BOB)
    bob, _, _ = as_user(emu, store)
    with pytest.raises(AnytableError, match="1254302"):
        await bob.list_tables(APP_TOKEN)
    for p in (provider, tenant, bob):
        await p.aclose()


async def test_feishu_auth_modes(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    # Nobody signed in: user mode says to sign in; auto acts as the app.
    user_mode, _, _ = as_user(emu, store, mode="user")
    with pytest.raises(
        SignInRequired, match=r"FEISHU_AUTH=user, but nobody is signed in.*anytable login feishu"
    ):
        await user_mode.list_tables(APP_TOKEN)
    assert "nobody is signed in" in user_mode.acting_as()["FEISHU_AUTH"]
    auto, recorder, _ = as_user(emu, store, mode="auto")
    await auto.list_tables(APP_TOKEN)
    assert recorder.count("POST", "tenant_access_token") == 1
    assert auto.acting_as()["FEISHU_AUTH"].startswith("tenant (nobody signed in")
    # Signed in: auto acts as the user; tenant still as the app.
    store_session(oauth, store)
    auto2, recorder2, _ = as_user(emu, store, mode="auto")
    await auto2.list_tables(APP_TOKEN)
    assert recorder2.count("POST", "tenant_access_token") == 0
    assert auto2.acting_as()["FEISHU_AUTH"].startswith("user: signed in as Ada")
    assert "acting as the user" in await auto2.check()
    tenant, recorder3, _ = as_user(emu, store, mode="tenant")
    await tenant.list_tables(APP_TOKEN)
    assert recorder3.count("POST", "tenant_access_token") == 1
    assert tenant.acting_as()["FEISHU_AUTH"].startswith("tenant")
    for p in (user_mode, auto, auto2, tenant):
        await p.aclose()


async def test_list_providers_says_which_identity_is_in_use(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    session = store_session(oauth, store)
    async with serve("feishu", user_env(store), tmp_path, emulator=emu, base=APP_TOKEN) as h:
        result = await h.client.call_tool("list_providers", {})
        feishu = next(p for p in result.structured_content["providers"] if p["id"] == "feishu")
        shown = feishu["credentials"]["FEISHU_AUTH"]
        assert shown.startswith("user: signed in as Ada (ou_a****)") and "expires" in shown
        text = str(result.content) + str(result.structured_content)
        assert ADA not in text and session.access_token not in text and str(session.refresh_token) not in text
        tables = await h.call("list_tables")
        assert [t["name"] for t in tables["tables"]] == ["Sheet1"]


def test_a_bad_feishu_auth_is_a_clear_error() -> None:
    from anytable.config import Settings

    settings = Settings.from_env(
        {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_AUTH": "me"}
    )
    with pytest.raises(AnytableError, match="FEISHU_AUTH='me' is not understood: use user"):
        FeishuProvider.from_settings(settings)


async def test_a_refresh_without_an_answer_is_tried_again_by_the_next_call_only(tmp_path: Path) -> None:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    store_session(oauth, store)
    provider, _, user = as_user(emu, store)
    emu.clock.advance(7300)
    emu.faults.add("transient", match="oauth/token")  # HTTP 500: the refresh may or may not have run
    with pytest.raises(AnytableError, match="did not answer the sign-in token request"):
        await provider.list_tables(APP_TOKEN)
    assert oauth.token_calls == []  # the 500 came before the emulator looked at the request
    emu.faults.add("throttle", match="oauth/token")  # refused before running: retried at once
    assert [t.name for t in await provider.list_tables(APP_TOKEN)] == ["Sheet1"]
    assert oauth.token_calls == ["refresh_token"] and user.refreshes == 1
    await provider.aclose()
