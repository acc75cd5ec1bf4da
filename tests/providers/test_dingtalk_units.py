"""DingTalk pieces on their own: AI table links, error answers, the native filter, values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from anytable.errors import InputError, ProviderError
from anytable.providers.dingtalk.errors import Call, api_parser, legacy_parser
from anytable.providers.dingtalk.fields import field_info, native_field
from anytable.providers.dingtalk.filters import DATE_MARGIN_MS, compile_where
from anytable.providers.dingtalk.urls import parse_url
from anytable.providers.dingtalk.values import check_rows, read_value, row_writer, write_value
from anytable.providers.evaluate import matches
from anytable.schemas.fields import FieldInfo, FieldSpec, FieldType, TableSchema
from anytable.schemas.filters import parse_where

CST = timezone(timedelta(hours=8))

# ------------------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alidocs.dingtalk.com/i/nodes/R1zknDm0WR6XzZ4L", ("R1zknDm0WR6XzZ4L", None, None)),
        (
            "https://alidocs.dingtalk.com/i/nodes/R1zknDm0WR6XzZ4L?utm_scene=team_space&corpId=ding1",
            ("R1zknDm0WR6XzZ4L", None, None),
        ),
        (
            "https://alidocs.dingtalk.com/i/nodes/R1zknDm0WR6XzZ4L?iframeQuery=sheetId%3DHAcL4SD%26viewId%3Dv1",
            ("R1zknDm0WR6XzZ4L", "HAcL4SD", None),
        ),
        ("https://alidocs.dingtalk.com/i/nodes/abc_123-x?sheetId=nr2iEiW", ("abc_123-x", "nr2iEiW", None)),
        ("http://alidocs.dingtalk.com/i/nodes/abc/", ("abc", None, None)),
        ("https://alidocs.dingtalk.com/i/spaces/abc", None),
        ("https://x.feishu.cn/base/abc", None),
        ("https://evil.example.com/i/nodes/abc", None),
        ("not a link", None),
    ],
)
def test_ai_table_links(url: str, expected: Any) -> None:
    assert parse_url(url) == expected


# ------------------------------------------------------------------------------------- errors


def answer(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


RECORDS_WRITE = Call(
    write=True,
    subject="the records to create in table 'T'",
    base="qnY1",
    invalid_hint="check the values",
    insert=True,
)
READ = Call(subject="table 'T'", base="qnY1", not_found_hint="list_tables shows the tables")


def refused(call: Call, status: int, code: str, message: str = "m", **headers: str) -> ProviderError:
    body = {"code": code, "message": message, "requestid": "REQ-1"}
    with pytest.raises(ProviderError) as info:
        api_parser(call)(answer(status, body, **headers))
    return info.value


@pytest.mark.parametrize(
    ("call", "status", "code", "kind", "says"),
    [
        (READ, 400, "InvalidAuthentication", "auth", "DINGTALK_APP_SECRET"),
        (READ, 401, "Unauthorized", "auth", "DINGTALK_APP_KEY"),
        (READ, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "throttle", "20 requests"),
        (READ, 403, "Forbidden.AccessDenied.QpsLimitForApi", "throttle", "rate limit"),
        (READ, 429, "TooManyRequests", "throttle", "rate limit"),
        (READ, 403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "fatal", "monthly quota"),
        (READ, 403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "fatal", "Notable.Base.Read.All"),
        (RECORDS_WRITE, 403, "forbidden.operationIllegal", "fatal", "edit rights"),
        (READ, 403, "invalidRequest.document.typeIllegal", "fatal", "not a DingTalk AI table"),
        (READ, 404, "invalidRequest.document.notFound", "fatal", "member of it"),
        (READ, 404, "invalidRequest.resource.notFound", "fatal", "list_tables shows the tables"),
        (READ, 400, "invalidRequest.document.stillInitializing", "transient", "wait a few seconds"),
        (READ, 400, "invalidRequest.dataNotReady", "transient", "wait a few seconds"),
        (READ, 400, "invalidRequest.document.broken", "fatal", "damaged"),
        (RECORDS_WRITE, 400, "invalidRequest.inputArgs.invalid", "fatal", "check the values"),
        (RECORDS_WRITE, 409, "invalidRequest.duplicateClientToken", "unknown_outcome", "already received"),
        (READ, 500, "internalError", "transient", "server error"),
        (READ, 504, "service.timeout", "transient", "server error"),
        (RECORDS_WRITE, 500, "internalError", "unknown_outcome", "check the values"),
        (RECORDS_WRITE, 500, "unknownError", "unknown_outcome", "check the values"),
        (RECORDS_WRITE, 504, "service.timeout", "unknown_outcome", "server error"),
        (READ, 400, "MissingoperatorId", "fatal", "DINGTALK_USER_ID"),
        (READ, 400, "paramError-operatorId", "fatal", "unionId"),
        (READ, 404, "InvalidAction.NotFound", "fatal", "DINGTALK_API_URL"),
        (READ, 400, "invalidClientIdOrSecret", "fatal", "DINGTALK_APP_SECRET"),
    ],
)
def test_every_documented_code_says_what_to_do(
    call: Call, status: int, code: str, kind: str, says: str
) -> None:
    error = refused(call, status, code, message="detail")
    assert error.kind == kind
    assert says in error.message
    assert str(error).endswith(f"(dingtalk code {code}, request id REQ-1)")


def test_throttle_waits_as_dingtalk_asks() -> None:
    assert refused(READ, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi").retry_after == 1.0
    assert refused(READ, 429, "x", **{"retry-after": "3"}).retry_after == 3.0


def test_request_id_from_the_header_when_the_body_has_none() -> None:
    with pytest.raises(ProviderError) as info:
        api_parser(READ)(answer(500, {"code": "internalError"}, **{"x-acs-request-id": "HDR-9"}))
    assert info.value.request_id == "HDR-9"


def test_an_ip_ban_page_is_not_taken_for_data() -> None:
    with pytest.raises(ProviderError, match="5 minutes"):
        api_parser(READ)(answer(200, {"status": 1111, "wait": 5, "punish": "deny"}))


def test_an_answer_that_is_not_json() -> None:
    for call, kind in ((READ, "transient"), (RECORDS_WRITE, "unknown_outcome")):
        with pytest.raises(ProviderError) as info:
            api_parser(call)(httpx.Response(502, text="<html>bad gateway</html>"))
        assert info.value.kind == kind


@pytest.mark.parametrize(
    ("errcode", "kind", "says"),
    [
        (90018, "throttle", "rate limit"),
        (-1, "transient", "busy"),
        (40089, "fatal", "DINGTALK_APP_SECRET"),
        (60121, "fatal", "DINGTALK_USER_ID"),
        (40014, "fatal", "legacy access token"),
        (12345, "fatal", "DINGTALK_OPERATOR_ID"),
    ],
)
def test_legacy_errors(errcode: int, kind: str, says: str) -> None:
    with pytest.raises(ProviderError) as info:
        legacy_parser("looking the user up")(
            answer(200, {"errcode": errcode, "errmsg": "x", "request_id": "r1"})
        )
    assert info.value.kind == kind and says in info.value.message and info.value.request_id == "r1"
    assert legacy_parser("x")(answer(200, {"errcode": 0, "result": {"unionid": "u"}}))["result"] == {
        "unionid": "u"
    }


# ------------------------------------------------------------------------------------- filters

FIELDS = [
    {"id": "fName", "name": "name", "type": "text"},
    {"id": "fScore", "name": "score", "type": "number", "property": {"formatter": "INT"}},
    {
        "id": "fStatus",
        "name": "status",
        "type": "singleSelect",
        "property": {"choices": [{"id": "c1", "name": "todo"}, {"id": "c2", "name": "done"}]},
    },
    {
        "id": "fTags",
        "name": "tags",
        "type": "multipleSelect",
        "property": {"choices": [{"name": "a"}, {"name": "b"}]},
    },
    {"id": "fDue", "name": "due", "type": "date", "property": {"formatter": "YYYY-MM-DD"}},
    {"id": "fOwner", "name": "owner", "type": "user", "property": {"multiple": True}},
    {"id": "fDone", "name": "done", "type": "checkbox"},
    {"id": "fSite", "name": "site", "type": "url"},
    {
        "id": "fRefs",
        "name": "refs",
        "type": "unidirectionalLink",
        "property": {"multiple": False, "linkedSheetId": "s2"},
    },
    {"id": "fFiles", "name": "files", "type": "attachment"},
    {"id": "fDept", "name": "dept", "type": "department", "property": {"multiple": True}},
]
TABLE = TableSchema(id="s1", name="T", fields=[field_info(f, i == 0) for i, f in enumerate(FIELDS)])


def compiled(where: Any) -> tuple[Any, bool]:
    result = compile_where(parse_where(where, TABLE, CST))
    return result.native, result.exact


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        out["value"] = value
    return out


@pytest.mark.parametrize(
    ("where", "conditions", "combination", "exact"),
    [
        ({"field": "name", "op": "eq", "value": "alpha"}, [cond("fName", "equal", ["alpha"])], "and", True),
        (
            {"field": "name", "op": "contains", "value": "123 中文"},
            [cond("fName", "contain", ["123 中文"])],
            "and",
            True,
        ),
        ({"field": "score", "op": "gte", "value": "10"}, [cond("fScore", "greaterEqual", [10])], "and", True),
        ({"field": "score", "op": "lt", "value": 2.5}, [cond("fScore", "less", [2.5])], "and", True),
        ({"field": "status", "op": "eq", "value": "todo"}, [cond("fStatus", "equal", ["todo"])], "and", True),
        ({"field": "status", "op": "is_empty"}, [cond("fStatus", "empty")], "and", True),
        ({"field": "owner", "op": "is_not_empty"}, [cond("fOwner", "notEmpty")], "and", True),
        (
            {"field": "name", "op": "in", "value": ["a", "b"]},
            [cond("fName", "equal", ["a"]), cond("fName", "equal", ["b"])],
            "or",
            True,
        ),
        (
            {"field": "tags", "op": "contains", "value": ["a", "b"]},
            [cond("fTags", "contain", ["a"]), cond("fTags", "contain", ["b"])],
            "and",
            True,
        ),
        (
            {"field": "tags", "op": "eq", "value": ["a", "b"]},
            [cond("fTags", "contain", ["a"]), cond("fTags", "contain", ["b"])],
            "and",
            False,
        ),
        (
            {"field": "owner", "op": "contains", "value": "u1"},
            [cond("fOwner", "contain", [{"unionId": "u1"}])],
            "and",
            True,
        ),
        (
            {"field": "tags", "op": "in", "value": ["a", "b"]},
            [cond("fTags", "contain", ["a"]), cond("fTags", "contain", ["b"])],
            "or",
            True,
        ),
        (
            {
                "and": [
                    {"field": "status", "op": "eq", "value": "todo"},
                    {"field": "name", "op": "neq", "value": "x"},
                ]
            },
            [cond("fStatus", "equal", ["todo"])],
            "and",
            False,
        ),
        (
            {
                "or": [
                    {"field": "score", "op": "gt", "value": 25},
                    {
                        "and": [
                            {"field": "tags", "op": "contains", "value": "a"},
                            {"field": "name", "op": "contains", "value": "EPS"},
                        ]
                    },
                ]
            },
            [cond("fScore", "greater", [25]), cond("fTags", "contain", ["a"])],
            "or",
            False,
        ),
    ],
)
def test_native_filter(where: Any, conditions: list[dict[str, Any]], combination: str, exact: bool) -> None:
    native, is_exact = compiled(where)
    assert native == {"combination": combination, "conditions": conditions}
    assert is_exact is exact


@pytest.mark.parametrize(
    "where",
    [
        {"field": "name", "op": "neq", "value": "a"},  # do empty cells match notEqual? not documented
        {"field": "name", "op": "not_contains", "value": "a"},
        {"field": "name", "op": "contains", "value": "Beta"},  # case sensitivity is not documented
        {"field": "done", "op": "eq", "value": True},  # checkbox: no documented operators
        {"field": "site", "op": "contains", "value": "x"},
        {"field": "refs", "op": "is_empty"},
        {"field": "files", "op": "is_not_empty"},
        {"or": [{"field": "score", "op": "gt", "value": 1}, {"field": "name", "op": "neq", "value": "a"}]},
        {
            "and": [
                {"field": "name", "op": "neq", "value": "a"},
                {"field": "done", "op": "eq", "value": False},
            ]
        },
    ],
)
def test_what_dingtalk_cannot_select_is_left_to_the_server(where: Any) -> None:
    assert compiled(where) == (None, False)


def test_dates_are_narrowed_with_a_margin_and_rechecked() -> None:
    native, exact = compiled({"field": "due", "op": "eq", "value": "2026-11-22"})
    start = int(datetime(2026, 11, 22, tzinfo=CST).timestamp() * 1000)
    assert not exact
    assert native == {
        "combination": "and",
        "conditions": [
            cond("fDue", "greater", [start - DATE_MARGIN_MS]),
            cond("fDue", "less", [start + 86_400_000 + DATE_MARGIN_MS]),
        ],
    }
    native, exact = compiled({"field": "due", "op": "lt", "value": "2026-11-22T09:30:00+08:00"})
    assert native["conditions"] == [cond("fDue", "less", [1795311000000 + DATE_MARGIN_MS])] and not exact


def test_a_native_filter_never_drops_a_record_the_contract_matches() -> None:
    """Evaluate each native filter the way the emulator does, on records around every bound: the
    native answer must hold every record the contract's evaluator matches."""
    from tests.emulators.dingtalk import DingTalkEmulator

    emu = DingTalkEmulator(app_key="k", app_secret="s")
    emu.add_user("u1", "union1")
    emu.add_base("b")
    sheet = emu.add_sheet(
        "b",
        "T",
        [
            {"name": "name", "type": "text"},
            {"name": "score", "type": "number"},
            {
                "name": "tags",
                "type": "multipleSelect",
                "property": {"choices": [{"name": "a"}, {"name": "b"}]},
            },
            {"name": "due", "type": "date"},
        ],
    )
    values = [
        {"name": "alpha", "score": 1, "tags": ["a"], "due": 1795311000000},
        {"name": "ALPHA", "score": 10, "tags": ["a", "b"], "due": 1795311000000 + 86_400_000},
        {"name": "x1", "score": 10.5, "tags": ["b"], "due": 1795311000000 - 86_400_000},
        {"score": 0},
        {"name": "中文1", "tags": []},
    ]
    emu.add_records("b", sheet, values)
    schema = TableSchema(
        id=sheet, name="T", fields=[field_info(f, i == 0) for i, f in enumerate(emu.fields("b", sheet))]
    )
    base = emu.bases["b"]
    stored = list(base.sheets[sheet].records.values())
    read_fields = {f.name: f for f in schema.fields}
    wheres = [
        {"field": "name", "op": "eq", "value": "alpha"},
        {"field": "name", "op": "contains", "value": "1"},
        {"field": "name", "op": "contains", "value": "中文"},
        {"field": "score", "op": "gte", "value": 10},
        {"field": "score", "op": "in", "value": [0, 10.5]},
        {"field": "tags", "op": "contains", "value": ["a", "b"]},
        {"field": "tags", "op": "eq", "value": ["a"]},
        {"field": "tags", "op": "in", "value": ["b"]},
        {"field": "due", "op": "eq", "value": "2026-11-22"},
        {"field": "due", "op": "gt", "value": "2026-11-22"},
        {"field": "due", "op": "lte", "value": "2026-11-21"},
        {
            "or": [
                {"field": "score", "op": "lt", "value": 1},
                {
                    "and": [
                        {"field": "tags", "op": "contains", "value": "b"},
                        {"field": "name", "op": "neq", "value": "x1"},
                    ]
                },
            ]
        },
    ]
    for where in wheres:
        node = parse_where(where, schema, CST)
        result = compile_where(node)
        assert result.native is not None, where
        predicate = emu._compile_filter(base, base.sheets[sheet], result.native)
        for rec, raw in zip(stored, emu.records("b", sheet), strict=True):
            record = {
                "id": raw["id"],
                "fields": {k: read_value(read_fields[k], v) for k, v in raw["fields"].items()},
            }
            if matches(node, record):
                assert predicate(rec), (where, record)
            elif result.exact:
                assert not predicate(rec), (where, record)


