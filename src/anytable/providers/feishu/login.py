"""``anytable login feishu``: sign the user in through the browser and keep their tokens.

1. Listen on ``http://127.0.0.1:<port>/callback`` (FEISHU_REDIRECT_PORT: the redirect URI registered
   in the app's security settings must be exactly this).
2. Open the authorize page (and print its link) with a random ``state`` and a PKCE S256 challenge.
3. Wait for the browser to come back with ``code`` and the same ``state`` (anything else fails the
   sign-in and nothing is exchanged); give up after ``timeout`` seconds with what to check.
4. Exchange the code (with the PKCE verifier) for the user's tokens, ask who signed in, and store
   them. Nothing is written unless the exchange succeeded; no token is ever printed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import SocketStream

from anytable.errors import AnytableError, ConfigError, ProviderError
from anytable.masking import SECRETS

from .identity import UserIdentity
from .oauth import DEFAULT_SCOPE, UserSession, authorize_url, pkce_pair

CALLBACK_PATH = "/callback"
MAX_REQUEST = 16 * 1024


class LoginError(AnytableError):
    """The sign-in did not complete; the message says why and what to do."""


@dataclass
class Callback:
    code: str | None
    state: str | None
    error: str | None


def redirect_port(value: str | int) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(
            f"FEISHU_REDIRECT_PORT={value!r} is not a port: give the port of the redirect URI registered for "
            "the app, e.g. 3000 for http://127.0.0.1:3000/callback."
        )
    return port


def _page(title: str, text: str) -> bytes:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2><p>{text}</p></body></html>"
    ).encode()
    return body


async def _answer(stream: SocketStream, status: str, page: bytes) -> None:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(page)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    ).encode()
    await stream.send(head + page)


async def _read_target(stream: SocketStream) -> str | None:
    """The request target of a GET (``/callback?code=...``), or None for anything else."""
    data = b""
    with anyio.move_on_after(10):
        while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
            try:
                data += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                break
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != "GET":
        return None
    return parts[1]


async def wait_for_callback(
    listener: anyio.abc.Listener[SocketStream], timeout: float
) -> tuple[Callback, SocketStream]:
    """The first GET /callback that reaches the listener (other paths get a 404 and are ignored)."""
    send, receive = anyio.create_memory_object_stream[tuple[Callback, SocketStream]](1)

    async def handle(stream: SocketStream) -> None:
        try:
            await _handle(stream)
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await stream.aclose()  # the browser went away: keep waiting for another answer

    async def _handle(stream: SocketStream) -> None:
        target = await _read_target(stream)
        parts = urlsplit(target or "")
        if target is None or parts.path != CALLBACK_PATH:
            await _answer(stream, "404 Not Found", _page("Not found", "This is anytable's sign-in callback."))
            await stream.aclose()
            return
        query = parse_qs(parts.query)

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        SECRETS.add(one("code"))
        try:
            send.send_nowait((Callback(one("code"), one("state"), one("error")), stream))
        except anyio.WouldBlock:  # a second callback while the first is handled
            await _answer(
                stream, "409 Conflict", _page("Already answered", "This sign-in is being completed.")
            )
            await stream.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle, tg)
        with anyio.move_on_after(timeout):
            result = await receive.receive()
            tg.cancel_scope.cancel()
            return result
        tg.cancel_scope.cancel()
    raise TimeoutError


async def login(
    user: UserIdentity,
    *,
    port: int,
    timeout: float = 300.0,
    scope: str = DEFAULT_SCOPE,
    open_browser: Callable[[str], object] | None = None,
    say: Callable[[str], None] = print,
) -> UserSession:
    """Run the sign-in (see the module docstring); the stored session."""
    oauth = user.oauth
    redirect_uri = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    SECRETS.add(verifier)
    url = authorize_url(
        oauth.api_base,
        app_id=oauth.app_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        challenge=challenge,
    )
    try:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port)
    except OSError as exc:
        raise LoginError(
            f"Cannot listen on 127.0.0.1:{port} for the sign-in redirect ({exc.strerror or exc}): free the port, "
            "or set FEISHU_REDIRECT_PORT (or --port) to another one and register "
            "http://127.0.0.1:<port>/callback as a redirect URI of the app (developer console, Security settings)."
        ) from None
    outcome: UserSession | LoginError
    async with listener, anyio.create_task_group() as tg:
        say(f"Sign in to Feishu in your browser. If it does not open, open this link:\n\n  {url}\n")
        say(f"Waiting up to {timeout:g} s for the browser to come back to {redirect_uri} ...")
        if open_browser is not None:  # beside the wait: a browser may come back before it returns
            tg.start_soon(partial(anyio.to_thread.run_sync, open_browser, url, abandon_on_cancel=True))
        outcome = await _receive(
            user, listener, timeout, state=state, redirect_uri=redirect_uri, verifier=verifier
        )
    if isinstance(outcome, LoginError):
        raise outcome
    return outcome


async def _receive(
    user: UserIdentity,
    listener: anyio.abc.Listener[SocketStream],
    timeout: float,
    *,
    state: str,
    redirect_uri: str,
    verifier: str,
) -> UserSession | LoginError:
    """The browser's callback, checked and exchanged; the error to raise when it fails."""
    try:
        callback, stream = await wait_for_callback(listener, timeout)
    except TimeoutError:
        return LoginError(
            f"The browser did not come back to {redirect_uri} within {timeout:g} s. Finish signing in in the "
            f"browser; check that the app's redirect URI (developer console, Security settings) is exactly "
            f"{redirect_uri} (FEISHU_REDIRECT_PORT or --port picks the port); then run `anytable login feishu` "
            "again. Nothing was stored."
        )
    async with stream:
        try:
            session = await _complete(
                user, callback, state=state, redirect_uri=redirect_uri, verifier=verifier
            )
        except AnytableError as exc:
            await _answer(
                stream, "400 Bad Request", _page("Sign-in failed", "See the terminal for what to do.")
            )
            return LoginError(str(exc))
        await _answer(
            stream,
            "200 OK",
            _page("Signed in", "anytable now acts as you on Feishu. You can close this tab."),
        )
    return session


