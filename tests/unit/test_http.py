"""The one HTTP call path: retries what is safe, refreshes tokens once, never repeats a write blindly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from anytable.errors import ProviderError
from anytable.providers.http import NOT_APPLIED, ApiClient
from anytable.providers.retry import RetryPolicy

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)


def parse(response: httpx.Response) -> Any:
    body = response.json()
    if body.get("error") == "auth":
        raise ProviderError("token expired", kind="auth")
    if body.get("error") == "throttle":
        raise ProviderError("slow down", kind="throttle", retry_after=0.001)
    if body.get("error") == "transient":
        raise ProviderError("busy", kind="transient", code="503x")
    if body.get("error") == "fatal":
        raise ProviderError("bad field", kind="fatal", code="E1", request_id="req-1")
    return body


def client(answers: list[Any], seen: list[httpx.Request]) -> ApiClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(200, json=answer)

    return ApiClient(
        provider="demo", base_url="https://demo.test", transport=httpx.MockTransport(handler), retry=FAST
    )


async def test_transient_and_throttle_are_retried() -> None:
    seen: list[httpx.Request] = []
    api = client([{"error": "transient"}, {"error": "throttle"}, {"ok": 1}], seen)
    assert await api.call("GET", "/x", parse=parse) == {"ok": 1}
    assert len(seen) == 3


async def test_auth_error_refreshes_once() -> None:
    seen: list[httpx.Request] = []
    tokens = iter(["t1", "t2", "t3"])
    current = {"t": next(tokens)}

    async def auth() -> dict[str, str]:
        return {"authorization": current["t"]}

    async def refresh() -> None:
        current["t"] = next(tokens)

    api = client([{"error": "auth"}, {"ok": 1}], seen)
    assert await api.call("GET", "/x", parse=parse, auth=auth, on_auth_error=refresh) == {"ok": 1}
    assert [r.headers["authorization"] for r in seen] == ["t1", "t2"]

    api = client([{"error": "auth"}, {"error": "auth"}, {"ok": 1}], seen := [])
    with pytest.raises(ProviderError, match="token expired"):
        await api.call("GET", "/x", parse=parse, auth=auth, on_auth_error=refresh)
    assert len(seen) == 2  # refreshed once, then gave up


async def test_fatal_errors_are_not_retried_and_keep_code_and_request_id() -> None:
    seen: list[httpx.Request] = []
    api = client([{"error": "fatal"}], seen)
    with pytest.raises(ProviderError) as info:
        await api.call("POST", "/x", parse=parse)
    assert len(seen) == 1
    assert str(info.value) == "bad field (demo code E1, request id req-1)"


async def test_lost_answer_to_a_write_is_reconciled_not_repeated() -> None:
    seen: list[httpx.Request] = []
    lost = httpx.ReadTimeout("lost")
    api = client([lost], seen)
    checks: list[int] = []

    async def reconcile() -> Any:
        checks.append(1)
        return {"found": True}

    assert await api.call("POST", "/w", parse=parse, idempotent=False, reconcile=reconcile) == {"found": True}
    assert len(seen) == 1 and checks == [1]


async def test_write_not_applied_is_sent_again() -> None:
    seen: list[httpx.Request] = []
    api = client([httpx.ReadTimeout("lost"), {"ok": 2}], seen)

    async def reconcile() -> Any:
        return NOT_APPLIED

    assert await api.call("POST", "/w", parse=parse, idempotent=False, reconcile=reconcile) == {"ok": 2}
    assert len(seen) == 2


async def test_write_with_unknown_outcome_and_no_way_to_check_is_not_repeated() -> None:
    seen: list[httpx.Request] = []
    api = client([httpx.ReadTimeout("lost"), {"ok": 2}], seen)
    with pytest.raises(ProviderError, match="may or may not have been applied"):
        await api.call("POST", "/w", parse=parse, idempotent=False)
    assert len(seen) == 1


async def test_idempotent_write_is_repeated_after_a_lost_answer() -> None:
    seen: list[httpx.Request] = []
    api = client([httpx.ReadTimeout("lost"), {"ok": 3}], seen)
    assert await api.call("POST", "/w", parse=parse, idempotent=True) == {"ok": 3}
    assert len(seen) == 2


async def test_gives_up_after_the_policy_attempts() -> None:
    seen: list[httpx.Request] = []
    api = client([{"error": "transient"}] * 10, seen)
    with pytest.raises(ProviderError, match="Gave up after 4 tries"):
        await api.call("GET", "/x", parse=parse)
    assert len(seen) == 4


async def test_a_lost_write_answer_then_failing_retries_is_reconciled_before_giving_up() -> None:
    seen: list[httpx.Request] = []
    lost = httpx.ReadTimeout("lost")
    api = client([lost, {"error": "transient"}, {"error": "transient"}, {"error": "transient"}], seen)
    checked: list[int] = []

    async def reconcile() -> Any:
        checked.append(1)
        return {"found": "it was stored"}

    # idempotent (a write under its own token): retried, and when retries run out, checked
    answer = await api.call("POST", "/w", parse=parse, idempotent=True, reconcile=reconcile)
    assert answer == {"found": "it was stored"} and checked == [1]


async def test_a_lost_write_answer_that_cannot_be_checked_is_unknown_never_call_again() -> None:
    seen: list[httpx.Request] = []
    api = client([httpx.ReadTimeout("lost")] + [{"error": "throttle"}] * 30, seen)
    api.retry = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002, max_total_wait=0.02)
    with pytest.raises(ProviderError) as info:
        await api.call("POST", "/w", parse=parse, idempotent=True)
    assert info.value.kind == "unknown_outcome"
    assert "may or may not" in info.value.message and "call the tool again" not in info.value.message


async def test_throttling_costs_time_not_tries() -> None:
    seen: list[httpx.Request] = []
    api = client([{"error": "throttle"}] * 10 + [{"ok": 1}], seen)  # more throttles than attempts
    assert await api.call("GET", "/x", parse=parse) == {"ok": 1}
    assert len(seen) == 11
