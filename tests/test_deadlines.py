"""No provider can hang a run: every outside call has a total deadline, and a cancel (or a shutdown)
closes the call in flight at once. Over real loopback sockets, then through the API.

The figures the tests measure are printed (`-s` shows them): how long a trickling or silent provider
held a call or a run, and how long a cancelled run took to end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from app.errors import ProviderError, RunStopped
from app.main import create_app
from app.services.run_service import RunControl
from app.tools.http_tool import HttpTool
from app.utils.cancellation import bind_stop, closing_call, unbind_stop
from tests.conftest import container_of, start_session
from tests.grok_script import any_role
from tests.provider_fakes import (
    OPENAI_URL,
    OPENROUTER_URL,
    image_bytes,
    make_settings,
    openai_image_answer,
)
from tests.slow_provider import SlowProvider

DEADLINE_S = 1.0


@pytest.fixture
def provider() -> Iterator[SlowProvider]:
    slow = SlowProvider()
    yield slow
    slow.close()


def tool(base_url: str, deadline_s: float = DEADLINE_S, **overrides: Any) -> HttpTool:
    settings = make_settings(http_max_retries=2, **overrides)
    return HttpTool(
        settings, provider="slowprov", base_url=base_url, read_timeout_s=30, deadline_s=deadline_s
    )


def control() -> RunControl:
    return RunControl("0" * 32, lambda kind, data: None)


def timed(work: Any) -> tuple[float, Any]:
    """How long `work` took, and what it returned or the exception it raised."""
    started = time.monotonic()
    try:
        outcome = work()
    except BaseException as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, outcome


def timed_in_a_run(
    work: Any, stop_after_s: float | None = None, stopped: str | None = None
) -> tuple[float, Any]:
    """`timed(work)` inside a run's control: one already stopped (`stopped` is the reason), or
    one a cancel stops `stop_after_s` into the call."""
    ctl = control()
    if stopped is not None:
        ctl.stop(stopped)
    if stop_after_s is not None:
        threading.Timer(stop_after_s, ctl.stop).start()
    token = bind_stop(ctl)
    try:
        return timed(work)
    finally:
        unbind_stop(token)


def hung_up_within(provider: SlowProvider, seconds: float) -> bool:
    """The client closed the (last) connection within `seconds` of now."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if provider.connections and provider.connections[-1].closed_at is not None:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("mode", ["trickle", "stall"])
def test_a_trickling_or_silent_provider_is_cut_off_at_the_deadline(
    provider: SlowProvider, mode: str
) -> None:
    provider.mode = mode
    http = tool(provider.url)
    took, error = timed(lambda: http.post_json("things", {"q": 1}))
    http.close()
    assert isinstance(error, ProviderError) and error.code == "provider_timeout", error
    assert error.details["deadline_s"] == DEADLINE_S
    assert DEADLINE_S - 0.05 <= took < DEADLINE_S + 1.0
    assert hung_up_within(provider, 1.0)  # the connection was closed, not left to trickle
    assert len(provider.connections) == 1  # no retry after the deadline


def test_a_trickle_through_a_mock_transport_is_cut_off_too() -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(600):
                time.sleep(0.05)
                yield b" "

    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=Trickle()))
    http = HttpTool(
        make_settings(),
        provider="slowprov",
        base_url="https://slow.test/",
        read_timeout_s=30,
        deadline_s=DEADLINE_S,
        transport=transport,
    )
    took, error = timed(lambda: http.post_json("things", {}))
    assert isinstance(error, ProviderError) and error.code == "provider_timeout"
    assert took < DEADLINE_S + 1.0


@pytest.mark.parametrize("mode", ["trickle", "stall"])
def test_a_cancel_closes_the_call_in_flight(provider: SlowProvider, mode: str) -> None:
    provider.mode = mode
    http = tool(provider.url, deadline_s=60)
    took, error = timed_in_a_run(lambda: http.post_json("things", {}), stop_after_s=0.3)
    http.close()
    assert isinstance(error, RunStopped) and error.code == "cancelled"
    assert took < 0.3 + 1.0
    assert hung_up_within(provider, 1.0)


def test_a_cancel_closes_a_later_call_of_the_same_client_too(provider: SlowProvider) -> None:
    """No pooled connection is waiting for headers out of reach: each call has its own socket."""
    provider.mode = "ok"
    http = tool(provider.url, deadline_s=60)
    assert http.post_json("things", {}) == {"ok": True}
    provider.mode = "stall"
    _, error = timed_in_a_run(lambda: http.post_json("things", {}), stop_after_s=0.3)
    http.close()
    assert isinstance(error, RunStopped)
    assert len(provider.connections) == 2
    assert hung_up_within(provider, 1.0)


