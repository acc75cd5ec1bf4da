"""Feishu emulator: documented error codes, their messages and HTTP statuses, the error answer.

``A.n``: section A.n of docs/reference/feishu-bitable-v1-reference.txt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# ---------------------------------------------------------------------------------------------
# Error codes: message (the 描述 column) and HTTP status (the HTTP状态码 column of the pages)

MESSAGES = {
    1254000: "WrongRequestJson",
    1254001: "WrongRequestBody",
    1254002: "Fail",
    1254003: "WrongBaseToken",
    1254004: "WrongTableId",
    1254005: "WrongViewId",
    1254006: "WrongRecordId",
    1254010: "ReqConvError",
    1254012: "NotSupportFieldOrView",
    1254013: "TableNameDuplicated",
    1254014: "FieldNameDuplicated",
    1254015: "FieldTypeValueNotMatch",
    1254016: "InvalidSort",
    1254018: "InvalidFilter",
    1254019: "InvalidViewType",
    1254020: "ViewNameDuplicated",
    1254021: "EmptyViewName",
    1254022: "InvalidViewName",
    1254023: "LastViewDeleteForbidden",
    1254024: "InvalidFieldNames",
    1254026: "EmptyOptionName",
    1254027: "UploadAttachNotAllowed",
    1254028: "EmptyFieldName",
    1254029: "InvalidFieldName",
    1254031: "InvalidAppName",
    1254032: "InvalidRoleName",
    1254033: "RoleNameDuplicated",
    1254034: "The last table cannot be deleted.",
    1254037: "Invalid client token, make sure that it complies with the specification.",
    1254038: "Invalid name, make sure that it complies with the specification.",
    1254039: "Duplicated name, use another name instead.",
    1254040: "BaseTokenNotFound",
    1254041: "TableIdNotFound",
    1254042: "ViewIdNotFound",
    1254043: "RecordIdNotFound",
    1254044: "FieldIdNotFound",
    1254045: "FieldNameNotFound",
    1254047: "RoleIdNotFound",
    1254048: "MemberNotFound",
    1254049: "FormFieldNotFound",
    1254050: "Source block is not found.",
    1254060: "TextFieldConvFail",
    1254061: "NumberFieldConvFail",
    1254062: "SingleSelectFieldConvFail",
    1254063: "MultiSelectFieldConvFail",
    1254064: "DatetimeFieldConvFail",
    1254065: "CheckboxFieldConvFail",
    1254066: "UserFieldConvFail",
    1254067: "LinkFieldConvFail",
    1254068: "URLFieldConvFail",
    1254069: "AttachFieldConvFail",
    1254070: "ActionValidateFailed",
    1254072: "Failed to convert phone field, please make sure it is correct.",
    1254080: "TextFieldPropertyError",
    1254081: "NumberFieldPropertyError",
    1254082: "SingleSelectFieldPropertyError",
    1254083: "MultiSelectFieldPropertyError",
    1254084: "DateFieldPropertyError",
    1254085: "CheckboxFieldPropertyError",
    1254086: "UserFieldPropertyError",
    1254087: "URLFieldPropertyError",
    1254088: "AttachFieldPropertyError",
    1254089: "LinkFieldPropertyError",
    1254090: "LookUpFieldPropertyError",
    1254091: "FormulaFieldPropertyError",
    1254092: "DuplexLinkFieldPropertyError",
    1254093: "CreatedTimeFieldPropertyError",
    1254094: "ModifiedTimeFieldPropertyError",
    1254095: "CreatedUserFieldPropertyError",
    1254096: "ModifiedUserFieldPropertyError",
    1254100: "TableExceedLimit",
    1254101: "ViewExceedLimit",
    1254103: "RecordExceedLimit",
    1254104: "RecordAddOnceExceedLimit",
    1254105: "ColumnExceedLimit",
    1254107: "FilterLengthExceedLimit",
    1254108: "SortLengthExceedLimit",
    1254110: "RoleExceedLimit",
    1254111: "MemberExceedLimit",
    1254290: "TooManyRequest",
    1254291: "Write conflict",
    1254301: "OperationTypeError",
    1254302: "RolePermNotAllow",
    1254304: "Only Available For Business and Enterprise Editions",
    1254606: "DataNotChange",
    1254607: "Data not ready, please try again later",
    1255001: "InternalError",
    1255006: "Client token conflict, please generate a new client token and try again.",
    1255040: "请求超时",
}

# Statuses that are not 200 on the "classic" pages (tables list/create/delete, views list/create/delete,
# records, fields). PATCH table (A.12) and GET/PATCH view (A.20/A.21) use the "v2" profile below.
CLASSIC_STATUS = {
    1254027: 403,
    1254028: 400,
    1254029: 400,
    1254034: 403,
    1254036: 400,
    1254037: 400,
    1254302: 403,
    1254304: 403,
    1254607: 400,
    1255006: 400,
    1255040: 504,
    **{code: 400 for code in range(1254080, 1254097)},
}
GROUP_STATUS = {
    "tables": {1254013: 400},  # A.14/A.15
    "records": {1254015: 400},  # newer record pages (not in the reference's record tables)
}


def v3_status(code: int) -> int:
    """HTTP status of a code on A.18/A.19 (dashboards), A.25-A.28 (forms), A.45/A.46 (member batches)."""
    if code == 1254290:
        return 429
    if 1254040 <= code <= 1254050 and code != 1254048:  # 1254048 MemberNotFound: 400 on these pages
        return 404
    if code in (1254302, 1254304):
        return 403
    if code == 1255040:
        return 504
    return 400


# A.41-A.44 (roles) and A.47-A.49 (members list/create/delete): 200 unless listed here.
ROLE_STATUS = {
    1254032: 400,
    1254033: 400,
    1254036: 400,
    1254047: 404,
    1254048: 404,
    1254110: 400,
    1254111: 400,
    1254301: 400,
    1254302: 403,
    1254304: 403,
    1255040: 504,
}
# A.10 / A.11 (app metadata): 200 unless listed here.
APP_STATUS = {1254036: 400, 1254301: 400, 1254302: 403, 1255040: 504}
STATUS_PROFILES: dict[str, Callable[[int], int]] = {
    "v3": v3_status,
    "roles": lambda code: ROLE_STATUS.get(code, 200),
    "app": lambda code: APP_STATUS.get(code, 200),
}


def v2_status(code: int) -> int:
    """HTTP status of a code on A.12 (PATCH table), A.20 (PATCH view), A.21 (GET view)."""
    if code in (1254290,):
        return 429
    if 1254040 <= code <= 1254049:
        return 404
    if code in (1254302, 1254304):
        return 403
    if 1255001 <= code <= 1255005:
        return 500
    if code == 1255040:
        return 504
    return 400


class FeishuError(Exception):
    """A documented error answer. ``gateway`` errors (auth, validation) carry no ``data``."""

    def __init__(
        self,
        code: int,
        msg: str | None = None,
        *,
        status: int | None = None,
        gateway: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, msg)
        self.code = code
        self.msg = msg or MESSAGES.get(code, "error")
        self.status = status
        self.gateway = gateway
        self.extra = extra or {}


def field_violation(param: str, value: Any, description: str) -> FeishuError:
    return FeishuError(
        99992402,
        "field validation failed",
        status=400,
        gateway=True,
        extra={"field_violations": [{"field": param, "value": str(value), "description": description}]},
    )
