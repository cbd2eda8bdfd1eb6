"""The shared HTTP core: retries, Retry-After, error mapping, size cap, timeouts and log hygiene."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from app.errors import ProviderError
from app.tools.http_tool import HttpTool, RetryPolicy, retry_after_s, scrub_message
from tests.provider_fakes import (
    OPENAI_KEY,
    FakeSleep,
    b64,
    gemini_error,
    image_bytes,
    make_settings,
    openai_error,
    openrouter_error,
    router,
    transport_for,
)

BASE = "https://fake.test/v1/"
URL = "https://fake.test/v1/things"


@pytest.fixture
def mock() -> respx.MockRouter:
    return router()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def make_tool(mock: respx.MockRouter, sleep: FakeSleep, **overrides: object) -> HttpTool:
    return HttpTool(
        make_settings(**overrides),
        provider="fakeprov",
        base_url=BASE,
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        read_timeout_s=42.0,
        transport=transport_for(mock),
        secrets=[OPENAI_KEY],
        sleep=sleep,
    )


def failure_of(tool: HttpTool) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        tool.post_json("things", {"q": 1})
    return caught.value


def test_success_returns_json_and_sends_auth(mock, sleep):
    route = mock.post(URL).respond(200, json={"ok": True})
    tool = make_tool(mock, sleep)

    assert tool.post_json("things", {"q": 1}) == {"ok": True}
    assert route.calls.last.request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sleep.waits == []


def test_timeouts_are_explicit(mock, sleep):
    tool = make_tool(mock, sleep, http_connect_timeout_s=3.5)

    assert tool.client.timeout.connect == 3.5
    assert tool.client.timeout.read == 42.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(mock, sleep, status):
    route = mock.post(URL)
    route.side_effect = [httpx.Response(status, json={}), httpx.Response(200, json={"ok": 1})]
    tool = make_tool(mock, sleep)

    assert tool.post_json("things", {}) == {"ok": 1}
    assert route.call_count == 2
    assert len(sleep.waits) == 1


def test_gives_up_after_max_retries(mock, sleep):
    route = mock.post(URL).respond(500, json=openrouter_error(500, "upstream exploded"))
    error = failure_of(make_tool(mock, sleep))

    assert route.call_count == 3  # http_max_retries=2: three attempts in all
    assert error.code == "provider_unavailable"
    assert error.upstream_status == 500
    assert error.retryable is True
    assert "upstream exploded" in error.message


def test_retry_after_seconds_is_honoured(mock, sleep):
    route = mock.post(URL)
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "2"}, json=openrouter_error(429, "slow")),
        httpx.Response(200, json={}),
    ]
    make_tool(mock, sleep).post_json("things", {})

    assert sleep.waits == [2.0]


def test_retry_after_ms_wins_over_seconds(mock, sleep):
    route = mock.post(URL)
    headers = {"retry-after-ms": "1500", "Retry-After": "9"}
    route.side_effect = [httpx.Response(429, headers=headers), httpx.Response(200, json={})]
    make_tool(mock, sleep).post_json("things", {})

    assert sleep.waits == [1.5]


def test_retry_after_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waited = retry_after_s(httpx.Headers({"Retry-After": when}))

    assert waited is not None and 25 <= waited <= 30


def test_retry_after_beyond_cap_is_reported_not_waited(mock, sleep):
    route = mock.post(URL).respond(429, headers={"Retry-After": "600"}, json={})
    error = failure_of(make_tool(mock, sleep, http_retry_after_cap_s=60))

    assert route.call_count == 1
    assert sleep.waits == []
    assert error.code == "provider_rate_limited"
    assert error.details["retry_after_s"] == 600


def test_backoff_grows_and_is_capped_with_jitter():
    policy = RetryPolicy(max_retries=6, backoff_base_s=0.5, backoff_cap_s=8.0)

    assert [policy.backoff(n, rng=lambda: 0.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 8, 8]
    assert policy.backoff(1, rng=lambda: 1.0) == pytest.approx(0.375)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (400, openai_error("Invalid size", type_="invalid_request_error", code=None), "unsupported_param"),
        (401, openai_error("Incorrect API key", type_="invalid_request_error", code="invalid_api_key"), "provider_auth"),
        (402, openrouter_error(402, "Insufficient credits"), "provider_quota"),
        (403, gemini_error(403, "API key not valid", "PERMISSION_DENIED"), "provider_auth"),
        (404, openrouter_error(404, "No endpoints found for x-ai/nope"), "provider_bad_response"),
        (429, openai_error("You exceeded your quota", type_="insufficient_quota", code="insufficient_quota"), "provider_quota"),
    ],
)  # fmt: skip
def test_non_retryable_failures_are_not_retried(mock, sleep, status, body, code):
    route = mock.post(URL).respond(status, json=body)
    error = failure_of(make_tool(mock, sleep))

    assert route.call_count == 1
    assert sleep.waits == []
    assert error.code == code
    assert error.retryable is False
    assert error.upstream_status == status
    assert body["error"]["message"] in error.message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, openai_error("Your request was rejected by the safety system.", type_="image_generation_user_error", code="moderation_blocked")),
        (403, openrouter_error(403, "Input was flagged", reasons=["violence"], flagged_input="...")),
        (400, {"code": "Client specified an invalid argument", "error": "Generated image rejected by content moderation."}),
    ],
)  # fmt: skip
def test_moderation_refusals_are_content_blocked(mock, sleep, status, body):
    route = mock.post(URL).respond(status, json=body)
    error = failure_of(make_tool(mock, sleep))

    assert error.code == "content_blocked"
    assert route.call_count == 1


def test_gemini_resource_exhausted_is_rate_limited_and_retried(mock, sleep):
    route = mock.post(URL).respond(
        429, json=gemini_error(429, "Resource exhausted", "RESOURCE_EXHAUSTED")
    )
    error = failure_of(make_tool(mock, sleep))

    assert error.code == "provider_rate_limited"
    assert route.call_count == 3


def test_timeouts_map_to_provider_timeout_with_cause(mock, sleep):
    route = mock.post(URL).mock(side_effect=httpx.ReadTimeout("read timed out"))
    error = failure_of(make_tool(mock, sleep))

    assert error.code == "provider_timeout"
    assert route.call_count == 3
    assert isinstance(error.__cause__, httpx.ReadTimeout)


def test_connection_errors_map_to_unavailable(mock, sleep):
    mock.post(URL).mock(side_effect=httpx.ConnectError("connection refused"))
    error = failure_of(make_tool(mock, sleep, http_max_retries=0))

    assert error.code == "provider_unavailable"
    assert isinstance(error.__cause__, httpx.ConnectError)


def test_unparsable_success_body_is_bad_response(mock, sleep):
    mock.post(URL).respond(200, text="<html>gateway hiccup</html>")

    assert failure_of(make_tool(mock, sleep)).code == "provider_bad_response"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": [{"b64_json": "iVBORw0KGgo="}], "n": 1.5, "big": 123456789012345678901234567890}',
        b'\xef\xbb\xbf{"ok": true}',  # a byte-order mark
        '{"text": "\u00e9t\u00e9"}'.encode("utf-16"),
        b'{"text": "\\ud800 alone"}',  # a lone surrogate escape
        b"[" * 300 + b"]" * 300,  # deeper than the fast parser goes
        b'{"a": NaN, "b": -Infinity}',
    ],
)
def test_success_bodies_parse_as_the_standard_json_module_reads_them(mock, sleep, raw):
    mock.post(URL).respond(200, content=raw, headers={"content-type": "application/json"})

    parsed = make_tool(mock, sleep).post_json("things", {"q": 1})
    expected = json.loads(raw)
    assert json.dumps(parsed) == json.dumps(expected)  # NaN-safe comparison


@pytest.mark.parametrize("raw", [b"", b'{"a": 1} trailing', b'{"a": "\x01"}', b"\xff\xfe\xfd"])
def test_bodies_the_json_module_refuses_are_bad_responses(mock, sleep, raw):
    mock.post(URL).respond(200, content=raw)

    assert failure_of(make_tool(mock, sleep)).code == "provider_bad_response"


def test_oversized_body_is_refused(mock, sleep):
    mock.get("https://cdn.test/img.png").respond(200, content=b"x" * 5000)
    tool = make_tool(mock, sleep)

    with pytest.raises(ProviderError) as caught:
        tool.get_bytes("https://cdn.test/img.png", max_bytes=1000)
    assert caught.value.code == "provider_bad_response"


def test_error_messages_are_scrubbed_and_short(mock, sleep):
    leaked = f"bad key {OPENAI_KEY} and data {b64(image_bytes()) * 4} " + "x" * 500
    mock.post(URL).respond(401, json=openai_error(leaked, type_="invalid_request_error", code=None))
    error = failure_of(make_tool(mock, sleep))

    assert OPENAI_KEY not in error.message
    assert "iVBOR" not in error.message
    assert len(error.details["provider_message"]) <= 300


def test_scrub_message_hides_bearer_tokens():
    assert "abc123secret" not in scrub_message("Authorization: Bearer abc123secret rejected")


def test_each_attempt_is_logged_without_secrets(mock, sleep, caplog):
    route = mock.post(URL)
    route.side_effect = [
        httpx.Response(503, json=openai_error(f"down {b64(image_bytes()) * 4}", type_="server_error", code=None)),
        httpx.Response(200, json={"b64_json": b64(image_bytes()) * 4}),
    ]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="sfumato"):
        make_tool(mock, sleep).post_json("things", {"prompt": "fox"})

    calls = [r for r in caplog.records if r.getMessage() == "outside call"]
    assert [(r.attempt, r.status) for r in calls] == [(1, 503), (2, 200)]
    assert all(r.provider == "fakeprov" and r.latency_ms >= 0 for r in calls)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert OPENAI_KEY not in text and "iVBOR" not in text
