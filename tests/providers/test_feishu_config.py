"""Feishu configuration: domains (feishu, lark, a base URL), base links, user id types, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from anytable.config import Settings
from anytable.errors import ConfigError, InputError
from anytable.providers.feishu import FeishuProvider
from anytable.providers.feishu.urls import api_base_url, parse_url
from tests.emulators.base import EmulatorTransport
from tests.harness import serve
from tests.providers.feishu_harness import APP_SECRET, APP_TOKEN, Recorder, direct, emulator, env

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        (None, "https://open.feishu.cn"),
        ("feishu", "https://open.feishu.cn"),
        ("Feishu", "https://open.feishu.cn"),
        ("lark", "https://open.larksuite.com"),
        ("open.larksuite.com", "https://open.larksuite.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("https://open.example.com/", "https://open.example.com"),
        ("https://proxy.example.com/feishu/open-apis", "https://proxy.example.com/feishu"),
        ("open.feishu.example.cn", "https://open.feishu.example.cn"),
    ],
)
def test_domain_selects_the_api_host(domain: str | None, url: str) -> None:
    assert api_base_url(domain) == url


@pytest.mark.parametrize("domain", ["feishu lark", "ftp://x", "https://"])
def test_a_bad_domain_says_what_fits(domain: str) -> None:
    with pytest.raises(ConfigError) as info:
        api_base_url(domain)
    assert "FEISHU_DOMAIN" in str(info.value) and "lark" in str(info.value)


@pytest.mark.parametrize(
    ("domain", "host", "prefix"),
    [
        ("feishu", "open.feishu.cn", ""),
        ("lark", "open.larksuite.com", ""),
        ("https://bitable.corp.example:8443", "bitable.corp.example", ""),
    ],
)
async def test_requests_go_to_the_chosen_host(tmp_path: Path, domain: str, host: str, prefix: str) -> None:
    emu = emulator()
    recorder = Recorder(emu)
    settings = Settings.from_env({**env(FEISHU_DOMAIN=domain), "ANYTABLE_LOCAL_PATH": str(tmp_path / "l.db")})
    provider = FeishuProvider.from_settings(settings, EmulatorTransport(recorder))  # type: ignore[arg-type]
    try:
        tables = await provider.list_tables(APP_TOKEN)
    finally:
        await provider.aclose()
    assert [t.name for t in tables] == ["Sheet1"]
    assert {e.url.host for e in recorder.exchanges} == {host}
    assert [e.path for e in recorder.exchanges] == [
        f"{prefix}/open-apis/auth/v3/tenant_access_token/internal",
        f"{prefix}/open-apis/bitable/v1/apps/{APP_TOKEN}/tables",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.feishu.cn/base/bascnAbCdEf123456", ("bascnAbCdEf123456", None, None)),
        (
            "https://acme.feishu.cn/base/bascnAbCdEf123456?table=tblXyZ123&view=vewQ1w2e3r",
            ("bascnAbCdEf123456", "tblXyZ123", "vewQ1w2e3r"),
        ),
        (
            "https://acme.larksuite.com/base/AbCdEf123456?table=tbl1&from=share",
            ("AbCdEf123456", "tbl1", None),
        ),
        ("https://x.larkoffice.com/base/AbCdEf123456/?view=vew9", ("AbCdEf123456", None, "vew9")),
        (
            "https://test-sasdfsfsd.feishu-boe.cn/base/basbcq2aFvW8nFJpfOXa1111111",
            ("basbcq2aFvW8nFJpfOXa1111111", None, None),
        ),
        ("https://alidocs.dingtalk.com/i/nodes/abc", None),
        ("https://example.com/base/AbCdEf123456", None),
    ],
)
def test_base_links(url: str, expected: tuple[str, str | None, str | None] | None) -> None:
    assert parse_url(url) == expected
    assert FeishuProvider.parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "must_say"),
    [
        ("https://acme.feishu.cn/wiki/wikcnAbCdEf123456", ["wiki", "/base/"]),
        ("https://acme.feishu.cn/share/base/shrcnCy1KAlpahNotmhRn1abcde", ["share link", "/base/"]),
        ("https://acme.feishu.cn/docx/doxcnAbCdEf123456", ["does not name a base", "/base/"]),
    ],
)
def test_links_that_name_no_base_say_which_link_to_use(url: str, must_say: list[str]) -> None:
    with pytest.raises(InputError) as info:
        parse_url(url)
    for words in must_say:
        assert words in str(info.value)


async def test_a_base_link_addresses_base_table_and_view(tmp_path: Path) -> None:
    emu = emulator()
    table_id = emu.add_table(APP_TOKEN, "Tasks", fields=[{"field_name": "Title", "type": 1}], records=[])
    view_id = next(iter(emu.table(APP_TOKEN, table_id).views))
    env_no_default = {k: v for k, v in env().items() if k != "FEISHU_APP_TOKEN"}
    async with serve("feishu", env_no_default, tmp_path, emulator=emu) as h:
        link = f"https://acme.feishu.cn/base/{APP_TOKEN}?table={table_id}&view={view_id}"
        await h.call("create_records", base=link, records=[{"Title": "from a link"}])
        page = await h.call("query_records", base=link)
        assert [r["fields"] for r in page["records"]] == [{"Title": "from a link"}]
        described = await h.call(
            "describe_table", base=f"https://acme.larksuite.com/base/{APP_TOKEN}", table="Tasks"
        )
        assert described["id"] == table_id and described["views"][0]["id"] == view_id
        message = await h.fails("list_tables", base="https://acme.feishu.cn/wiki/wikcnAbCdEf123456")
        assert "wiki" in message and "/base/" in message
        message = await h.fails("list_tables")
        assert "base" in message and "FEISHU_APP_TOKEN" in message


def test_user_id_type_is_checked() -> None:
    settings = Settings.from_env({**env(FEISHU_USER_ID_TYPE="email")})
    with pytest.raises(ConfigError) as info:
        FeishuProvider.from_settings(settings)
    assert "open_id" in str(info.value) and "union_id" in str(info.value)


async def test_list_providers_masks_the_secret(tmp_path: Path) -> None:
    async with serve("feishu", env(), tmp_path, emulator=emulator()) as h:
        result = await h.client.call_tool("list_providers", {})
        providers = result.structured_content["providers"]
    feishu = next(p for p in providers if p["id"] == "feishu")
    assert feishu["enabled"] is True
    assert feishu["credentials"]["FEISHU_APP_SECRET"] == APP_SECRET[:4] + "****"
    assert APP_SECRET not in str(providers)
    assert feishu["capabilities"]["views"] is True
    assert "phone" in feishu["capabilities"]["field_types"]


def test_disabled_without_both_credentials() -> None:
    assert not FeishuProvider.enabled(Settings.from_env({"FEISHU_APP_ID": "cli_x"}))
    assert FeishuProvider.enabled(Settings.from_env(env()))
    masked = FeishuProvider.masked_credentials(Settings.from_env(env()))
    assert masked["FEISHU_APP_SECRET"] == APP_SECRET[:4] + "****"


async def test_doctor_check_fetches_a_token_and_counts_the_tables() -> None:
    emu = emulator()
    provider, _ = direct(emu)
    line = await provider.check()
    await provider.aclose()
    assert "tenant_access_token" in line and f"base {APP_TOKEN} has 1 tables" in line
    assert APP_SECRET not in line


def test_unconfigured_credentials_say_not_set_like_every_provider() -> None:
    from anytable.providers.gptbots.provider import GPTBotsProvider

    shown = FeishuProvider.masked_credentials(Settings.from_env({}))
    assert shown["FEISHU_APP_ID"] == shown["FEISHU_APP_SECRET"] == "not set"
    assert GPTBotsProvider.masked_credentials(Settings.from_env({}))["GPTBOTS_API_KEY"] == "not set"
