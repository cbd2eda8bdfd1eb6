"""The events stream as an outside client reads it: with httpx-sse (a library nobody here wrote)
over a real socket. Every event names itself (`state` or `done`), carries an `id` and a whole
Session; a client that reconnects with `Last-Event-ID` gets what it lacks and the final state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import ServerSentEvent, connect_sse
from jsonschema_rs import Draft202012Validator

from app.models.domain_models import Session
from tests.live_server import serving


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(Path(tmp_path_factory.mktemp("events")), demo_step_delay_s=0.02) as url:
        yield url


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


def new_session(http: httpx.Client, generated: bool = True) -> str:
    sid = http.post("/api/sessions", json={"goal": "a red fox asleep in snow"}).json()["session_id"]
    if generated:
        assert http.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    return sid


def read(http: httpx.Client, sid: str, last_id: str | None = None) -> list[ServerSentEvent]:
    headers = {"Last-Event-ID": last_id} if last_id is not None else {}
    with connect_sse(http, "GET", f"/api/sessions/{sid}/events", headers=headers) as source:
        return list(source.iter_sse())


def test_every_event_is_named_has_an_id_and_carries_a_session(http: httpx.Client) -> None:
    spec = http.get("/api/openapi.json").json()
    parsed = Draft202012Validator(
        {"$ref": "#/components/schemas/SessionEvent", "components": spec["components"]}
    )
    answers = spec["paths"]["/api/sessions/{session_id}/events"]["get"]["responses"]
    as_sent = Draft202012Validator(
        {
            **answers["200"]["content"]["text/event-stream"]["schema"],
            "components": spec["components"],
        }
    )
    sid = new_session(http)
    body = {"iterations_count": 2, "candidates": 2, "wait": False}
    assert http.post(f"/api/sessions/{sid}/optimize/run", json=body).status_code == 202
    events = read(http, sid)
    assert [e.event for e in events][-1] == "done"
    assert {e.event for e in events} <= {"state", "done"}
    for event in events:
        assert event.id, f"{event.event} without an id"
        Session.model_validate_json(event.data)
        fields = {"event": event.event, "id": event.id, "data": event.data}
        assert as_sent.is_valid(fields) and not isinstance(fields["data"], dict)
        fields["data"] = event.json()
        assert parsed.is_valid(fields), next(parsed.iter_errors(fields)).message
    final = events[-1].json()
    assert final["status"] == "done" and final == http.get(f"/api/sessions/{sid}").json()
    # one id per snapshot: different sessions never share one, the same one always does
    by_id: dict[str, str] = {}
    for event in events:
        assert by_id.setdefault(event.id, event.data) == event.data


def test_a_client_that_has_the_latest_snapshot_gets_done_at_once(http: httpx.Client) -> None:
    sid = new_session(http)
    first = read(http, sid)
    assert [e.event for e in first] == ["state", "done"] and first[0].id == first[1].id
    again = read(http, sid, last_id=first[-1].id)
    assert [(e.event, e.id) for e in again] == [("done", first[-1].id)]
    assert again[0].json() == first[-1].json()


def test_a_client_with_an_older_snapshot_gets_the_current_one(http: httpx.Client) -> None:
    sid = new_session(http, generated=False)
    draft = read(http, sid)[0]
    assert http.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    resumed = read(http, sid, last_id=draft.id)
    assert [e.event for e in resumed] == ["state", "done"]
    assert resumed[0].id != draft.id
    assert resumed[0].json()["iterations"][0]["judge_score"] is not None
    assert read(http, sid, last_id="not-an-id-we-sent")[0].event == "state"


def test_a_stream_cut_during_a_run_resumes_to_the_final_state(http: httpx.Client) -> None:
    sid = new_session(http)
    body = {"iterations_count": 2, "candidates": 2, "wait": False}
    assert http.post(f"/api/sessions/{sid}/optimize/run", json=body).status_code == 202
    path = f"/api/sessions/{sid}/events"
    with connect_sse(http, "GET", path) as source:
        seen = next(source.iter_sse())  # the first snapshot, then the connection is dropped
    assert seen.event == "state" and seen.id
    resumed = read(http, sid, last_id=seen.id)
    assert resumed[-1].event == "done"
    assert all(e.id != seen.id for e in resumed if e.event == "state")
    final = resumed[-1].json()
    assert final["status"] == "done" and final == http.get(f"/api/sessions/{sid}").json()
    assert json.loads(resumed[-1].data)["run"]["kind"] == "optimize"
