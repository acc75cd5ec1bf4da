"""Configuration: environment variables (docs/PRODUCT.md), optionally completed by a TOML file.

The file named by ``ANYTABLE_CONFIG`` may hold the same variable names as keys
(``FEISHU_APP_ID = "cli_..."``); a variable set in the environment wins over the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from anytable.errors import ConfigError
from anytable.masking import SECRETS, url_password

ENV_VARS: dict[str, str] = {
    "DINGTALK_APP_KEY": "dingtalk_app_key",
    "DINGTALK_APP_SECRET": "dingtalk_app_secret",
    "DINGTALK_OPERATOR_ID": "dingtalk_operator_id",
    "DINGTALK_USER_ID": "dingtalk_user_id",
    "DINGTALK_BASE_ID": "dingtalk_base_id",
    "DINGTALK_API_URL": "dingtalk_api_url",
    "DINGTALK_OAPI_URL": "dingtalk_oapi_url",
    "FEISHU_APP_ID": "feishu_app_id",
    "FEISHU_APP_SECRET": "feishu_app_secret",
    "FEISHU_DOMAIN": "feishu_domain",
    "FEISHU_APP_TOKEN": "feishu_app_token",
    "FEISHU_USER_ID_TYPE": "feishu_user_id_type",
    "FEISHU_AUTH": "feishu_auth",
    "FEISHU_REDIRECT_PORT": "feishu_redirect_port",
    "GPTBOTS_API_KEY": "gptbots_api_key",
    "GPTBOTS_ENDPOINT": "gptbots_endpoint",
    "GPTBOTS_AGENT_ID": "gptbots_agent_id",
    "ANYTABLE_LOCAL_PATH": "local_path",
    "ANYTABLE_LOCAL_URL": "local_url",
    "ANYTABLE_LOCAL_POOL_SIZE": "local_pool_size",
    "ANYTABLE_READ_ONLY": "read_only",
    "ANYTABLE_TIMEZONE": "timezone",
    "ANYTABLE_PROVIDER": "default_provider",
    "ANYTABLE_LOG_LEVEL": "log_level",
    "ANYTABLE_CALL_TIMEOUT": "call_timeout",
    "ANYTABLE_FILE_ROOTS": "file_roots",
    "ANYTABLE_HTTP_TOKEN": "http_token",
    "ANYTABLE_ALLOWED_HOSTS": "allowed_hosts",
    "ANYTABLE_TOKEN_STORE": "token_store",
}

# A desktop host may pass a bundle's ``${user_config.x}`` through unfilled when the user left x empty.
_UNFILLED = re.compile(r"\$\{user_config\.[A-Za-z0-9_]+\}")

SECRET_VARS = (
    "DINGTALK_APP_SECRET",
    "FEISHU_APP_SECRET",
    "GPTBOTS_API_KEY",
    "ANYTABLE_HTTP_TOKEN",
    "ANYTABLE_LOCAL_URL",
)


class Settings(BaseModel):
    """Everything the server reads from its environment. Secrets are registered for masking."""

    model_config = ConfigDict(frozen=True)

    dingtalk_app_key: str | None = None
    dingtalk_app_secret: str | None = None
    dingtalk_operator_id: str | None = None
    dingtalk_user_id: str | None = None
    dingtalk_base_id: str | None = None
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"
    feishu_app_id: str | None = None
    feishu_app_secret: str | None = None
    feishu_domain: str = "feishu"
    feishu_app_token: str | None = None
    feishu_user_id_type: str = "open_id"
    feishu_auth: str = "auto"  # user | tenant | auto (the user's token when signed in)
    feishu_redirect_port: str = "3000"  # loopback port of `anytable login feishu`'s redirect URI
    gptbots_api_key: str | None = None
    gptbots_endpoint: str = "sg"
    gptbots_agent_id: str | None = None
    local_path: str | None = None
    local_url: str | None = None  # postgresql://user:password@host/db: the local store on PostgreSQL
    # connections each server keeps to that PostgreSQL store, at most. Small: two servers of 20
    # concurrent 500-record creates each wrote 15-20% more per second with 4 each than with 10 each
    # (every extra backend contends for the same table's pages and the same cores)
    local_pool_size: int = 4
    read_only: bool = False
    timezone: str | None = None
    default_provider: str | None = None
    log_level: str = "INFO"
    call_timeout: float = 300.0  # seconds one tool call may take, retries and waits included
    file_roots: str | None = None  # folders the file tools may use (an OS path list), without client roots
    http_token: str | None = None
    allowed_hosts: str | None = None  # comma-separated extra Host names for HTTP serving
    token_store: str | None = None  # keyring | file | a file path (default: keyring if usable, else file)

    def model_post_init(self, __context: Any) -> None:
        SECRETS.add(
            self.dingtalk_app_secret,
            self.feishu_app_secret,
            self.gptbots_api_key,
            url_password(self.local_url),
            self.http_token,
        )
        SECRETS.add_basic(self.dingtalk_app_key, self.dingtalk_app_secret)
        SECRETS.add_basic(self.feishu_app_id, self.feishu_app_secret)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        config_path = env.get("ANYTABLE_CONFIG")
        if config_path:
            values.update(_read_config_file(Path(config_path).expanduser()))
        for var, attr in ENV_VARS.items():
            raw = env.get(var)
            if raw is not None and raw.strip() != "" and not _UNFILLED.fullmatch(raw.strip()):
                values[attr] = raw.strip()
        if "call_timeout" in values:
            try:
                values["call_timeout"] = float(values["call_timeout"])
                if not 0 < values["call_timeout"] <= 86_400:
                    raise ValueError
            except ValueError:
                raise ConfigError(
                    f"ANYTABLE_CALL_TIMEOUT={values['call_timeout']!r} is not a number of seconds from 1 to 86400."
                ) from None
        if "local_pool_size" in values:
            values["local_pool_size"] = _pool_size(values["local_pool_size"])
        if "read_only" in values:
            values["read_only"] = str(values["read_only"]).lower() in ("1", "true", "yes", "on")
        return cls(**values)

    def tz(self) -> tzinfo:
        return resolve_timezone(self.timezone)

    def local_db_path(self) -> Path:
        if self.local_path:
            return Path(self.local_path).expanduser()
        from platformdirs import user_data_dir

        return Path(user_data_dir("anytable", appauthor=False)) / "anytable.sqlite"


MAX_POOL_SIZE = 1000


def _pool_size(raw: Any) -> int:
    try:
        size = int(str(raw))
        if not 1 <= size <= MAX_POOL_SIZE:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"ANYTABLE_LOCAL_POOL_SIZE={raw!r} is not a whole number of connections from 1 to {MAX_POOL_SIZE} "
            "(default 4; the PostgreSQL server's max_connections must hold every server's pool)."
        ) from None
    return size


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"ANYTABLE_CONFIG names {path}, which does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ANYTABLE_CONFIG file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        attr = ENV_VARS.get(str(key).upper())
        if attr is None:
            known = ", ".join(sorted(ENV_VARS))
            raise ConfigError(f"Unknown key {key!r} in {path}; known keys: {known}.")
        values[attr] = value if isinstance(value, bool) else str(value)
    return values


def resolve_timezone(name: str | None) -> tzinfo:
    """ANYTABLE_TIMEZONE, else the system's zone (TZ, /etc/localtime), else the system's offset."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"ANYTABLE_TIMEZONE={name!r} is not an IANA time zone; use a name like 'Asia/Shanghai'."
            ) from None
    tz_env = os.environ.get("TZ", "").lstrip(":")
    candidates = [tz_env] if tz_env else []
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    from datetime import datetime

    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local
