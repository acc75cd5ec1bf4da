"""GPTBots emulator: the documented error codes and the bad-request error."""

from __future__ import annotations

# Error codes (docs/provider-api-notes.md section 3; 40127/40400/42900 are [INF]).
PARAM_ERROR = 40000
AUTH_FAILED = 40127
NOT_FOUND_PATH = 40400
THROTTLED = 42900
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


class _BadRequest(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
