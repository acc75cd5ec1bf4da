"""Feishu's answers turned into data or into a :class:`ProviderError` that says what to do.

Every Bitable answer is ``{"code", "msg", "data"}``; ``code != 0`` is an error whatever the HTTP
status (most business errors come with HTTP 200). The gateway answers throttling with HTTP 429 and
``x-ogw-ratelimit-reset`` (seconds). Every code of the reference's 错误码 tables (1254xxx, 1255xxx)
and the generic gateway codes of docs/provider-api-notes.md §2.2 (9999xxxx) has a message here, written in
terms of the tools' arguments; Feishu's code and log id follow it (``ProviderError.__str__``).

Kinds (what ``anytable.providers.http`` does with them):
- ``throttle``: 99991400 / HTTP 429, 1254290 TooManyRequest - refused before running, wait.
- ``transient``: 1254291 Write conflict, 1254607 Data not ready, 1254036 base being copied -
  refused, nothing applied, back off and retry.
- ``unknown_outcome``: 1255040 timeout, 1254002/1254200/1255001/1255002 internal errors and plain
  HTTP 5xx - the request may have run; repeated only when it is idempotent (a read, or a write
  carrying its client_token), otherwise reconciled.
- ``auth``: the tenant_access_token is missing, invalid or expired - fetched again once.
- ``fatal``: everything else; the message says what to change.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from anytable.errors import ProviderError
from anytable.providers.http import json_body

PROVIDER = "feishu"

THROTTLE = "throttle"
TRANSIENT = "transient"
UNKNOWN = "unknown_outcome"
AUTH = "auth"
FATAL = "fatal"

_NAME_RULE = "1-100 characters, none of [ ] : \\ / ? *"
_DESCRIBE = "describe_table shows the table's fields, their types and options"

# code -> (kind, message). ``{...}`` placeholders are filled from the call's context (Where);
# an unknown placeholder value reads as "it".
MESSAGES: dict[int, tuple[str, str]] = {
    # ------------------------------------------------------------------ request shape
    1254000: (
        FATAL,
        "Feishu could not parse the request body (WrongRequestJson); check the values you passed.",
    ),
    1254001: (
        FATAL,
        "Feishu refused the request (WrongRequestBody): check names ({name_rule}) and that every value "
        "fits its field ({describe}).",
    ),
    1254002: (UNKNOWN, "Feishu failed internally (Fail); call the tool again in a moment."),
    1254003: (
        FATAL,
        "base {base} is not a valid Feishu app_token: pass the app_token (the part after /base/ in the "
        "base's link) or the whole https://<tenant>.feishu.cn/base/<app_token> link.",
    ),
    1254004: (FATAL, "table {table} is not a valid table id: pass a table id or name as list_tables shows."),
    1254005: (FATAL, "view {view} is not a valid view id: pass a view id or name as describe_table shows."),
    1254006: (
        FATAL,
        "A record id is malformed: pass record ids exactly as query_records returns them (they start "
        "with rec).",
    ),
    1254007: (FATAL, "Feishu refused an empty value where one is required: give a non-empty value."),
    1254008: (FATAL, "view {view} is empty or unusable: leave view out or pick another view."),
    1254009: (FATAL, "A field id is malformed: name fields by the names or ids {describe}."),
    1254010: (
        FATAL,
        "Feishu could not convert a value (ReqConvError): write each value in its field's format "
        '({describe}); a location is \'longitude,latitude\', a group chat [{{"id": "oc_..."}}].',
    ),
    1254012: (
        FATAL,
        "Feishu does not support this for this kind of field or view through its API (lookup fields "
        "cannot be created or changed; view types are grid, kanban, gallery, gantt and form).",
    ),
    1254013: (FATAL, "A table with that name already exists in this base: pick another name."),
    1254014: (FATAL, "table {table} already has a field with that name: pick another name."),
    1254015: (
        FATAL,
        "A value does not fit its field's type, or a computed field (formula, lookup, created or "
        "modified time or by, auto number) was written: leave computed fields out and write each value "
        "in its field's format ({describe}).",
    ),
    1254016: (FATAL, "Feishu refused the sort: sort only on fields {describe}."),
    1254018: (
        FATAL,
        "Feishu refused the filter (InvalidFilter): check where's fields and values against describe_table.",
    ),
    1254019: (FATAL, "type is not a Feishu view type: use grid, kanban, gallery, gantt or form."),
    1254020: (FATAL, "table {table} already has a view with that name: pick another name."),
    1254021: (FATAL, "The view name is empty: give name a non-empty value."),
    1254022: (FATAL, "Feishu refused the view name: use at most 100 characters and no [ or ]."),
    1254023: (
        FATAL,
        "This is the last view of table {table} and Feishu keeps at least one: create another view "
        "first (create_view), then delete this one.",
    ),
    1254024: (FATAL, "fields names a field Feishu does not know: use field names {describe}."),
    1254026: (FATAL, 'An option name is empty: options must be non-empty names like ["todo", "done"].'),
    1254027: (
        FATAL,
        "An attachment's file_token is not a file uploaded to this base: upload the file to base {base} "
        'first (Feishu drive media upload, parent_type bitable_file) and write [{{"file_token": "..."}}].',
    ),
    1254028: (FATAL, "The field name is empty: give name a non-empty value."),
    1254029: (FATAL, "Feishu refused the field name: use {name_rule}."),
    1254030: (
        FATAL,
        "Feishu's answer would be too large: ask for fewer fields (fields=[...]) or a smaller limit.",
    ),
    1254031: (FATAL, "Feishu refused the base name: use {name_rule}."),
    1254032: (FATAL, "Feishu refused the role name: give a non-empty name of at most 100 characters."),
    1254033: (FATAL, "A role with that name already exists in base {base}: pick another name."),
    1254034: (
        FATAL,
        "table {table} is the last table of base {base} and Feishu keeps at least one: create another "
        "table first (create_table), then delete this one.",
    ),
    1254036: (TRANSIENT, "Base {base} is being copied; wait a little and call the tool again."),
    1254037: (
        FATAL,
        "Feishu refused the request's client_token (it must be a uuid); this is a bug in anytable, please "
        "report it.",
    ),
    1254038: (FATAL, "Feishu refused the name: use 1-100 characters and no [ or ]."),
    1254039: (
        FATAL,
        "That name is already taken in base {base} (dashboard names are unique): pick another name.",
    ),
    1254040: (
        FATAL,
        "No Feishu base {base}: check base (the app_token after /base/ in the base's link, or the link "
        "itself) and that the app FEISHU_APP_ID has been added to the base as a collaborator.",
    ),
    1254041: (FATAL, "No table {table} in base {base}: list_tables shows the tables."),
    1254042: (FATAL, "No view {view} in table {table}: describe_table shows the views."),
    1254043: (
        FATAL,
        "Some record ids do not exist in table {table} (Feishu changed none of this batch): check the "
        "ids with get_records or query_records.",
    ),
    1254044: (FATAL, "No field {field} in table {table}: {describe}."),
    1254045: (
        FATAL,
        "A field name in the request is not in table {table} (it may have been renamed): {describe}.",
    ),
    1254047: (FATAL, "No role {role} in base {base}: feishu_read what=roles lists the roles."),
    1254048: (
        FATAL,
        "A member was not found (no such user, group chat or department, or not in role {role}): check "
        "members against feishu_read what=members, and give each id with its type.",
    ),
    1254049: (
        FATAL,
        "No such question in form {view}: feishu_read what=form lists its questions (id, field, title).",
    ),
    1254050: (FATAL, "No such dashboard in base {base}: feishu_read what=dashboards lists them."),
    # ------------------------------------------------------------------ values of one field type
    1254060: (FATAL, "A value for a text field was refused: write a string."),
    1254061: (FATAL, "A value for a number field was refused: write a number."),
    1254062: (FATAL, "A value for a single_select field was refused: write one option name ({describe})."),
    1254063: (
        FATAL,
        "A value for a multi_select field was refused: write a list of option names ({describe}).",
    ),
    1254064: (
        FATAL,
        "A value for a date field was refused: write an ISO 8601 date or datetime or epoch milliseconds.",
    ),
    1254065: (FATAL, "A value for a checkbox field was refused: write true or false."),
    1254066: (
        FATAL,
        "A value for a user field was refused: write ids of users of this Feishu tenant, of the type "
        'FEISHU_USER_ID_TYPE names ({user_id_type}), like "ou_..." for open_id.',
    ),
    1254067: (
        FATAL,
        "A value for a link field was refused: write a list of record ids of the linked table (the "
        "field's options name it in describe_table).",
    ),
    1254068: (
        FATAL,
        'A value for a url field was refused: write a link or {{"text": "...", "link": "https://..."}}.',
    ),
    1254069: (
        FATAL,
        'A value for an attachment field was refused: write [{{"file_token": "..."}}] of files uploaded to '
        "base {base}.",
    ),
    1254070: (
        FATAL,
        "Feishu refused the change (ActionValidateFailed): the primary field cannot be deleted, and it "
        "must stay a text, number, date, phone, url or location field.",
    ),
    1254072: (
        FATAL,
        "A value for a phone field was refused: write digits with an optional leading +, like "
        "+8613800000000.",
    ),
    # ------------------------------------------------------------------ field settings (property)
    **{
        code: (
            FATAL,
            f"Feishu refused the settings of a {kind} field: "
            + (
                "options must be distinct, non-empty names."
                if "select" in kind
                else "options of a link field name one existing table of this base."
                if "link" in kind
                else "create it without options, or with the settings describe_table shows."
            ),
        )
        for code, kind in {
            1254080: "text",
            1254081: "number",
            1254082: "single_select",
            1254083: "multi_select",
            1254084: "date",
            1254085: "checkbox",
            1254086: "user",
            1254087: "url",
            1254088: "attachment",
            1254089: "link",
            1254090: "lookup",
            1254091: "formula",
            1254092: "two-way link",
            1254093: "created_time",
            1254094: "modified_time",
            1254095: "created_by",
            1254096: "modified_by",
        }.items()
    },
    # ------------------------------------------------------------------ limits
    1254100: (FATAL, "Base {base} has as many tables as Feishu allows: delete a table first."),
    1254101: (FATAL, "table {table} has as many views as Feishu allows (200): delete a view first."),
    1254102: (FATAL, "A Feishu file limit was exceeded: use fewer or smaller attachments."),
    1254103: (
        FATAL,
        "table {table} would go over Feishu's limit of 20,000 records: delete records, or put the rest in "
        "another table.",
    ),
    1254104: (
        FATAL,
        "Feishu refused the number of records in one request (RecordAddOnceExceedLimit); this deployment's "
        "limit is lower than the documented 500: please report it.",
    ),
    1254105: (FATAL, "table {table} has as many fields as Feishu allows (150): delete a field first."),
    1254106: (FATAL, "Too many attachments in one cell: put fewer files in one value."),
    1254107: (FATAL, "where is too long for Feishu (2,000 characters): simplify it."),
    1254108: (FATAL, "sort is too long for Feishu (1,000 characters): sort on fewer fields."),
    1254109: (
        FATAL,
        "table {table} is too large for its formula fields: remove formula fields or records.",
    ),
    1254110: (FATAL, "Base {base} has as many custom roles as Feishu allows (30): delete a role first."),
    1254111: (
        FATAL,
        "Role {role} would have more members than Feishu allows (200): remove members from it first.",
    ),
    1254130: (FATAL, "A value is too large for one Feishu cell: shorten it or split it across records."),
    1254200: (UNKNOWN, "Feishu failed internally; call the tool again in a moment."),
    1254290: (
        THROTTLE,
        "Feishu is throttling requests to this base (TooManyRequest); call the tool again in a moment.",
    ),
    1254291: (
        TRANSIENT,
        "Another write to table {table} was in progress (Feishu takes one write at a time per table); "
        "call the tool again.",
    ),
    # ------------------------------------------------------------------ permissions
    1254301: (
        FATAL,
        "Base {base} does not have advanced permissions enabled (or cannot have them): enable them with "
        'feishu_update action=update_app data={{"advanced": true}} (bases inside Docs, Sheets or the Wiki '
        "cannot have them).",
    ),
    1254302: (
        FATAL,
        "{who} no permission on base {base}: add {whom} (or a group containing {whom}) as a "
        "collaborator with edit rights; with advanced permissions, give that group a role that can "
        "read and edit the table.",
    ),
    1254303: (FATAL, "The app has no permission on an attachment: use files uploaded to base {base}."),
    1254304: (
        FATAL,
        "Row and column permissions need Feishu's Business or Enterprise edition: leave records and fields "
        "out of the role's tables on this tenant.",
    ),
    1254606: (FATAL, "Nothing to change: the field already has that name and those options."),
    1254607: (
        TRANSIENT,
        "Feishu's data is not ready yet (the last change is still being processed); call the tool again.",
    ),
    1255001: (UNKNOWN, "Feishu failed internally (InternalError); call the tool again in a moment."),
    1255002: (UNKNOWN, "Feishu failed internally (RpcError); call the tool again in a moment."),
    1255003: (FATAL, "Feishu could not encode its answer (MarshalError); try fewer fields or records."),
    1255004: (FATAL, "Feishu could not decode the request (UmMarshalError): check the values you passed."),
    1255005: (FATAL, "Feishu could not convert a value (ConvError): check values against describe_table."),
    1255006: (
        FATAL,
        "Feishu saw the request's client_token on a different request; this is a bug in anytable, please "
        "report it.",
    ),
    1255040: (UNKNOWN, "Feishu timed out on the request; call the tool again."),
    # ------------------------------------------------------------------ gateway (docs/provider-api-notes.md §2.2)
    99991400: (
        THROTTLE,
        "Feishu is throttling this app (request trigger frequency limit); call the tool again in a moment.",
    ),
    99991661: (AUTH, "The request carried no access token; check FEISHU_APP_ID and FEISHU_APP_SECRET."),
    99991663: (
        AUTH,
        "Feishu refused the access token (invalid or expired); check FEISHU_APP_ID and FEISHU_APP_SECRET.",
    ),
    99991668: (
        AUTH,
        "Feishu refused the user access token (invalid or expired) even after renewing it: run "
        "`anytable login feishu` to sign in again, or set FEISHU_AUTH=tenant to act as the app.",
    ),
    99991671: (AUTH, "Feishu refused the access token's format; check FEISHU_APP_ID and FEISHU_APP_SECRET."),
    99991677: (
        AUTH,
        "Feishu says the user access token has expired even after renewing it: run `anytable login feishu` "
        "to sign in again, or set FEISHU_AUTH=tenant to act as the app.",
    ),
    99991672: (
        FATAL,
        "The app FEISHU_APP_ID lacks the API scope for this: in the Feishu developer console, grant it the "
        "bitable:app scope (view, comment, edit and manage bases) and publish the app version.",
    ),
    99991676: (
        FATAL,
        "The access token lacks the scope for this: grant the app FEISHU_APP_ID the bitable:app scope in the "
        "Feishu developer console and publish the app version.",
    ),
    99991543: (
        FATAL,
        "Feishu refused the app credentials: check FEISHU_APP_ID and FEISHU_APP_SECRET (and FEISHU_DOMAIN: "
        "feishu for open.feishu.cn, lark for open.larksuite.com).",
    ),
    99992402: (
        FATAL,
        "Feishu refused a request parameter{violations}: check base, table and the ids you passed.",
    ),
    10014: (
        FATAL,
        "Feishu refused the app credentials (app secret invalid): check FEISHU_APP_ID and FEISHU_APP_SECRET "
        "(and FEISHU_DOMAIN: feishu for open.feishu.cn, lark for open.larksuite.com).",
    ),
}


@dataclass
class Where:
    """What a call is about, to fill the messages (values are shown quoted; None reads as 'it')."""

    base: str | None = None
    table: str | None = None
    field: str | None = None
    view: str | None = None
    role: str | None = None
    user_id_type: str = "open_id"
    as_user: bool = False  # the call was made with the signed-in user's token (FEISHU_AUTH)


def _quoted(value: str | None) -> str:
    return repr(value) if value else "(the one given)"


def message_for(code: int, msg: str, where: Where, details: str = "") -> tuple[str, str]:
    """(kind, message) for a Feishu error code."""
    known = MESSAGES.get(code)
    if known is None:
        kind = UNKNOWN if 1255000 <= code < 1256000 else FATAL
        text = f"Feishu refused the request: {msg or 'no reason given'}."
        if kind == FATAL:
            text += " Check the arguments against list_tables and describe_table."
        return kind, text
    kind, template = known
    text = template.format(
        base=_quoted(where.base),
        table=_quoted(where.table),
        field=_quoted(where.field),
        view=_quoted(where.view),
        role=_quoted(where.role),
        user_id_type=where.user_id_type,
        who="You (the signed-in user) have" if where.as_user else "The app FEISHU_APP_ID has",
        whom="you" if where.as_user else "the app",
        describe=_DESCRIBE,
        name_rule=_NAME_RULE,
        violations=details,
    )
    return kind, text


def _violations(body: dict[str, Any]) -> str:
    error = body.get("error")
    items = error.get("field_violations") if isinstance(error, dict) else None
    if not isinstance(items, list) or not items:
        return ""
    parts = []
    for item in items[:5]:
        if isinstance(item, dict):
            parts.append(f"{item.get('field', '?')}: {item.get('description', 'invalid')}")
    return f" ({'; '.join(parts)})" if parts else ""


def _log_id(response: httpx.Response, body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        log_id = body["error"].get("log_id")
        if isinstance(log_id, str) and log_id:
            return log_id
    return response.headers.get("x-tt-logid") or None


def _reset_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("x-ogw-ratelimit-reset")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def check(response: httpx.Response, where: Where, *, bare: bool = False) -> dict[str, Any]:
    """The JSON body of a successful answer (``code == 0``); raises ProviderError otherwise.
    ``bare``: a 2xx JSON object without ``code`` is the data itself (A.18 documents that form)."""
    body = json_body(response)
    status = response.status_code
    if bare and 200 <= status < 300 and isinstance(body, dict) and "code" not in body and body:
        return {"code": 0, "data": body}
    log_id = _log_id(response, body)
    code = body.get("code") if isinstance(body, dict) else None
    if status == 429 or code == 99991400:
        _, text = message_for(99991400, "", where)
        raise ProviderError(
            text,
            kind=THROTTLE,
            provider=PROVIDER,
            code=99991400,
            request_id=log_id,
            status=status,
            retry_after=_reset_seconds(response),
        )
    if not isinstance(body, dict) or not isinstance(code, int):
        if status >= 500:
            raise ProviderError(
                f"Feishu answered HTTP {status} without a result; the request may or may not have run.",
                kind=UNKNOWN,
                provider=PROVIDER,
                request_id=log_id,
                status=status,
            )
        hint = (
            " Check FEISHU_DOMAIN (feishu, lark, or the base URL of a private deployment)."
            if status == 404
            else ""
        )
        raise ProviderError(
            f"Feishu answered HTTP {status} with no Feishu result.{hint}",
            kind=FATAL,
            provider=PROVIDER,
            request_id=log_id,
            status=status,
        )
    if code == 0:
        return body
    msg = raw_msg if isinstance(raw_msg := body.get("msg"), str) else ""
    kind, text = message_for(code, msg, where, _violations(body))
    raise ProviderError(
        text,
        kind=kind,
        provider=PROVIDER,
        code=code,
        request_id=log_id,
        status=status,
        retry_after=_reset_seconds(response) if kind == THROTTLE else None,
    )
