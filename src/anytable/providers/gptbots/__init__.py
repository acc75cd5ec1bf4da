"""The ``gptbots`` provider: a GPTBots agent's database (enabled by GPTBOTS_API_KEY).

``provider`` (the Provider), ``api`` (endpoints, one call path), ``errors``, ``values`` (with the
field types), ``filters``; the import flow of writes in ``imports``, page scans in ``pages``, the
unique-value index in ``uniques``.
"""

from __future__ import annotations

from anytable.providers.gptbots.provider import GPTBotsProvider

__all__ = ["GPTBotsProvider"]
