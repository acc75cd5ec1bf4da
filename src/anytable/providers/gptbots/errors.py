"""Reading GPTBots answers: with or without the ``{code, message, data}`` envelope, and every
documented error code as a message that says what to do.

Sources: docs/provider-api-notes.md §3 (codes 40000, 50000, 403100-403111, 403106, 403131; "some newer
pages show bare bodies without the envelope", so both are read). HTTP statuses are undocumented:
the code in the body decides when there is one; otherwise 401/403 mean the key was refused, 429
throttling, 503 "try again", and another 5xx (or an answer that is not JSON) an unknown outcome.
"""

from __future__ import annotations

from typing import Any

import httpx

from anytable.errors import ProviderError
from anytable.providers.gptbots.fields import NAME_RULE as _NAME_RULE
from anytable.providers.http import json_body

PROVIDER = "gptbots"

PARAM_ERROR = 40000
INTERNAL = 50000
BAD_TABLE_NAME = 403100
BAD_TABLE_DESCRIPTION = 403101
BAD_FIELD_COUNT = 403102
BAD_FIELD_NAME = 403103
BAD_FIELD_DESCRIPTION = 403104
BAD_FIELD_TYPE = 403105
TABLE_NOT_FOUND = 403106
TABLE_NAME_EXISTS = 403108
TOO_MANY_FIELDS = 403111
NO_PERMISSION = 403131


# What each documented code means for the caller, and what to do (kind, message).
MESSAGES: dict[int, tuple[str, str]] = {
    PARAM_ERROR: (
        "fatal",
        "GPTBots refused the request's parameters. Check the arguments (table, field names, values); if "
        "they look right, GPTBots' limits may have changed: report it with the code below.",
    ),
    INTERNAL: (
        "transient",
        "GPTBots had an internal error. Wait a little and call the tool again.",
    ),
    BAD_TABLE_NAME: (
        "fatal",
        f"GPTBots refused the table name: it must be {_NAME_RULE}. Pass such a name.",
    ),
    BAD_TABLE_DESCRIPTION: (
        "fatal",
        "GPTBots refused the table description (required, at most 128 characters). anytable writes the "
        "table name there: use a shorter table name.",
    ),
    BAD_FIELD_COUNT: (
        "fatal",
        'GPTBots refused the number of fields: a table needs at least one, e.g. fields=[{"name": "title", '
        '"type": "text"}], and at most GPTBots\' limit.',
    ),
    BAD_FIELD_NAME: (
        "fatal",
        f"GPTBots refused a field name: each must be {_NAME_RULE}, and unique in the table. Rename the "
        "field in fields.",
    ),
    BAD_FIELD_DESCRIPTION: (
        "fatal",
        "GPTBots refused a field description (required, at most 128 characters). anytable writes the "
        "field name there: use shorter field names.",
    ),
    BAD_FIELD_TYPE: (
        "fatal",
        "GPTBots refused a field type: its fields are TEXT, INT, FLOAT, DATETIME and BOOLEAN; in fields use "
        "type text, number, date or checkbox.",
    ),
    TABLE_NOT_FOUND: (
        "fatal",
        "GPTBots has no such table (it may have been deleted in GPTBots). list_tables shows the tables there "
        "are; pass one of them as table.",
    ),
    TABLE_NAME_EXISTS: (
        "fatal",
        "A table with this name already exists in the agent: pick another name (list_tables shows them).",
    ),
    TOO_MANY_FIELDS: (
        "fatal",
        "GPTBots refused the table: it has more fields than GPTBots allows. Pass fewer fields.",
    ),
    NO_PERMISSION: (
        "fatal",
        "GPTBots says that table (or agent id) belongs to another agent than the one GPTBOTS_API_KEY is for: "
        "a key belongs to one agent. Use a table of that agent, set GPTBOTS_AGENT_ID (or base) to that "
        "agent's id, or configure the key of the agent that owns the table.",
    ),
}


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _request_id(response: httpx.Response) -> str | None:
    for header in ("x-request-id", "x-trace-id", "traceid", "request-id"):
        if header in response.headers:
            return response.headers[header]
    return None


def auth_message(masked_key: str) -> str:
    return (
        f"GPTBots refused the API key ({masked_key}): check GPTBOTS_API_KEY. It must be an API key of the "
        "agent (GPTBots: Agent > Integration > API > API Key) that still exists, and GPTBOTS_ENDPOINT must "
        "be the data centre of your organisation (sg, jp or th)."
    )


def error_for(
    code: int | None,
    message: str,
    *,
    status: int,
    masked_key: str,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    """The ProviderError for a GPTBots error answer (``code`` from the body, None if none)."""
    said = f" GPTBots said: {message.strip()}" if message and message.strip() else ""
    if code in MESSAGES:
        kind, text = MESSAGES[code]
        return ProviderError(
            text + said,
            kind=kind,
            provider=PROVIDER,
            code=code,
            request_id=request_id,
            status=status,
            retry_after=retry_after,
        )
    if status == 429 or (code is not None and 42900 <= code <= 42999):
        return ProviderError(
            "GPTBots is throttling requests." + said,
            kind="throttle",
            provider=PROVIDER,
            code=code,
            request_id=request_id,
            status=status,
            retry_after=retry_after,
        )
    if status == 401 or (code is not None and 40100 <= code <= 40199) or (status == 403 and code is None):
        return ProviderError(
            auth_message(masked_key),
            kind="auth",
            provider=PROVIDER,
            code=code,
            request_id=request_id,
            status=status,
        )
    if status == 503 or (code is not None and 50300 <= code <= 50399):
        kind = "transient"
    elif status >= 500 or (code is not None and code >= 50000 and code < 60000):
        kind = "unknown_outcome"
    else:
        kind = "fatal"
    text = {
        "transient": "GPTBots is unavailable for a moment.",
        "unknown_outcome": "GPTBots failed while answering.",
        "fatal": f"GPTBots refused the request (HTTP {status}).",
    }[kind]
    return ProviderError(
        text + said + ("" if kind != "fatal" else " Check the arguments; if they look right, report it."),
        kind=kind,
        provider=PROVIDER,
        code=code,
        request_id=request_id,
        status=status,
        retry_after=retry_after,
    )


def unwrap(response: httpx.Response, *, masked_key: str) -> Any:
    """The data of a good answer, in either shape; raises ProviderError for an error answer.

    Enveloped: ``{"code": 0, "message": "OK", "data": ...}`` gives ``data`` (or, when there is no
    ``data``, the body without code and message: e.g. the newer import-results form keeps
    ``progress`` beside ``data``). Bare: the body as it is (``{"tables": [...]}``, a list...).
    """
    status = response.status_code
    body = json_body(response)
    request_id = _request_id(response)
    if isinstance(body, dict) and "code" in body and _code(body["code"]) is not None:
        code = _code(body["code"])
        if code == 0:
            if "data" in body:
                return body["data"]
            return {k: v for k, v in body.items() if k not in ("code", "message", "msg")}
        message = body.get("message") or body.get("msg") or ""
        raise error_for(
            code,
            str(message),
            status=status,
            masked_key=masked_key,
            request_id=request_id,
            retry_after=_retry_after(response),
        )
    if status >= 400 or (body is None and response.content):
        message = ""
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("msg") or body.get("error") or "")
        if body is None and status < 400:
            status = 502  # a 2xx that is not JSON: something between us and GPTBots answered
        return _raise(
            error_for(
                None,
                message,
                status=status,
                masked_key=masked_key,
                request_id=request_id,
                retry_after=_retry_after(response),
            )
        )
    return body


def _raise(error: ProviderError) -> Any:
    raise error
