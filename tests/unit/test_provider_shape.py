"""Every provider has the same shape: a class that is its own descriptor, capabilities that match
the methods it implements, and a package with the same files for the same jobs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from anytable.config import ENV_VARS, SECRET_VARS, Settings
from anytable.providers.base import Provider
from anytable.providers.registry import build_providers, provider_classes

CLASSES = provider_classes()
REMOTE = [pid for pid, cls in CLASSES.items() if cls.open_world]
# capability entry -> the Provider method that implements it (the rest are abstract: always there)
OPTIONAL = {
    ("tables", "create"): "create_table",
    ("tables", "update"): "rename_table",
    ("tables", "delete"): "delete_table",
    ("fields", "create"): "create_field",
    ("fields", "update"): "update_field",
    ("fields", "delete"): "delete_field",
}
VIEW_METHODS = ("create_view", "delete_view")
# what list_providers says runs natively (capabilities.native) -> the fast-path method
NATIVE = {"aggregate": "aggregate", "write_where": "write_where", "upsert": "find_keys"}
SECRET = "s3cr3t-value-never-shown"


def overrides(cls: type[Provider], method: str) -> bool:
    """Whether ``cls`` (or a class between it and Provider) defines ``method`` itself."""
    return next(k for k in cls.__mro__ if method in vars(k)) is not Provider


def test_the_four_providers_are_there() -> None:
    assert set(CLASSES) == {"local", "dingtalk", "feishu", "gptbots"}
    for pid, cls in CLASSES.items():
        assert cls.id == pid and cls.title


@pytest.mark.parametrize("pid", sorted(CLASSES))
def test_declared_capabilities_are_the_implemented_methods(pid: str) -> None:
    cls = CLASSES[pid]
    caps = cls.capabilities
    for (group, op), method in OPTIONAL.items():
        declared = op in getattr(caps, group)
        assert declared == overrides(cls, method), f"{pid}: {group}.{op} declared={declared}, {method}"
    for method in VIEW_METHODS:
        assert caps.views == overrides(cls, method), f"{pid}: views={caps.views} but {method}"
    assert set(caps.tables) <= {"list", "describe", "create", "update", "delete"}
    assert {"list", "describe"} <= set(caps.tables)
    assert set(caps.records) == {"query", "get", "create", "update", "delete"}
    assert set(caps.attachments) in (set(), {"upload", "download"})
    for method in ("upload_file", "read_file"):
        assert bool(caps.attachments) == overrides(cls, method), f"{pid}: attachments but {method}"
    for name, method in NATIVE.items():
        assert (name in caps.native) == overrides(cls, method), f"{pid}: native {name!r} vs {method}"
    assert ("count" in caps.native) == cls.limits.page_total, f"{pid}: native count vs limits.page_total"
    assert set(caps.native) <= {*NATIVE, "count"}


@pytest.mark.parametrize("pid", sorted(CLASSES))
def test_the_class_says_how_it_is_enabled_built_and_shown(pid: str, tmp_path: Path) -> None:
    cls = CLASSES[pid]
    base = {"ANYTABLE_LOCAL_PATH": str(tmp_path / "l.sqlite")}
    assert cls.enabled(Settings.from_env(base)) == (not cls.required_env)
    env = {**base, **{var: SECRET if var in SECRET_VARS else "app-id" for var in cls.required_env}}
    settings = Settings.from_env(env)
    assert cls.enabled(settings)
    for var in cls.required_env:  # every required variable is needed
        assert var in ENV_VARS
        assert not cls.enabled(Settings.from_env({k: v for k, v in env.items() if k != var}))
    shown = cls.masked_credentials(settings)
    assert SECRET not in repr(shown)
    assert shown == cls.masked_credentials(settings)  # one function, whatever the state
    provider = cls.from_settings(settings, httpx.MockTransport(lambda request: httpx.Response(500)))
    assert isinstance(provider, cls)
    built = build_providers(settings, lambda _: httpx.MockTransport(lambda request: httpx.Response(500)))
    assert type(built[pid]) is cls


@pytest.mark.parametrize("pid", REMOTE)
def test_remote_packages_have_the_same_files(pid: str) -> None:
    spec = importlib.util.find_spec(f"anytable.providers.{pid}")
    assert spec is not None and spec.submodule_search_locations
    files = {p.name for p in Path(next(iter(spec.submodule_search_locations))).glob("*.py")}
    assert {"provider.py", "api.py", "errors.py", "values.py", "filters.py"} <= files, files
    assert ("urls.py" in files) == overrides(CLASSES[pid], "parse_url")
    assert "fields.py" in files  # field types and shapes, native <-> contract


@pytest.mark.parametrize("pid", sorted(CLASSES))
def test_a_provider_brings_an_admin_toolset_only_with_administer(pid: str) -> None:
    cls = CLASSES[pid]
    own = [name for name in cls.toolsets() if name != "views"]
    assert ("views" in cls.toolsets()) == cls.capabilities.views
    assert bool(own) == overrides(cls, "administer") == overrides(cls, "admin_needs_table")
