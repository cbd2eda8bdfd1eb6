"""Racing requests on one session: every state change is checked and applied under the session's
lock, so of two racing requests one wins and the other is a 409 that changed nothing (never a 500).

Runs are held in place by a text fake that blocks a chosen role's call on an Event, so "a run is
going" is a fact, not a timing; the tests wait on Events and Barriers, never on sleeps. `make
stress` runs every test marked `race` 50 times.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import container_of, start_session
from tests.grok_script import any_role, scripted_app

pytestmark = pytest.mark.race
WAIT_S = 30  # an Event or Barrier that waits longer than this means the test is broken


class Gate:
    """OpenRouter faked at the transport level; the next call of the armed role waits for
    `release` (and sets `arrived` once it is waiting). Every answer is a plain valid one."""

    def __init__(self) -> None:
        self.role: str | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def arm(self, role: str) -> None:
        with self.lock:
            self.role = role
            self.arrived.clear()
            self.release.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        role = json.loads(request.content)["response_format"]["json_schema"]["name"]
        with self.lock:
            hold = role == self.role
            if hold:
                self.role = None  # one call only
        if hold:
            self.arrived.set()
            assert self.release.wait(WAIT_S), "the gate was never released"
        return any_role(request)


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def app(tmp_path: Path, gate: Gate) -> Iterator[Flask]:
    yield from scripted_app(tmp_path, gate)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def reviewed(client: FlaskClient) -> str:
    """A session with its baseline generated and judged (draft, ready to optimize)."""
    sid = start_session(client)["session_id"]
    answer = client.post(f"/api/sessions/{sid}/generate", json={})
    assert answer.status_code == 200, answer.json
    return sid


def wait_idle(client: FlaskClient, sid: str) -> dict[str, Any]:
    """Waits (on the run's events) until nothing runs for the session and its after-run work is
    written; returns the session."""
    runs = container_of(client.application).runs
    listener = runs.subscribe(sid)
    try:
        while runs.is_running(sid):
            try:
                listener.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError("the run never ended") from None
    finally:
        runs.unsubscribe(sid, listener)
    runs.wait_followup(sid)
    return client.get(f"/api/sessions/{sid}").json


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls at once (released together by a Barrier); their answers, in order."""
    barrier = threading.Barrier(len(calls), timeout=WAIT_S)
    answers: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        answers[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def test_two_racing_optimize_starts_give_one_run_and_one_409(
    client: FlaskClient, gate: Gate
) -> None:
    sid = reviewed(client)
    gate.arm("revise")  # the winner's run holds at its first revision
    url = f"/api/sessions/{sid}/optimize/run"
    answers = race(*[lambda: client.post(url, json={"wait": False})] * 2)
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 409], [a.json for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json["code"] == "run_in_progress"
    assert gate.arrived.wait(WAIT_S)
    gate.release.set()
    done = wait_idle(client, sid)
    assert done["status"] == "done" and done["run"]["kind"] == "optimize"


def test_generate_optimize_and_accept_race_without_a_500(client: FlaskClient, gate: Gate) -> None:
    sid = reviewed(client)
    gate.arm("revise")
    before = client.get(f"/api/sessions/{sid}").json
    answers = race(
        lambda: client.post(f"/api/sessions/{sid}/generate", json={"wait": False}),
        lambda: client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False}),
        lambda: client.put(
            f"/api/sessions/{sid}/feedback", json={"feedback": "accept me", "accepted": True}
        ),
    )
    codes = [a.status_code for a in answers]
    assert all(code in (200, 202, 409) for code in codes), [a.json for a in answers]
    assert any(code in (200, 202) for code in codes)
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json["code"] in ("run_in_progress", "invalid_state", "conflict")
    gate.release.set()
    done = wait_idle(client, sid)
    assert done["status"] != "running" and done["current_step"] is None
    accepted = answers[2].status_code == 200
    # a refused accept stored nothing: neither its feedback nor the acceptance
    assert (done["user_feedback"] == "accept me") == accepted
    if not accepted:
        assert done["accepted"] is False
        assert done["user_feedback"] == before["user_feedback"]