# ------------------------------------------------------------------------------------- values


def test_values_read_from_dingtalk_formats() -> None:
    f = {x.name: x for x in TABLE.fields}
    assert read_value(f["score"], "123") == 123 and read_value(f["score"], "-0.25") == -0.25
    assert read_value(f["score"], "1,234.5") == 1234.5
    assert read_value(f["status"], {"id": "c1", "name": "todo"}) == "todo"
    assert read_value(f["tags"], [{"id": "x", "name": "a"}, {"id": "y", "name": "b"}]) == ["a", "b"]
    assert read_value(f["due"], 1795311000000) == 1795311000000
    assert read_value(f["owner"], [{"unionId": "u1"}]) == [{"id": "u1"}]
    assert read_value(f["site"], {"text": "", "link": "https://a"}) == {
        "text": "https://a",
        "link": "https://a",
    }
    assert read_value(f["refs"], {"linkedRecordIds": ["r1", "r2"]}) == ["r1", "r2"]
    assert read_value(f["refs"], {"linkedRecordIds": []}) is None
    assert read_value(
        f["files"], [{"filename": "a.pdf", "size": 3, "type": "pdf", "url": "https://f/a"}]
    ) == [{"name": "a.pdf", "url": "https://f/a", "type": "pdf", "size": 3}]
    assert read_value(f["done"], True) is True
    assert read_value(f["dept"], [{"deptId": "1"}]) == [{"deptId": "1"}]  # other: as DingTalk gives it


