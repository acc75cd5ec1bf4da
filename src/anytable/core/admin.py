"""A provider's own administration tool group (``feishu_read``, ``feishu_update``,
``feishu_delete``): the address (that provider's bases only), the table's schema where the action
needs one, then ``Provider.administer``. The tools are one-line calls into :func:`administer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anytable.core.addressing import Address
from anytable.errors import InputError

if TYPE_CHECKING:
    from anytable.core.service import Anytable


def owned_address(
    svc: Anytable, tool: str, owner: str, provider: str | None, base: str | None, table: str | None
) -> Address:
    """The address of the arguments, on provider ``owner`` only; anything else is refused plainly."""
    title = svc.specs[owner].title
    if provider is not None and provider != owner:
        raise InputError(f"{tool} manages {title} bases only: leave provider out (or pass {owner!r}).")
    if base and base.strip().lower().startswith(("http://", "https://")):
        for pid, spec in svc.specs.items():
            if pid != owner and spec.parse_url(base.strip()) is not None:
                raise InputError(f"{tool} manages {title} bases only; base is a {spec.title} link.")
    return svc.address(owner, base, table)


async def administer(
    svc: Anytable,
    tool: str,
    owner: str,
    action: str,
    *,
    provider: str | None,
    base: str | None,
    table: str | None = None,
    changes: bool,
    **args: Any,
) -> dict[str, Any]:
    """Run ``action`` of provider ``owner``'s tool group. ``changes``: the action may change the
    table (its cached schema is dropped afterwards)."""
    addr = owned_address(svc, tool, owner, provider, base, table)
    needs_table = addr.provider.admin_needs_table(action)
    schema = await svc.schema(addr, fresh=True) if needs_table else None
    if "view" in args and args["view"] is None:
        args["view"] = addr.view  # a view named by the share URL
    try:
        return await addr.provider.administer(addr.base, action, schema, args, svc.tz)
    finally:
        if schema is not None and changes:
            svc.forget(addr, schema.id)
