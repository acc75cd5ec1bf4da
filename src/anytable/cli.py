"""``anytable serve | tools | call | doctor | login | logout``.

Logs go to stderr only: on stdio, stdout is the MCP stream.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import anyio

from anytable import __version__
from anytable.config import Settings
from anytable.errors import AnytableError, ConfigError
from anytable.masking import configure_logging, scrub

log = logging.getLogger("anytable")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except AnytableError as exc:
        sys.stderr.write(f"anytable: {scrub(str(exc))}\n")
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging(settings.log_level)
    from anytable.server import build_server

    options = sock = None
    if args.stateless and args.transport != "http":
        sys.stderr.write("anytable: --stateless is for --transport http (stdio has one client already).\n")
        return 2
    if args.transport == "http":
        from anytable.server.http import http_options, listen

        try:
            options = http_options(settings, args.host, args.port, args.stateless)
            sock = listen(options)
        except AnytableError as exc:
            sys.stderr.write(f"anytable: {scrub(str(exc))}\n")
            return 2
    try:
        server, svc = build_server(settings)
    except AnytableError as exc:
        log.error("%s", exc)
        return 2
    about = f"providers: {', '.join(svc.providers)}" + ("; read-only" if settings.read_only else "")
    try:
        if options is None:
            _say(
                f"anytable {__version__} speaks MCP on stdin/stdout ({about}): an MCP client starts it. "
                "Ctrl-C stops it."
            )
            anyio.run(server.run_stdio)
        else:
            from anytable.server.http import allowed_hosts, serve_http

            auth = "bearer token required" if options.token else "no token (loopback only)"
            mode = "stateless" if options.stateless else "sessions"
            _say(
                f"anytable {__version__} serves MCP at http://{options.host}:{options.port}/mcp ({about}; "
                f"{auth}; {mode}; Host: {', '.join(h for h in allowed_hosts(options) if not h.endswith(':*'))}). "
                "Ctrl-C stops it."
            )
            assert sock is not None
            with sock:
                anyio.run(serve_http, server, options, sock)
    except KeyboardInterrupt:  # platforms without signal handling in the event loop
        pass
    log.debug("stopped")
    return 0


def _say(line: str) -> None:
    """The one start-up line: plain on a terminal, a log line otherwise."""
    if sys.stdin is not None and sys.stdin.isatty():
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    else:
        log.info("%s", line)


async def _with_client(work: Any) -> Any:
    from mcp import Client

    from anytable.server import build_server

    server, _ = build_server(_settings())
    async with Client(server) as client:
        return await work(client)


def cmd_tools(args: argparse.Namespace) -> int:
    configure_logging("WARNING")

    async def work(client: Any) -> Any:
        return (await client.list_tools()).tools

    tools = anyio.run(_with_client, work)
    if args.json:
        data = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
        print(json.dumps({"tools": data}, ensure_ascii=False, indent=2))
        return 0
    width = max(len(t.name) for t in tools)
    for tool in tools:
        hints = tool.annotations
        tag = (
            "read"
            if hints and hints.read_only_hint
            else ("destructive" if hints and hints.destructive_hint else "write")
        )
        print(f"{tool.name:<{width}}  [{tag}] {tool.description}")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    try:
        arguments = json.loads(args.arguments) if args.arguments else {}
    except json.JSONDecodeError as exc:
        sys.stderr.write(
            f'anytable call: ARGS is not JSON ({exc}); write it like \'{{"table": "Tasks"}}\'.\n'
        )
        return 2
    if not isinstance(arguments, dict):
        sys.stderr.write("anytable call: ARGS must be a JSON object.\n")
        return 2

    async def work(client: Any) -> Any:
        return await client.call_tool(args.tool, arguments)

    result = anyio.run(_with_client, work)
    if result.is_error:
        text = "".join(getattr(c, "text", "") for c in result.content)
        sys.stderr.write(scrub(text) + "\n")
        return 1
    if result.structured_content is not None:
        print(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    else:
        print("".join(getattr(c, "text", "") for c in result.content))
    return 0


# What a provider needs beyond the variables that enable it (ProviderSpec.required_env).
ALSO_NEEDS = {
    "dingtalk": " and DINGTALK_OPERATOR_ID (the unionId the server acts as) or DINGTALK_USER_ID",
}
OPTIONAL = {
    "dingtalk": "DINGTALK_BASE_ID (a default base)",
    "feishu": "FEISHU_DOMAIN (feishu, lark or a URL), FEISHU_APP_TOKEN (a default base)",
    "gptbots": "GPTBOTS_ENDPOINT (sg, jp, th or a URL), GPTBOTS_AGENT_ID (needed by list_tables)",
}


def cmd_doctor(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    settings = _settings()
    from anytable.core.service import Anytable

    try:
        svc = Anytable(settings)
    except AnytableError as exc:
        print(f"configuration error: {scrub(str(exc))}")
        return 1
    print(f"anytable {__version__}; time zone {svc.tz}; read-only: {'yes' if settings.read_only else 'no'}")
    failed = False

    async def check(pid: str) -> str:
        if pid == "dingtalk" and not (settings.dingtalk_operator_id or settings.dingtalk_user_id):
            raise ConfigError(
                "no operator: set DINGTALK_OPERATOR_ID (the unionId the server acts as) or DINGTALK_USER_ID"
            )
        if pid == "local" and not settings.local_db_path().exists():
            return _local_not_yet(settings.local_db_path())
        with anyio.fail_after(30):
            return await svc.providers[pid].check()

    async def check_all() -> None:
        nonlocal failed
        try:
            for pid, spec in svc.specs.items():
                provider = svc.providers.get(pid)
                optional = f"; optional: {OPTIONAL[pid]}" if pid in OPTIONAL else ""
                if provider is None:
                    needs = ", ".join(spec.required_env) + ALSO_NEEDS.get(pid, "")
                    print(f"- {pid}: not enabled (to enable, set {needs}{optional})")
                    continue
                creds = ", ".join(f"{k}={v}" for k, v in spec.masked_credentials(svc.settings).items())
                creds = f" [{creds}]" if creds else ""
                try:
                    print(f"- {pid}: ok: {await check(pid)}{creds}")
                except Exception as exc:  # doctor reports every failure and goes on
                    failed = True
                    print(f"- {pid}: FAILED: {scrub(str(exc))}{creds}")
        finally:
            with anyio.CancelScope(shield=True):
                await svc.aclose()

    anyio.run(check_all)
    return 1 if failed else 0


def _local_not_yet(path: Path) -> str:
    """The local store before its first write: doctor does not create the file."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    writable = os.access(parent, os.W_OK)
    return f"SQLite file {path} does not exist yet; it is made on the first write" + (
        "" if writable else f" (but {parent} is not writable: set ANYTABLE_LOCAL_PATH)"
    )