async def _complete(
    user: UserIdentity, callback: Callback, *, state: str, redirect_uri: str, verifier: str
) -> UserSession:
    if callback.state is None or not secrets.compare_digest(callback.state, state):
        raise LoginError(
            "The browser came back with a state that is not this sign-in's (an old tab, or a link not started by "
            "this `anytable login`): nothing was exchanged or stored. Run `anytable login feishu` again and use "
            "the link it prints."
        )
    if callback.error or not callback.code:
        why = callback.error or "no authorization code"
        raise LoginError(
            f"Feishu did not authorize anytable ({why}): run `anytable login feishu` again and approve the "
            "request. Nothing was stored."
        )
    oauth = user.oauth
    try:
        tokens = await oauth.exchange(callback.code, redirect_uri=redirect_uri, verifier=verifier)
    except ProviderError as exc:
        raise LoginError(f"{exc} Nothing was stored.") from None
    session = UserSession.issued(tokens, app_id=oauth.app_id, api_base=oauth.api_base, now=time.time())
    try:
        info = await oauth.user_info(tokens.access_token)
    except ProviderError:
        info = {}  # the tokens are good; who it is stays unknown
    session = session.model_copy(
        update={
            "open_id": info.get("open_id") if isinstance(info.get("open_id"), str) else None,
            "name": info.get("name") if isinstance(info.get("name"), str) else None,
        }
    )
    await anyio.to_thread.run_sync(user.save, session)
    user.session = session
    return session


async def logout(user: UserIdentity) -> bool:
    """Forget the stored sign-in of this app and host; whether there was one."""
    return await anyio.to_thread.run_sync(user.forget)