def test_after_a_shutdown_no_new_call_starts(provider: SlowProvider) -> None:
    provider.mode = "ok"
    http = tool(provider.url)
    _, error = timed_in_a_run(lambda: http.post_json("things", {}), stopped="interrupted")
    http.close()
    assert isinstance(error, RunStopped) and error.code == "interrupted"
    assert provider.connections == []


def test_a_closing_call_started_after_a_plain_cancel_still_runs(provider: SlowProvider) -> None:
    """The run's closing call (its recommendations) is made after the cancel on purpose."""
    provider.mode = "ok"
    http = tool(provider.url)

    def closing() -> Any:
        with closing_call():
            return http.post_json("things", {})

    _, answer = timed_in_a_run(closing, stopped="cancelled")
    http.close()
    assert answer == {"ok": True}


def test_any_other_call_started_after_a_cancel_is_stopped(provider: SlowProvider) -> None:
    """A candidate's image call that starts just after the cancel (it passed its own check a
    moment before) must not run to its deadline while the run waits for it."""
    provider.mode = "ok"
    http = tool(provider.url)
    _, error = timed_in_a_run(lambda: http.post_json("things", {}), stopped="cancelled")
    http.close()
    assert isinstance(error, RunStopped) and error.code == "cancelled"
    assert provider.connections == []  # stopped before it reached the provider


def test_a_cancel_cuts_a_retry_wait_short(provider: SlowProvider) -> None:
    provider.mode, provider.retry_after_s = "retry_after", 20
    http = tool(provider.url, deadline_s=60)
    took, error = timed_in_a_run(lambda: http.post_json("things", {}), stop_after_s=0.3)
    http.close()
    assert isinstance(error, RunStopped) and took < 1.3
    assert len(provider.connections) == 1


def test_a_retry_wait_longer_than_the_time_left_gives_up_at_once(provider: SlowProvider) -> None:
    provider.mode, provider.retry_after_s = "retry_after", 5
    http = tool(provider.url, deadline_s=2)
    took, error = timed(lambda: http.post_json("things", {}))
    http.close()
    assert isinstance(error, ProviderError) and error.code == "provider_rate_limited"
    assert error.details["deadline_s"] == 2 and took < 1.0


# Through the API -------------------------------------------------------------------------------

PNG = image_bytes("PNG", (16, 16))


def wait_until(client: Any, sid: str, done: Any, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        session = client.get(f"/api/sessions/{sid}").json
        if done(session):
            return session
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_cancel_ends_a_run_stuck_in_a_provider_call_within_moments(tmp_path: Path) -> None:
    release, in_flight = threading.Event(), threading.Event()
    calls = {"n": 0}

    def images(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:  # the optimize run's image: the provider never answers
            in_flight.set()
            release.wait(60)
        return httpx.Response(200, json=openai_image_answer(PNG))

    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=any_role)
    mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
    app = create_app(
        make_settings(storage_dir=tmp_path / "s"), transport=httpx.MockTransport(mock.handler)
    )
    client = app.test_client()
    try:
        sid = start_session(client, goal="a fox", provider="openai")["session_id"]
        client.post(f"/api/sessions/{sid}/generate", json={})
        started = client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
        assert started.status_code == 202
        wait_until(client, sid, lambda s: (s["current_step"] or {}).get("step") == "generate")
        assert in_flight.wait(10), "the run's image call never started"
        asked = time.monotonic()
        assert client.post(f"/api/sessions/{sid}/optimize/cancel", json={}).status_code == 202
        final = wait_until(client, sid, lambda s: s["status"] != "running", timeout_s=10)
        took = time.monotonic() - asked
        again = client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
        wait_until(client, sid, lambda s: s["status"] != "running", timeout_s=10)
    finally:
        release.set()
        container_of(app).close()
    assert took < 2.0
    assert final["status"] == "done" and final["run"]["stop_reason"] == "cancelled"
    assert final["iterations"][-1]["error"]["code"] == "cancelled"
    assert again.status_code == 202  # no 409 until a restart


def test_a_trickling_judge_holds_a_run_no_longer_than_its_deadline(tmp_path: Path) -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(10_000):
                time.sleep(0.05)
                yield b" "

    def text(request: httpx.Request) -> httpx.Response:
        role = json.loads(request.content)["response_format"]["json_schema"]["name"]
        if role == "judge":
            return httpx.Response(200, stream=Trickle())
        return any_role(request)

    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=text)
    mock.post(f"{OPENAI_URL}/images/generations").respond(200, json=openai_image_answer(PNG))
    settings = make_settings(storage_dir=tmp_path / "s", text_deadline_s=1.5)
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    started = time.monotonic()
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    took = time.monotonic() - started
    container_of(app).close()
    assert response.status_code == 504 and response.json["code"] == "provider_timeout"
    it = response.json["details"]["session"]["iterations"][0]
    assert it["status"] == "failed" and it["image_path"] == "iter_0.png"  # the paid image is kept
    assert took < 1.5 + 1.0
