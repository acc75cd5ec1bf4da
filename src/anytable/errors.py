"""Errors that become tool errors.

Every failure the user can act on is an :class:`AnytableError` whose message says what went
wrong and what to do, in terms of the tool's arguments. Provider failures carry the provider's
own code and request id, appended for support. Anything else is a bug and is reported as such,
without a traceback.
"""

from __future__ import annotations


class AnytableError(Exception):
    """Base class: ``str(error)`` is the complete message shown to the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(AnytableError):
    """The arguments are wrong: nothing was changed."""


class NotFoundError(AnytableError):
    """A base, table, field, view or record does not exist."""


class NotSupportedError(AnytableError):
    """The provider cannot do this at all."""


class ConfigError(AnytableError):
    """The server is not configured for this (missing credentials, bad variable)."""


class ReadOnlyError(AnytableError):
    """A write was attempted while ANYTABLE_READ_ONLY=1."""


class ProviderError(AnytableError):
    """The provider answered with an error (or did not answer).

    ``kind`` drives the retry policy:
    - ``auth``: the access token is invalid or expired; fetch a new one and retry once.
    - ``throttle``: rate limited before the request was processed; wait ``retry_after`` and retry.
    - ``transient``: a server-side failure that is safe to retry (nothing was applied, or the
      request is idempotent).
    - ``unknown_outcome``: the request may or may not have been applied (lost response).
    - ``fatal``: retrying will not help; the message says what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "fatal",
        provider: str = "",
        code: str | int | None = None,
        request_id: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.provider = provider
        self.code = code
        self.request_id = request_id
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        extra = []
        if self.code not in (None, ""):
            extra.append(f"code {self.code}")
        if self.request_id:
            extra.append(f"request id {self.request_id}")
        if not extra:
            return self.message
        return f"{self.message} ({self.provider} {', '.join(extra)})".replace("( ", "(")


class PartialWriteError(AnytableError):
    """A bulk write stopped part-way: some batches were applied, the rest were not."""

    def __init__(self, message: str, *, done: int, ids: list[str | None] | None = None) -> None:
        super().__init__(message)
        self.done = done
        self.ids = ids or []
