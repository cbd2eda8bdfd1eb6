"""The paginated session list and the start-up index: pages, filters, search, lazy start-up, and an
index that is never trusted over the session files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.main import create_app
from app.models.domain_models import CurrentStep, Iteration, Session
from app.tools.storage_tool import INDEX_FILE, StorageTool
from tests.conftest import container_of, demo_settings, start_session

START = datetime(2026, 3, 1, tzinfo=UTC)


def stored(root: Path, n: int, **fields: Any) -> Session:
    """Writes session number `n` straight to disk (created n minutes after START)."""
    values: dict[str, Any] = {
        "session_id": f"{n:032x}",
        "user_goal": f"goal number {n}",
        "image_provider": "demo",
        "status": "done",
        "created_at": START + timedelta(minutes=n),
        "updated_at": START + timedelta(minutes=n),
        **fields,
    }
    session = Session(**values)
    StorageTool(root).save_session(session)
    return session


def started(tmp_path: Path, **overrides: Any) -> Flask:
    return create_app(demo_settings(tmp_path, **overrides))


def stop(app: Flask) -> None:
    container_of(app).close()


def all_pages(client: Any, query: str = "", limit: int = 2) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        url = f"/api/sessions?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json
        pages.append([s["session_id"] for s in body["sessions"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_pages_walk_every_session_newest_first_once(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    for n in range(5):
        stored(root, n)
    app = started(tmp_path)
    pages = all_pages(app.test_client())
    assert pages == [[f"{4:032x}", f"{3:032x}"], [f"{2:032x}", f"{1:032x}"], [f"{0:032x}"]]
    stop(app)


def test_default_page_is_fifty_with_a_cursor_to_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    for n in range(53):
        stored(root, n)
    app = started(tmp_path)
    client = app.test_client()
    first = client.get("/api/sessions").json
    assert len(first["sessions"]) == 50
    rest = client.get(f"/api/sessions?cursor={first['next_cursor']}").json
    assert [s["session_id"] for s in rest["sessions"]] == [f"{n:032x}" for n in (2, 1, 0)]
    assert rest["next_cursor"] is None
    stop(app)


def test_new_sessions_appear_first_and_carry_their_summary(client: Any) -> None:
    body = {"goal": "A Red Fox asleep in fresh snow", "provider": "demo"}
    sid = client.post("/api/sessions", json=body).json["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    summary = client.get("/api/sessions?limit=1").json["sessions"][0]
    assert summary["session_id"] == sid
    assert summary["iterations"] == 1 and summary["best_score"] is not None
    assert summary["thumbnail_url"] == f"/media/{sid}/thumb_0.jpg"
    assert summary["best_image_url"].startswith(f"/media/{sid}/iter_0.")


def test_filters_by_status_provider_and_goal_words(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    stored(root, 1, user_goal="A lighthouse at NIGHT", status="done", image_provider="openai")
    stored(root, 2, user_goal="a fox at night in snow", status="failed", image_provider="demo")
    stored(root, 3, user_goal="a lighthouse by day", status="draft", image_provider="demo")
    stored(root, 4, user_goal="night lighthouse, storm", status="done", image_provider="grok")
    app = started(tmp_path)
    client = app.test_client()

    def ids(query: str) -> list[int]:
        body = client.get(f"/api/sessions?{query}").json
        return [int(s["session_id"], 16) for s in body["sessions"]]

    assert ids("status=done") == [4, 1]
    assert ids("provider=demo") == [3, 2]
    assert ids("q=lighthouse%20night") == [4, 1]
    assert ids("q=NIGHT&status=done&provider=grok") == [4]
    assert ids("q=zebra") == []
    assert all_pages(client, "&q=lighthouse", limit=1) == [[f"{n:032x}"] for n in (4, 3, 1)]
    stop(app)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
        ("status=lost", "status"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "A" * 40, "cursor"),
    ],
)
def test_bad_list_queries_are_a_clear_400(client: Any, query: str, field: str) -> None:
    response = client.get(f"/api/sessions?{query}")
    assert response.status_code == 400
    assert response.json["code"] == "validation_error"
    assert field in json.dumps(response.json["details"])


def test_start_up_reads_the_index_not_every_session_file(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    stored(root, 1)
    stop(started(tmp_path))  # writes the index
    index = json.loads((root / INDEX_FILE).read_text())
    sid = f"{1:032x}"
    # An entry whose stamp still matches its file is used as it is: proof the file was not read.
    index["sessions"][sid][2][index["fields"].index("user_goal")] = "from the index"
    (root / INDEX_FILE).write_text(json.dumps(index))
    app = started(tmp_path)
    assert app.test_client().get("/api/sessions").json["sessions"][0]["user_goal"] == (
        "from the index"
    )
    assert container_of(app).sessions._cache == {}  # nothing loaded in full
    stop(app)


def test_a_changed_session_file_wins_over_the_index(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    stored(root, 1)
    stored(root, 2)
    stop(started(tmp_path))
    stored(root, 1, user_goal="edited on disk, a longer goal than before")
    app = started(tmp_path)
    goals = [s["user_goal"] for s in app.test_client().get("/api/sessions").json["sessions"]]
    assert goals == ["goal number 2", "edited on disk, a longer goal than before"]
    stop(app)


def test_missing_corrupt_or_old_index_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    for n in range(3):
        stored(root, n)
    old_format = json.dumps({"version": 0, "sessions": {}})
    other_fields = json.dumps({"version": 2, "fields": ["session_id"], "sessions": {}})
    for broken in ("{not json", old_format, other_fields, None):
        if broken is None:
            (root / INDEX_FILE).unlink()
        else:
            (root / INDEX_FILE).write_text(broken)
        app = started(tmp_path)
        assert len(app.test_client().get("/api/sessions").json["sessions"]) == 3
        stop(app)
        assert len(json.loads((root / INDEX_FILE).read_text())["sessions"]) == 3


def test_removed_session_folders_leave_the_list(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    stored(root, 1)
    stored(root, 2)
    stop(started(tmp_path))
    (root / f"{2:032x}" / "session.json").unlink()
    app = started(tmp_path)
    client = app.test_client()
    assert [s["session_id"] for s in client.get("/api/sessions").json["sessions"]] == [f"{1:032x}"]
    assert client.get(f"/api/sessions/{2:032x}").status_code == 404
    stop(app)


@pytest.mark.parametrize("indexed", [False, True])
def test_runs_cut_off_by_a_restart_are_marked_interrupted(tmp_path: Path, indexed: bool) -> None:
    root = tmp_path / "sessions"
    it = Iteration(index=0, prompt_text="x", image_path="iter_0.png", judge_score=None)
    running = stored(root, 1, status="running", iterations=[it])
    if indexed:  # even an index entry that matches the file does not hide a cut-off run
        stop(started(tmp_path))
        stored(root, 1, status="running", iterations=[it])
        index = json.loads((root / INDEX_FILE).read_text())
        entry = index["sessions"][running.session_id]
        entry[:2] = StorageTool(root).session_stamps()[running.session_id]
        entry[2][index["fields"].index("status")] = "running"
        (root / INDEX_FILE).write_text(json.dumps(index))
    app = started(tmp_path)
    client = app.test_client()
    session = client.get(f"/api/sessions/{running.session_id}").json
    assert session["status"] == "failed" and session["error"]["code"] == "interrupted"
    assert client.get("/api/sessions").json["sessions"][0]["status"] == "failed"
    stop(app)


def test_full_sessions_in_memory_are_bounded(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    for n in range(6):
        stored(root, n)
    app = started(tmp_path, session_cache_size=2)
    client = app.test_client()
    for n in range(6):
        assert client.get(f"/api/sessions/{n:032x}").json["user_goal"] == f"goal number {n}"
    assert len(container_of(app).sessions._cache) == 2
    stop(app)


def test_index_is_saved_on_close_with_every_new_session(tmp_path: Path) -> None:
    app = started(tmp_path)
    client = app.test_client()
    sid = client.post("/api/sessions", json={"goal": "a teapot", "provider": "demo"}).json[
        "session_id"
    ]
    stop(app)
    index = json.loads((tmp_path / "sessions" / INDEX_FILE).read_text())
    assert "a teapot" in index["sessions"][sid][2]


def test_a_step_marker_is_published_but_not_written(tmp_path: Path) -> None:
    """The step in flight is news only while a run goes on: listeners and readers get it at once,
    the file gets it with the run's next saved change (one fsync'd write fewer per step)."""
    app = create_app(demo_settings(tmp_path))
    sessions = container_of(app).sessions
    runs = container_of(app).runs
    sid = start_session(app.test_client())["session_id"]
    path = tmp_path / "sessions" / sid / "session.json"
    step = CurrentStep(iteration=1, step="generate", round=1)

    def mark(s: Session) -> None:
        s.current_step, s.in_flight = step, [step]

    # not running: nothing keeps it in memory, so the change is written like any other
    sessions.mark(sid, mark)
    assert json.loads(path.read_text())["in_flight"][0]["step"] == "generate"
    sessions.update(sid, lambda s: setattr(s, "in_flight", []) or setattr(s, "status", "running"))
    on_disk = path.read_bytes()
    listener = runs.subscribe(sid)
    shown = sessions.mark(sid, mark)
    assert path.read_bytes() == on_disk
    assert sessions.get(sid).in_flight == [step] and shown.in_flight == [step]
    kind, data = listener.get(timeout=1)
    assert kind == "state" and data["in_flight"][0]["step"] == "generate"
    assert data["updated_at"] > json.loads(on_disk)["updated_at"]
    sessions.update(sid, lambda s: setattr(s, "status", "done"))
    assert json.loads(path.read_text())["in_flight"][0]["step"] == "generate"  # written along
    container_of(app).close()
