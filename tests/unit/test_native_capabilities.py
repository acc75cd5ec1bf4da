"""What list_providers says runs natively agrees with what each provider implements."""

from __future__ import annotations

from anytable.providers.base import Provider
from anytable.providers.registry import PROVIDER_MODULES, provider_specs

HOOKS = {"aggregate": "aggregate", "write_where": "write_where", "upsert": "find_keys"}


def test_declared_native_operations_match_the_methods() -> None:
    specs = provider_specs()
    assert set(specs) == set(PROVIDER_MODULES)
    for pid, spec in specs.items():
        declared = set(spec.capabilities.native)
        provider_cls = next(c for c in Provider.__subclasses__() if c.id == pid)
        for name, method in HOOKS.items():
            overridden = getattr(provider_cls, method) is not getattr(Provider, method)
            assert (name in declared) is overridden, f"{pid}: native {name!r} vs {method}()"
        assert ("count" in declared) is provider_cls.limits.page_total, pid