def test_feedback_whose_rewrite_meets_a_started_run_is_kept_not_refused(
    client: FlaskClient, gate: Gate
) -> None:
    """The feedback is stored by a checked change; a run that starts during its checklist rewrite
    makes the rewrite stale (dropped), not the request a 409 that was saved anyway."""
    sid = reviewed(client)
    gate.arm("checklist")
    answer: dict[str, Any] = {}
    feedback = threading.Thread(
        target=lambda: answer.update(
            r=client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"})
        )
    )
    feedback.start()
    assert gate.arrived.wait(WAIT_S)  # the feedback is stored; its rewrite is in flight
    started = client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
    assert started.status_code == 202
    gate.release.set()
    feedback.join(WAIT_S)
    assert answer["r"].status_code == 200, answer["r"].json
    done = wait_idle(client, sid)
    assert done["user_feedback"] == "warmer light"
    assert done["checklist_feedback"] == "warmer light"  # the run wrote it for the feedback
    assert done["status"] == "done"


def test_feedback_racing_a_start_is_refused_unchanged_or_stored(
    client: FlaskClient, gate: Gate
) -> None:
    sid = reviewed(client)
    gate.arm("revise")
    answers = race(
        lambda: client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "more fog"}),
        lambda: client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False}),
    )
    fed, started = (a.status_code for a in answers)
    assert started == 202 and fed in (200, 409), [a.json for a in answers]
    gate.release.set()
    done = wait_idle(client, sid)
    if fed == 409:
        assert answers[0].json["code"] == "run_in_progress"
    assert (done["user_feedback"] == "more fog") == (fed == 200)


def test_a_checklist_edit_during_a_feedback_rewrite_is_not_overwritten(
    client: FlaskClient, gate: Gate
) -> None:
    """The policy (docs/API.md): the person's edit wins; the rewrite begun before it is dropped."""
    sid = reviewed(client)
    gate.arm("checklist")
    answer: dict[str, Any] = {}
    feedback = threading.Thread(
        target=lambda: answer.update(
            r=client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"})
        )
    )
    feedback.start()
    assert gate.arrived.wait(WAIT_S)  # the rewrite's text call is in flight
    edited = [
        {"id": "q1", "question": "Is the fox asleep?", "source": "goal"},
        {"id": "q2", "question": "Is the snow fresh and white?", "source": "goal"},
    ]
    put = client.put(f"/api/sessions/{sid}/checklist", json={"checklist": edited})
    assert put.status_code == 200
    version = put.json["checklist_version"]
    gate.release.set()
    feedback.join(WAIT_S)
    assert answer["r"].status_code == 200
    now = client.get(f"/api/sessions/{sid}").json
    assert now["checklist_version"] == version
    assert [(i["id"], i["question"]) for i in now["checklist"]] == [
        (i["id"], i["question"]) for i in edited
    ]
    # and the next run does not rewrite it either: the person's checklist stands for the feedback
    run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    assert run.status_code == 200
    assert run.json["checklist_version"] == version


def test_a_run_that_ended_can_be_followed_at_once_and_starts_when_it_starts(
    client: FlaskClient,
) -> None:
    """No grace wait: the ending is saved and the run released in one step, so a client that saw
    `done` starts the next run at once; its `started_at` is after the first run's end."""
    sid = reviewed(client)
    first = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    assert first.status_code == 200 and first.json["status"] == "done"
    second = client.post(
        f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1, "wait": False}
    )
    assert second.status_code == 202, second.json
    assert second.json["run"]["started_at"] >= first.json["run"]["finished_at"]
    assert wait_idle(client, sid)["status"] == "done"


def test_cancel_racing_the_end_of_a_run_is_202_or_not_running(
    client: FlaskClient, gate: Gate
) -> None:
    sid = reviewed(client)
    gate.arm("revise")
    started = client.post(
        f"/api/sessions/{sid}/optimize/run", json={"wait": False, "iterations_count": 1}
    )
    assert started.status_code == 202 and gate.arrived.wait(WAIT_S)
    answers = race(
        lambda: client.post(f"/api/sessions/{sid}/optimize/cancel", json={}),
        gate.release.set,
    )
    cancel = answers[0]
    assert cancel.status_code in (202, 409), cancel.json
    if cancel.status_code == 409:
        assert cancel.json["code"] == "not_running"
    done = wait_idle(client, sid)
    assert done["status"] == "done" and done["current_step"] is None
    assert done["run"]["stop_reason"] in ("cancelled", "completed", "target_reached", "plateau")
