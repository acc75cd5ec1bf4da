"""Checking what `anytable serve --transport http` is asked for, before anything starts."""

from __future__ import annotations

import pytest

from anytable.config import Settings
from anytable.errors import ConfigError
from anytable.masking import scrub
from anytable.server.http import allowed_hosts, http_options, is_loopback

TOKEN = "a-long-enough-token-123"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    assert http_options(Settings(), host, 8000, False).token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "tables.example.com"])
def test_any_other_address_needs_a_token(host: str) -> None:
    with pytest.raises(ConfigError, match="ANYTABLE_HTTP_TOKEN"):
        http_options(Settings(), host, 8000, False)
    assert http_options(Settings(http_token=TOKEN), host, 8000, False).token == TOKEN


def test_the_token_is_a_secret_and_not_too_short() -> None:
    Settings(http_token=TOKEN)
    assert TOKEN not in scrub(f"Authorization: Bearer {TOKEN}") and "a-lo****" in scrub(TOKEN)
    with pytest.raises(ConfigError, match="too short"):
        http_options(Settings(http_token="short-token"), "127.0.0.1", 8000, False)


def test_allowed_hosts_are_loopback_the_bind_address_and_the_added_names() -> None:
    settings = Settings(http_token=TOKEN, allowed_hosts="tables.example.com, api.example.com:8443")
    hosts = allowed_hosts(http_options(settings, "10.1.2.3", 8000, True))
    assert hosts == [
        "127.0.0.1",
        "127.0.0.1:*",
        "localhost",
        "localhost:*",
        "[::1]",
        "[::1]:*",
        "10.1.2.3",
        "10.1.2.3:*",
        "tables.example.com",
        "tables.example.com:*",
        "api.example.com:8443",
    ]
    assert "0.0.0.0" not in allowed_hosts(http_options(settings, "0.0.0.0", 8000, False))
    with pytest.raises(ConfigError, match="ANYTABLE_ALLOWED_HOSTS"):
        http_options(Settings(allowed_hosts="https://x.example.com/"), "127.0.0.1", 8000, False)


def test_unfilled_bundle_placeholders_are_unset() -> None:
    settings = Settings.from_env(
        {"FEISHU_APP_ID": "${user_config.feishu_app_id}", "ANYTABLE_READ_ONLY": "${user_config.read_only}"}
    )
    assert settings.feishu_app_id is None and settings.read_only is False
