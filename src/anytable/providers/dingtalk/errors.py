"""Reading DingTalk answers: the data of a good one, or a ProviderError that says what to do.

api.dingtalk.com answers an error with HTTP >= 400 and ``{"code", "message", "requestid"}``
(docs/provider-api-notes.md §1.2 [SDK]); the codes are those of the notable pages' error tables
(docs/reference/dingtalk-notable-insert-records.txt, -list-records.txt) and §1.2/§1.3 of the notes.
oapi.dingtalk.com (the legacy host, used only to look a userId up) answers HTTP 200 with
``{"errcode", "errmsg"}``, errcode 0 meaning success.

Which ``kind`` (anytable.errors) each answer gets decides what ``ApiClient`` does with it:

- an invalid or expired access token (HTTP 401, or 400 ``InvalidAuthentication`` as the gateway
  answers in practice [3P]): ``auth``, fetch a new token once;
- ``Forbidden.AccessDenied.QpsLimit*`` (403) and HTTP 429: ``throttle``; the gateway refuses before
  the request runs, so it is sent again after the wait DingTalk recommends (1 s, §1.3);
- ``invalidRequest.document.stillInitializing`` / ``invalidRequest.dataNotReady``: ``transient``;
- ``internalError`` / ``unknownError`` (500), ``service.timeout`` (504), other 5xx: ``transient`` on a
  read; on a write the change may or may not have happened: ``unknown_outcome``;
- ``invalidRequest.duplicateClientToken`` (409) on an insert: ``unknown_outcome`` (the batch was
  sent before: the insert reconciles by its clientToken);
- everything else: ``fatal``, with a message in terms of the tool's arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from anytable.errors import ProviderError
from anytable.providers.http import json_body

PROVIDER = "dingtalk"
QPS_WAIT = 1.0  # seconds: "sleep 1 s on a QPS error" (docs/provider-api-notes.md §1.3)

NOT_FOUND = "invalidRequest.resource.notFound"
DOC_NOT_FOUND = "invalidRequest.document.notFound"
DUPLICATE_TOKEN = "invalidRequest.duplicateClientToken"
INVALID_ARGS = "invalidRequest.inputArgs.invalid"

WRITE_VALUES_HINT = (
    "check the values in records against describe_table (select values must be existing options, users "
    "unionIds of members of the base, links record ids of the linked table, attachments "
    '[{"url", "name"}])'
)
OPERATOR_HINT = (
    "DINGTALK_OPERATOR_ID must be the unionId of a DingTalk user (not a userId); or set DINGTALK_USER_ID to "
    "the userId and leave DINGTALK_OPERATOR_ID out, so that the unionId is looked up"
)


@dataclass(frozen=True)
class Call:
    """What a request is for, so that an error says what to do in the terms of the tool."""

    write: bool = False  # a change: a 5xx or a lost answer leaves its outcome unknown
    subject: str = "the request"  # what the call touches, e.g. "table 'Tasks'"
    invalid_hint: str = "check the tool's arguments"  # when DingTalk says the arguments are invalid
    not_found_hint: str = "list_tables and describe_table show what exists"
    base: str = ""
    insert: bool = False  # an insert carrying a clientToken


def _error(
    message: str, kind: str, code: Any, request_id: str | None, status: int, retry_after: float | None = None
) -> ProviderError:
    return ProviderError(
        message,
        kind=kind,
        provider=PROVIDER,
        code=code,
        request_id=request_id,
        status=status,
        retry_after=retry_after,
    )


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else QPS_WAIT
    except ValueError:
        return QPS_WAIT


def api_parser(call: Call) -> Callable[[httpx.Response], Any]:
    """The ``parse`` function of one api.dingtalk.com request."""

    def parse(response: httpx.Response) -> Any:
        body = json_body(response)
        status = response.status_code
        if status < 400:
            if isinstance(body, dict) and "punish" not in body:
                return body
            raise _unexpected(call, body, status)
        data = body if isinstance(body, dict) else {}
        code = str(data.get("code") or "") or None
        request_id = (
            data.get("requestid") or data.get("requestId") or response.headers.get("x-acs-request-id") or None
        )
        said = str(data.get("message") or "").strip()
        raise classify(call, status, code, said, request_id, response)

    return parse


def _unexpected(call: Call, body: Any, status: int) -> ProviderError:
    if isinstance(body, dict) and "punish" in body:
        return _error(
            "DingTalk blocked this machine's IP for sending too many requests (more than 10,000 in 20 s); wait "
            "5 minutes, then call the tool again.",
            "fatal",
            body.get("status"),
            None,
            status,
        )
    kind = "unknown_outcome" if call.write else "transient"
    return _error(
        f"DingTalk answered {call.subject} with something that is not its JSON (HTTP {status}); a proxy may be "
        "in the way (check DINGTALK_API_URL).",
        kind,
        None,
        None,
        status,
    )


def classify(
    call: Call,
    status: int,
    code: str | None,
    said: str,
    request_id: str | None,
    response: httpx.Response | None = None,
) -> ProviderError:
    """The ProviderError for an error answer of api.dingtalk.com."""
    c = code or ""
    detail = f" DingTalk says: {said.rstrip('.')}." if said else ""

    def err(message: str, kind: str = "fatal", retry_after: float | None = None) -> ProviderError:
        return _error(message, kind, code or status, request_id, status, retry_after)

    if status == 401 or c.startswith("InvalidAuthentication") or c == "InvalidAccessToken":
        return err(
            "DingTalk refused the access token (expired or invalid) even after a new one was fetched; check "
            "DINGTALK_APP_KEY and DINGTALK_APP_SECRET.",
            "auth",
        )
    if c.startswith("Forbidden.AccessDenied.QpsLimit") or status == 429:
        wait = _retry_after(response) if response is not None else QPS_WAIT
        return err(
            "DingTalk's rate limit (20 requests per second per app and API) was reached; another program may be "
            "using the same app.",
            "throttle",
            wait,
        )
    if c == "Forbidden.AccessDenied.ApiCountLimitForOrg":
        return err(
            "The organisation's monthly quota of DingTalk API calls is used up; calls work again next month, or "
            "after the organisation upgrades its DingTalk edition."
        )
    if c.startswith("Forbidden.AccessDenied"):
        return err(
            "The DingTalk app lacks the permission for this call: in the DingTalk developer console grant it "
            "Notable.Base.Read.All (reads) and Notable.Base.Write.All (writes), then call the tool again."
            + detail
        )
    if c == "forbidden.operationIllegal":
        return err(
            f"The operator (DINGTALK_OPERATOR_ID / DINGTALK_USER_ID) may not change {call.subject} in base "
            f"{call.base!r}: ask the base's owner to give that user edit rights, or pass a base they may edit."
            + detail
        )
    if c == "invalidRequest.document.typeIllegal":
        return err(
            f"base {call.base!r} is not a DingTalk AI table: pass the id of an AI table (the <baseId> in its link "
            "https://alidocs.dingtalk.com/i/nodes/<baseId>) or the link itself as base." + detail
        )
    if c == DOC_NOT_FOUND:
        return err(
            f"DingTalk finds no AI table {call.base!r} that this app and operator can see: check base (the "
            "<baseId> in https://alidocs.dingtalk.com/i/nodes/<baseId>, or pass that link), and that the "
            "operator (DINGTALK_OPERATOR_ID / DINGTALK_USER_ID) is a member of it."
        )
    if c == NOT_FOUND:
        return err(f"DingTalk finds no {call.subject}: {call.not_found_hint}." + detail)
    if c in ("invalidRequest.document.stillInitializing", "invalidRequest.dataNotReady"):
        return err(
            f"The AI table {call.base!r} is still being prepared by DingTalk; wait a few seconds and call the "
            "tool again.",
            "transient",
        )
    if c == "invalidRequest.document.broken":
        return err(
            f"DingTalk says the AI table {call.base!r} is damaged and cannot be used through the API; open it in "
            "DingTalk to repair it, or contact DingTalk support."
        )
    if c == DUPLICATE_TOKEN:
        if call.insert:
            return err("DingTalk has already received this batch of records.", "unknown_outcome")
        return err(f"DingTalk says {call.subject} was already sent once; check with query_records.")
    if c in ("MissingoperatorId", "paramError-operatorId") or "operatorId" in c:
        return err(f"DingTalk refused the operator: {OPERATOR_HINT}." + detail)
    if c == "InvalidAction.NotFound":
        return err(
            "DingTalk does not know this API address: check DINGTALK_API_URL (default https://api.dingtalk.com)."
        )
    if c == "invalidClientIdOrSecret" or c.startswith("InvalidAppKey") or c.startswith("InvalidAppSecret"):
        return err("DingTalk refused the app credentials: check DINGTALK_APP_KEY and DINGTALK_APP_SECRET.")
    if c == INVALID_ARGS or (c.startswith("Missing") and status == 400):
        return err(f"DingTalk refused {call.subject}: {call.invalid_hint}." + detail)
    if status >= 500:
        if call.write:
            return err(
                f"DingTalk had a server error on {call.subject} ({c or status}). DingTalk also answers this when "
                f"a value does not fit its field: {call.invalid_hint}.",
                "unknown_outcome",
            )
        return err(f"DingTalk had a server error on {call.subject} ({c or status}).", "transient")
    return err(f"DingTalk refused {call.subject} (HTTP {status}): {call.invalid_hint}." + detail)


# ------------------------------------------------------------------------------- legacy oapi

LEGACY_BAD_TOKEN = {40014, 42001, 40001}
LEGACY_THROTTLE = {90018, 90002, 90006}
LEGACY_BAD_CREDENTIALS = {40089, 40096, 40091, 40086}
LEGACY_NO_USER = {60121, 60011}


def legacy_parser(what: str) -> Callable[[httpx.Response], Any]:
    """The ``parse`` function of one oapi.dingtalk.com request (``what`` names it in messages)."""

    def parse(response: httpx.Response) -> Any:
        body = json_body(response)
        status = response.status_code
        if not isinstance(body, dict):
            kind = "transient" if status >= 500 or status < 400 else "fatal"
            raise _error(
                f"DingTalk's legacy API answered {what} with something that is not JSON (HTTP {status}); check "
                "DINGTALK_OAPI_URL (default https://oapi.dingtalk.com).",
                kind,
                None,
                None,
                status,
            )
        errcode = body.get("errcode", 0)
        request_id = body.get("request_id") or None
        if errcode in (0, "0") and status < 400:
            return body
        said = str(body.get("errmsg") or "")
        if errcode in LEGACY_THROTTLE:
            raise _error(
                f"DingTalk's rate limit was reached while {what}.",
                "throttle",
                errcode,
                request_id,
                status,
                QPS_WAIT,
            )
        if errcode in (-1, "-1") or status >= 500:
            raise _error(f"DingTalk was busy while {what}.", "transient", errcode, request_id, status)
        if errcode in LEGACY_BAD_TOKEN:
            raise _error(
                f"DingTalk refused the legacy access token while {what}; check DINGTALK_APP_KEY and "
                "DINGTALK_APP_SECRET, then call the tool again.",
                "fatal",
                errcode,
                request_id,
                status,
            )
        if errcode in LEGACY_BAD_CREDENTIALS:
            raise _error(
                "DingTalk refused the app credentials: check DINGTALK_APP_KEY and DINGTALK_APP_SECRET.",
                "fatal",
                errcode,
                request_id,
                status,
            )
        if errcode in LEGACY_NO_USER:
            raise _error(
                "DingTalk has no user with the userId in DINGTALK_USER_ID in this app's organisation: check it, "
                "or set DINGTALK_OPERATOR_ID to the user's unionId instead.",
                "fatal",
                errcode,
                request_id,
                status,
            )
        raise _error(
            f"DingTalk refused {what}: {said or 'no reason given'}. Check DINGTALK_USER_ID, or set "
            "DINGTALK_OPERATOR_ID to the user's unionId instead.",
            "fatal",
            errcode,
            request_id,
            status,
        )

    return parse
