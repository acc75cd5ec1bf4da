"""From the tools' ``provider``, ``base`` and ``table`` arguments to one provider and one base.

Rules (docs/PRODUCT.md): ``provider`` is needed only when more than one provider is enabled and the
base does not say which. A share URL in ``base`` says which (and may name the table and view).
A base equal to exactly one provider's configured default base says which too.
"""

from __future__ import annotations

from dataclasses import dataclass

from anytable.errors import ConfigError, InputError
from anytable.providers.base import Provider

LOCAL_DEFAULT_BASE = "default"


@dataclass
class Address:
    provider: Provider
    base: str
    table: str | None = None  # from the arguments, or from a share URL
    view: str | None = None  # from a share URL


def _enable_hint(spec: type[Provider]) -> str:
    return f"set {' and '.join(spec.required_env)} in the server's environment"


def resolve_address(
    providers: dict[str, Provider],
    specs: dict[str, type[Provider]],
    *,
    provider: str | None,
    base: str | None,
    table: str | None,
    default_provider: str | None = None,
) -> Address:
    url_table: str | None = None
    url_view: str | None = None
    chosen: Provider | None = None
    if provider is not None and provider not in specs:
        raise InputError(f"provider {provider!r} is unknown; use one of {', '.join(specs)}.")
    if provider is not None and provider not in providers:
        raise ConfigError(f"provider {provider!r} is not enabled: {_enable_hint(specs[provider])}.")

    if base is not None:
        base = base.strip()
        if not base:
            base = None
    if base is not None and base.lower().startswith(("http://", "https://")):
        for pid, spec in specs.items():
            parsed = spec.parse_url(base)
            if parsed is None:
                continue
            if provider is not None and provider != pid:
                raise InputError(
                    f"base is a {spec.title} link but provider is {provider!r}; leave provider out."
                )
            if pid not in providers:
                raise ConfigError(
                    f"base is a {spec.title} link, but {pid} is not enabled: {_enable_hint(spec)}."
                )
            chosen = providers[pid]
            base, url_table, url_view = parsed
            break
        else:
            raise InputError(
                "base is a link anytable does not recognise; pass the base id instead, or a DingTalk "
                "(https://alidocs.dingtalk.com/i/nodes/<id>) or Feishu/Lark (https://x.feishu.cn/base/<app_token>) "
                "link."
            )

    if chosen is None:
        if provider is not None:
            chosen = providers[provider]
        elif default_provider:
            if default_provider not in providers:
                raise ConfigError(
                    f"ANYTABLE_PROVIDER={default_provider!r} names a provider that is not enabled; enabled: "
                    f"{', '.join(providers)}."
                )
            chosen = providers[default_provider]
        elif len(providers) == 1:
            chosen = next(iter(providers.values()))
        else:
            owners = [p for p in providers.values() if base is not None and p.default_base() == base]
            if len(owners) == 1:
                chosen = owners[0]
            else:
                raise InputError(
                    f"Several providers are enabled ({', '.join(providers)}): pass provider, e.g. "
                    f"provider={next(p for p in providers if p != 'local')!r}, or a share URL as base."
                )

    if base is None:
        base = chosen.default_base()
    if base is None:
        if not chosen.capabilities.bases:
            base = ""
        elif chosen.id == "local":
            base = LOCAL_DEFAULT_BASE
        else:
            hint = f", or set {chosen.base_env}" if chosen.base_env else ""
            raise InputError(f"base is needed for {chosen.title}: pass the base id or its share URL{hint}.")
    if table is not None:
        table = table.strip() or None
    return Address(chosen, base, table or url_table, url_view)