def _feishu_identity(settings: Settings, command: str) -> Any:
    if not (settings.feishu_app_id and settings.feishu_app_secret):
        sys.stderr.write(
            f"anytable {command} feishu: set FEISHU_APP_ID and FEISHU_APP_SECRET (the app users sign in to) "
            "as for `anytable serve`.\n"
        )
        raise SystemExit(2)
    from anytable.providers.feishu.identity import user_identity

    try:
        return user_identity(settings)
    except AnytableError as exc:
        sys.stderr.write(f"anytable {command}: {scrub(str(exc))}\n")
        raise SystemExit(2) from None


def cmd_login(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    settings = _settings()
    import webbrowser

    from anytable.providers.feishu.login import login, redirect_port

    user = _feishu_identity(settings, "login")

    def say(text: str) -> None:
        print(text, flush=True)

    async def run() -> Any:
        try:
            port = args.port if args.port is not None else redirect_port(settings.feishu_redirect_port)
            return await login(
                user,
                port=port,
                timeout=args.timeout,
                scope=args.scope,
                open_browser=None if args.no_browser else webbrowser.open,
                say=say,
            )
        finally:
            await user.oauth.aclose()

    try:
        session = anyio.run(run)
    except AnytableError as exc:
        sys.stderr.write(f"anytable login: {scrub(str(exc))}\n")
        return 1
    print(f"Signed in to Feishu: {session.describe()}. Kept in {user.store.where}.")
    if (settings.feishu_auth or "auto").lower() == "tenant":
        print(
            "FEISHU_AUTH=tenant: the server still acts as the app; set FEISHU_AUTH=auto or user to act as you."
        )
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    user = _feishu_identity(_settings(), "logout")
    try:
        removed = user.forget()
    except AnytableError as exc:
        sys.stderr.write(f"anytable logout: {scrub(str(exc))}\n")
        return 1
    if removed:
        print(
            f"Signed out of Feishu: the sign-in of app {user.oauth.app_id} was removed from {user.store.where}."
        )
    else:
        print(f"Nobody was signed in to Feishu for app {user.oauth.app_id} ({user.store.where}).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anytable", description="MCP server for AI tables.")
    parser.add_argument("--version", action="version", version=f"anytable {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--stateless",
        action="store_true",
        help="HTTP: keep no session in the process, so that replicas behind a load balancer can share clients",
    )
    tools = sub.add_parser("tools", help="print the tool list")
    tools.add_argument("--json", action="store_true", help="the full tools/list answer as JSON")
    call = sub.add_parser("call", help="run one tool in-process and print its result")
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object")
    sub.add_parser("doctor", help="check each provider's configuration (secrets masked)")
    login = sub.add_parser("login", help="sign in to Feishu/Lark in the browser, to act as yourself")
    login.add_argument("provider", choices=["feishu"])
    login.add_argument(
        "--port", type=int, default=None, help="redirect port (default FEISHU_REDIRECT_PORT, 3000)"
    )
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser")
    login.add_argument("--no-browser", action="store_true", help="only print the link to open")
    login.add_argument(
        "--scope", default="bitable:app offline_access", help="scopes to ask for (space separated)"
    )
    logout = sub.add_parser("logout", help="forget the stored Feishu/Lark sign-in")
    logout.add_argument("provider", choices=["feishu"])
    args = parser.parse_args(argv)
    commands = {
        "serve": cmd_serve,
        "tools": cmd_tools,
        "call": cmd_call,
        "doctor": cmd_doctor,
        "login": cmd_login,
        "logout": cmd_logout,
    }
    if args.command is None:
        args = parser.parse_args(["serve", *(argv or [])])
    try:
        return commands[args.command](args)
    except BrokenPipeError:  # the reader went away (anytable doctor | head -1): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit-time flush does not fail again
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