def test_values_written_in_dingtalk_formats() -> None:
    write = row_writer(TABLE)
    assert write(
        {
            "name": "n",
            "score": 4.5,
            "status": "todo",
            "tags": ["a"],
            "due": 1795311000000,
            "owner": [{"id": "u1"}, {"id": "u2"}],
            "site": {"text": "x", "link": "https://x"},
            "refs": ["r1"],
            "files": [{"url": "https://f/a.pdf", "name": "a.pdf", "size": 10}],
            "done": True,
        }
    ) == {
        "name": "n",
        "score": 4.5,
        "status": "todo",
        "tags": ["a"],
        "due": 1795311000000,
        "owner": [{"unionId": "u1"}, {"unionId": "u2"}],
        "site": {"text": "x", "link": "https://x"},
        "refs": {"linkedRecordIds": ["r1"]},
        "files": [{"url": "https://f/a.pdf", "filename": "a.pdf", "size": 10}],
        "done": True,
    }
    cleared = write({n: None for n in ("name", "score", "tags", "owner", "refs", "files", "done", "status")})
    assert cleared == {
        "name": "",
        "score": None,
        "tags": [],
        "owner": [],
        "refs": {"linkedRecordIds": []},
        "files": [],
        "done": False,
        "status": None,
    }


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"refs": ["r1", "r2"]}, "one record"),
        ({"files": [{"name": "a.pdf"}]}, '"url"'),
        ({"files": [{"url": "https://x", "mime": "pdf"}]}, '"url"'),
        ({"files": [{"url": "https://x", "size": "big"}]}, "size"),
    ],
)
def test_values_dingtalk_would_refuse_are_refused_first(row: dict[str, Any], says: str) -> None:
    with pytest.raises(InputError) as info:
        check_rows(TABLE, [{"name": "ok"}, row])
    assert info.value.message.startswith("Record 1: Field") and says in info.value.message


