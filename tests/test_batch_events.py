"""The batch's events stream (the web app's batch page follows it instead of polling): whole
snapshots to `done`, only the newest for a slow reader, `Last-Event-ID` resume and the 404."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

from app.services.batch_service import BatchService

GOALS = "three red apples\na sign that says OPEN\na blue kite over dunes"


def start(client: FlaskClient) -> str:
    body = {"goals": GOALS, "provider": "demo", "iterations": 1, "jobs": 1}
    started = client.post("/api/batches", json=body)
    assert started.status_code == 202, started.json
    return started.json["batch_id"]


def chunks(client: FlaskClient, batch_id: str, **headers: str) -> Iterator[str]:
    """The stream's raw events, one per item, read only as the caller asks for them."""
    response = client.get(f"/api/batches/{batch_id}/events", buffered=False, headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    for chunk in response.response:
        yield chunk.decode()


def read_all(client: FlaskClient, batch_id: str, **headers: str) -> list[str]:
    """The whole stream, read on a helper thread: a stream that never ends fails the test (after a
    minute) instead of hanging the suite."""
    out: list[str] = []
    ended = threading.Event()

    def read() -> None:
        out.extend(chunks(client, batch_id, **headers))
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert ended.wait(60), "the events stream did not end with the batch"
    return out


def parse(chunk: str) -> tuple[str, str, Any]:
    fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    return fields["event"], fields["id"], json.loads(fields["data"])


def test_the_stream_of_a_demo_batch_ends_with_done_and_the_final_state(
    client: FlaskClient,
) -> None:
    batch_id = start(client)
    events = [parse(c) for c in read_all(client, batch_id) if not c.startswith(":")]
    kinds = [kind for kind, _, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"state"}
    final = events[-1][2]
    assert final == client.get(f"/api/batches/{batch_id}").json
    assert final["status"] == "done" and final["summary"]["done"] == 3
    assert all(data["batch_id"] == batch_id for _, _, data in events)


def test_a_slow_reader_gets_only_the_newest_snapshot(
    client: FlaskClient, batches: BatchService
) -> None:
    batch_id = start(client)
    stream = chunks(client, batch_id)
    first = parse(next(stream))  # the reader then stops reading while the batch runs to its end
    assert first[0] == "state"
    assert batches.get(batch_id).finished.wait(60)
    rest = [parse(c) for c in stream if not c.startswith(":")]
    final = client.get(f"/api/batches/{batch_id}").json
    if first[2]["status"] == "running":  # the batch saved many changes meanwhile: one is sent
        assert [(kind, data) for kind, _, data in rest] == [("state", final), ("done", final)]
    else:
        assert [kind for kind, _, _ in rest] == ["done"]


def test_a_reader_that_has_the_final_snapshot_resumes_to_done_alone(client: FlaskClient) -> None:
    batch_id = start(client)
    events = [parse(c) for c in read_all(client, batch_id) if not c.startswith(":")]
    _, last_id, _ = events[-1]
    again = [parse(c) for c in read_all(client, batch_id, **{"Last-Event-ID": last_id})]
    assert [kind for kind, _, _ in again] == ["done"]


def test_an_unknown_batch_has_no_stream(client: FlaskClient) -> None:
    response = client.get("/api/batches/20260101-000000-nobatch0/events")
    assert response.status_code == 404
    assert set(response.json) == {"code", "message", "details"}
