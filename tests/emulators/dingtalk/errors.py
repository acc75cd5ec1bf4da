"""DingTalk emulator: the documented error answers (api and oapi)."""

from __future__ import annotations

# Documented messages (dingtalk-notable-*.txt error tables).
MSG_INTERNAL = "The server encountered an internal error and was unable to complete your request. Please try again later."
MSG_TIMEOUT = "The server is busy and unable to complete your request. Please try again later."
MSG_DOC_NOT_FOUND = (
    "Fail to find the requested resource by the given baseId. Please make sure the given baseId is valid, "
    "and the operatorId has permission to access it."
)
MSG_DUP_TOKEN = "Duplicate ClientToken detected. Please generate a new client token and retry."
MSG_INITIALIZING = "The document is under initialization. Please try again later"
MSG_BROKEN = "The document is broken and the server is unable to complete your request."
MSG_QPS = "The QPS of this app calling this API exceeds the limit; please wait 1 second and retry."
MSG_NO_API = "Specified api is not found, please check your url and method."
MSG_BAD_TOKEN = "不合法的access_token"


class ApiError(Exception):
    """An error answer of api.dingtalk.com."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class LegacyError(Exception):
    """An error answer of oapi.dingtalk.com (HTTP 200, errcode != 0)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalidRequest.inputArgs.invalid", message)


def _not_found(message: str) -> ApiError:
    return ApiError(404, "invalidRequest.resource.notFound", message)


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing{param}", f"{param} is mandatory for this action.")
