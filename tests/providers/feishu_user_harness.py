"""The Feishu contract harness acting as a signed-in user (FEISHU_AUTH=user): the emulator with user
sign-in (tests/emulators/feishu/oauth.py), Ada signed in and the contract base shared with her, her
tokens in a sign-in file under the test's temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anytable.credstore import FileStore
from anytable.providers.feishu.oauth import TokenSet, UserSession, session_key
from anytable.providers.feishu.urls import api_base_url
from tests.emulators.feishu import FeishuEmulator
from tests.emulators.feishu.oauth import FeishuOAuth
from tests.harness import register, serve
from tests.providers.feishu_harness import APP_ID, APP_TOKEN, USERS, emulator, env

ADA = "ou_ada0000000001"
BOB = "ou_bob0000000002"


def user_emulator(**knobs: Any) -> tuple[FeishuEmulator, FeishuOAuth]:
    """The contract tenant, with Ada signed in to the browser and the contract base shared with her."""
    emu = emulator(**knobs)
    oauth = FeishuOAuth(emu)
    oauth.sign_in(ADA)
    oauth.share(APP_TOKEN, ADA)
    return emu, oauth


def store_session(
    oauth: FeishuOAuth, path: Path, *, open_id: str = ADA, domain: str = "feishu", scope: str | None = None
) -> UserSession:
    """Sign ``open_id`` in without the browser and keep the session in the sign-in file ``path``
    (as `anytable login feishu` would), with times on the emulator's clock."""
    answer = oauth.issue(open_id, scope=scope or "bitable:app offline_access")
    tokens = TokenSet(
        access_token=answer["access_token"],
        expires_in=answer["expires_in"],
        refresh_token=answer.get("refresh_token"),
        refresh_expires_in=answer.get("refresh_token_expires_in"),
        scope=answer["scope"],
    )
    base = api_base_url(domain)
    session = UserSession.issued(tokens, app_id=APP_ID, api_base=base, now=oauth.emu.clock.now())
    session = session.model_copy(update={"open_id": open_id, "name": USERS[open_id]})
    FileStore(path).put(session_key(APP_ID, base), session.model_dump_json())
    return session


def user_env(store: Path, **extra: str) -> dict[str, str]:
    return env(FEISHU_AUTH="user", ANYTABLE_TOKEN_STORE=str(store), **extra)


@register("feishu_user")
def feishu_user_harness(tmp_path: Path) -> Any:
    emu, oauth = user_emulator()
    store = tmp_path / "credentials.json"
    store_session(oauth, store)
    return serve("feishu", user_env(store), tmp_path, emulator=emu, base=APP_TOKEN, users=list(USERS))