def test_single_user_field_takes_one_user() -> None:
    field = FieldInfo(id="f", name="who", type=FieldType.user, extra={"property": {"multiple": False}})
    assert write_value(field, [{"id": "u1"}]) == [{"unionId": "u1"}]
    with pytest.raises(InputError, match="one user"):
        write_value(field, [{"id": "u1"}, {"id": "u2"}])


def test_fields_created_as_dingtalk_documents_them() -> None:
    spec = FieldSpec
    assert native_field(spec(name="s", type=FieldType.single_select, options=["x", "y"])) == {
        "name": "s",
        "type": "singleSelect",
        "property": {"choices": [{"name": "x"}, {"name": "y"}]},
    }
    assert native_field(spec(name="l", type=FieldType.link, options=["sheet2"])) == {
        "name": "l",
        "type": "unidirectionalLink",
        "property": {"multiple": True, "linkedSheetId": "sheet2"},
    }
    assert native_field(spec(name="d", type=FieldType.date))["property"] == {"formatter": "YYYY-MM-DD HH:mm"}
    with pytest.raises(InputError, match="options"):
        native_field(spec(name="l", type=FieldType.link))
    described = field_info(
        {"id": "f1", "name": "n", "type": "number", "property": {"formatter": "FLOAT_2"}}, True
    )
    assert described.public() == {"id": "f1", "name": "n", "type": "number", "primary": True}
    assert described.extra == {"property": {"formatter": "FLOAT_2"}} and described.native_type == "number"
    assert field_info({"id": "f2", "name": "d", "type": "department"}, False).type is FieldType.other


def test_long_filters_are_left_to_the_server() -> None:
    many = [str(i) for i in range(21)]
    assert compiled({"field": "name", "op": "in", "value": many}) == (None, False)
    native, exact = compiled({"and": [{"field": "score", "op": "gt", "value": i} for i in range(25)]})
    assert len(native["conditions"]) == 20 and not exact
