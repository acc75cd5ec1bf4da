from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anytable.masking import SECRETS
from tests.harness import HARNESSES, Harness

# Provider harness modules register themselves in HARNESSES when imported.
for _module in (
    "tests.providers.dingtalk_harness",
    "tests.providers.feishu_harness",
    "tests.providers.feishu_user_harness",
    "tests.providers.gptbots_harness",
):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:
        if not (exc.name and _module.startswith(exc.name)):
            raise


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _fresh_secrets() -> None:
    SECRETS.clear()


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-ins go to a temporary config directory, never the real user's (nor their keychain)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("ANYTABLE_TOKEN_STORE", "file")


@pytest.fixture(params=sorted(HARNESSES))
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """The contract suite's harness: one run per provider (local and each emulator)."""
    async with HARNESSES[request.param](tmp_path) as harness:
        yield harness
