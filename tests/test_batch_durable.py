"""Durable batches (issue 16): the state on disk after every change, a restart (clean or `kill -9`)
that lists and opens every batch, resume that continues an interrupted goal's own session paying
only for the rounds it lacks, a shutdown that starts nothing new, and reports escaped for their
medium.

Providers are faked at the transport level (OpenRouter for the text model, OpenAI for images), so
the image calls a resume pays for are counted where they would be paid. The `kill -9` runs the real
server (`python -m app.main`) against the same fakes served on a loopback port.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from app.main import create_app
from app.models.batch_models import BatchOptions, BatchReport, GoalResult
from app.services.batch_service import parse_goals
from app.tools import report_tool
from tests.conftest import container_of, demo_settings
from tests.grok_script import any_answer
from tests.provider_fakes import (
    OPENAI_KEY,
    OPENAI_URL,
    OPENROUTER_KEY,
    OPENROUTER_URL,
    chat_completion,
    image_bytes,
    openai_image_answer,
)
from tests.test_shutdown import free_port

REPO = Path(__file__).resolve().parent.parent
GOALS = "a lighthouse at dusk\na red fox in snow\nthree green pears"
# Three rounds of one candidate each; ties never win and the plateau is off, so every goal pays
# exactly 1 + 3 images (the judge's 50 never reaches the target).
BATCH = {"goals": GOALS, "provider": "openai", "iterations": 3, "candidates": 1, "jobs": 1}
BATCH_RULES = {**BATCH, "plateau_rounds": 0}


class Providers:
    """Answers OpenRouter's chat completions and OpenAI's image generations; counts image calls.

    `block` is the image call (1-based) that never answers until `release` is set: `entered` is
    set when it arrives.
    """

    def __init__(self, block: int | None = None, salt: int = 0) -> None:
        self.block = block
        self.salt = itertools.count(salt)  # every revision differs, so no round is skipped
        self.images = 0
        self.lock = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def text(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            salt = next(self.salt)
        return chat_completion(json.dumps(any_answer(body, judge_score=50, salt=salt)))

    def image(self) -> dict[str, Any]:
        with self.lock:
            self.images += 1
            n = self.images
        if n == self.block:
            self.entered.set()
            self.release.wait(60)
        return openai_image_answer(image_bytes(size=(8 + n % 40, 6)))

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, json=self.text(json.loads(request.content)))
        # generations; edits where a goal has reference images (the same answer shape)
        assert request.url.path.endswith(("/images/generations", "/images/edits")), request.url
        return httpx.Response(200, json=self.image())


def keyed_app(tmp_path: Path, providers: Providers) -> Flask:
    settings = demo_settings(
        tmp_path,
        openrouter_api_key=OPENROUTER_KEY,
        openrouter_base_url=OPENROUTER_URL,
        openai_image_api_key=OPENAI_KEY,
        openai_image_base_url=OPENAI_URL,
        http_backoff_base_s=0.0,
        http_backoff_cap_s=0.0,
    )
    return create_app(settings, transport=httpx.MockTransport(providers.handler))


def finished(app: Flask, batch_id: str) -> dict[str, Any]:
    batch = container_of(app).batches.get(batch_id)
    assert batch.finished.wait(60), "the batch never finished"
    return app.test_client().get(f"/api/batches/{batch_id}").json


def state_file(tmp_path: Path, batch_id: str) -> dict[str, Any]:
    return json.loads((tmp_path / "batches" / batch_id / "batch.json").read_text("utf-8"))


def session_ids(tmp_path: Path) -> set[str]:
    return {p.name for p in (tmp_path / "sessions").iterdir() if len(p.name) == 32}


def statuses(state: dict[str, Any]) -> dict[str, str]:
    return {g["id"]: g["status"] for g in state["goals"]}


def test_the_state_is_on_disk_after_each_goal_and_a_restart_lists_and_opens_it(
    tmp_path: Path,
) -> None:
    app = create_app(demo_settings(tmp_path))
    service = container_of(app).batches
    seen: list[tuple[str, str, str | None]] = []

    def on_goal(result: GoalResult) -> None:  # called once the goal's row is written
        (folder,) = (tmp_path / "batches").iterdir()
        saved = state_file(tmp_path, folder.name)
        row = next(g for g in saved["report"]["goals"] if g["id"] == result.id)
        seen.append((result.id, row["status"], row["session_id"]))

    options = BatchOptions(provider="demo", iterations=1, jobs=1)
    running = service.start(parse_goals(GOALS), options, on_goal=on_goal)
    batch_id = running.batch_id
    assert running.finished.wait(60)
    before = app.test_client().get(f"/api/batches/{batch_id}").json
    container_of(app).close()
    assert [(goal, status) for goal, status, _ in seen] == [
        ("g001", "done"),
        ("g002", "done"),
        ("g003", "done"),
    ]
    assert [sid for *_, sid in seen] == [g["session_id"] for g in before["goals"]]
    saved = state_file(tmp_path, batch_id)
    assert saved["status"] == "done" and saved["specs"][1]["goal"] == "a red fox in snow"
    assert saved["options"]["iterations"] == 1

    restarted = create_app(demo_settings(tmp_path))  # the same store: a restart
    client = restarted.test_client()
    listed = client.get("/api/batches").json["batches"]
    assert [(b["batch_id"], b["status"]) for b in listed] == [(batch_id, "done")]
    assert client.get(f"/api/batches/{batch_id}").json == before
    assert client.get(f"/api/batches/{batch_id}/files/report.html").status_code == 200
    container_of(restarted).close()


def test_an_unreadable_state_file_is_skipped_and_temp_files_are_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(demo_settings(tmp_path))
    client = app.test_client()
    batch_id = client.post("/api/batches", json={"goals": "a fox", "iterations": 0}).json[
        "batch_id"
    ]
    assert finished(app, batch_id)["status"] == "done"
    container_of(app).close()
    broken = tmp_path / "batches" / ("f" * 32)
    broken.mkdir()
    (broken / "batch.json").write_text("{not json", "utf-8")
    leftovers = [
        tmp_path / "batches" / batch_id / ".report.json.x1.tmp",
        tmp_path / "batches" / batch_id / ".batch.json.x2.tmp",
    ]
    young = tmp_path / "batches" / batch_id / ".report.md.x3.tmp"  # maybe a write in flight
    for path in [*leftovers, young]:
        path.write_text("half a write", "utf-8")
    for path in leftovers:
        os.utime(path, (time.time() - 3600, time.time() - 3600))

    restarted = create_app(demo_settings(tmp_path))
    listed = restarted.test_client().get("/api/batches").json["batches"]
    container_of(restarted).close()
    assert [b["batch_id"] for b in listed] == [batch_id]
    assert not any(path.exists() for path in leftovers) and young.exists()
    assert (broken / "batch.json").read_text("utf-8") == "{not json"  # left as it was
    assert any("unreadable batch state" in r.getMessage() for r in caplog.records)


# kill -9 ---------------------------------------------------------------------------------------


class LoopbackProviders(ThreadingHTTPServer):
    """`Providers` served over HTTP on a loopback port, for the real server process."""

    daemon_threads = True

    def __init__(self, providers: Providers) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.providers = providers


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackProviders

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fake = self.server.providers
        answer = fake.text(body) if self.path.endswith("/chat/completions") else fake.image()
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def killed_batch(tmp_path: Path) -> str:
    """Runs a 3-goal batch in the real server and SIGKILLs it while goal 2 waits for its round-2
    image (image call 7: goal 1 took 4, goal 2's baseline and round 1 took 2). Returns its id."""
    fake = Providers(block=7)
    server = LoopbackProviders(fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loopback = f"http://127.0.0.1:{server.server_address[1]}"
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STORAGE_DIR": str(tmp_path / "sessions"),
        "OPENROUTER_API_KEY": OPENROUTER_KEY,
        "OPENROUTER_BASE_URL": f"{loopback}/api/v1",
        "OPENAI_IMAGE_API_KEY": OPENAI_KEY,
        "OPENAI_IMAGE_BASE_URL": f"{loopback}/v1",
        "GROK_API_KEY": "",
        "NANO_BANANA_API_KEY": "",
        "HTTP_MAX_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.main"], cwd=tmp_path, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        batch_id = _post_when_up(base, BATCH_RULES)
        assert fake.entered.wait(60), (tmp_path / "app.log").read_text()[-2000:]
        report = json.loads((tmp_path / "batches" / batch_id / "report.json").read_text())
        assert statuses(report) == {"g001": "done", "g002": "running", "g003": "pending"}
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        fake.release.set()
        server.shutdown()
    return batch_id


def _post_when_up(base: str, body: dict[str, Any]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            started = httpx.post(f"{base}/api/batches", json=body, timeout=10)
        except httpx.HTTPError:
            time.sleep(0.1)  # the server is still starting: not a timed assertion
            continue
        assert started.status_code == 202, started.text
        return started.json()["batch_id"]
    raise AssertionError("the server never answered")


@pytest.fixture
def killed(tmp_path: Path) -> Iterator[str]:
    yield killed_batch(tmp_path)


def test_after_a_kill_the_batch_is_listed_interrupted_and_its_reports_agree(
    tmp_path: Path, killed: str
) -> None:
    app = keyed_app(tmp_path, Providers())
    client = app.test_client()
    listed = client.get("/api/batches").json["batches"]
    state = client.get(f"/api/batches/{killed}").json
    container_of(app).close()
    assert [(b["batch_id"], b["status"]) for b in listed] == [(killed, "interrupted")]
    assert state["status"] == "interrupted"
    assert statuses(state) == {"g001": "done", "g002": "interrupted", "g003": "pending"}
    assert state["goals"][1]["session_id"]  # recorded as soon as the session existed
    out = tmp_path / "batches" / killed
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["goals"] == [{k: g[k] for k in report["goals"][0]} for g in state["goals"]]
    assert state_file(tmp_path, killed)["status"] == "interrupted"
    md = (out / "report.md").read_text("utf-8")
    assert "| g002 | a red fox in snow | interrupted |" in md
    assert "| g003 | three green pears | pending |" in md
    assert 'class="status-interrupted">interrupted<' in (out / "report.html").read_text("utf-8")


@pytest.mark.parametrize("door", ["resume", "start_again_on_its_folder"])
def test_resume_continues_the_interrupted_goal_in_its_own_session_paying_only_missing_rounds(
    tmp_path: Path, killed: str, door: str
) -> None:
    """`resume` is the API's (and the web app's); starting the same goals again on the batch's
    report folder is what `sfumato batch --out DIR` does when run again."""
    sessions_before = session_ids(tmp_path)
    fake = Providers(salt=1000)
    app = keyed_app(tmp_path, fake)
    client = app.test_client()
    before = client.get(f"/api/batches/{killed}").json
    fox = before["goals"][1]["session_id"]
    kept = client.get(f"/api/sessions/{fox}").json
    assert [(it["index"], it["round"]) for it in kept["iterations"]] == [(0, 0), (1, 1)]

    if door == "resume":
        resumed = client.post(f"/api/batches/{killed}/resume", json={})
        assert resumed.status_code == 202, resumed.json
        assert resumed.json["batch_id"] == killed and resumed.json["status"] == "running"
        batch_id = killed
    else:
        service = container_of(app).batches
        assert service.for_out_dir(tmp_path / "batches" / killed).batch_id == killed
        options = BatchOptions(
            provider="openai", iterations=3, candidates=1, jobs=1, plateau_rounds=0
        )
        specs = parse_goals(GOALS)
        batch_id = service.start(specs, options, tmp_path / "batches" / killed).batch_id
        assert batch_id == killed  # the folder's batch, taken over: not listed twice
    done = finished(app, batch_id)
    listed = client.get("/api/batches").json["batches"]
    container_of(app).close()

    assert [b["batch_id"] for b in listed] == [killed]
    assert done["status"] == "done", done
    assert statuses(done) == {"g001": "done", "g002": "done", "g003": "done"}
    assert done["goals"][0] == before["goals"][0]  # a done goal is not run again
    assert done["goals"][1]["session_id"] == fox  # its own session, no new one
    # Only what was missing is paid: rounds 2 and 3 of the fox, then 1 + 3 images for the pears.
    assert fake.images == 2 + 4
    assert len(session_ids(tmp_path) - sessions_before) == 1  # the pears' session only
    fox_now = json.loads((tmp_path / "sessions" / fox / "session.json").read_text("utf-8"))
    assert [(it["index"], it["round"]) for it in fox_now["iterations"]] == [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
    ]
    assert fox_now["iterations"][0]["image_path"] == kept["iterations"][0]["image_path"]
    report = json.loads((tmp_path / "batches" / killed / "report.json").read_text("utf-8"))
    assert statuses(report) == statuses(done) and report["summary"]["done"] == 3
    assert state_file(tmp_path, batch_id)["status"] == "done"


def test_resume_refusals(tmp_path: Path) -> None:
    fake = Providers(block=1)  # the first image waits: the batch is surely running
    app = keyed_app(tmp_path, fake)
    client = app.test_client()
    try:
        unknown = client.post(f"/api/batches/{'a' * 32}/resume", json={})
        batch_id = client.post("/api/batches", json=BATCH_RULES).json["batch_id"]
        assert fake.entered.wait(60)
        running = client.post(f"/api/batches/{batch_id}/resume", json={})
        odd_body = client.post(f"/api/batches/{batch_id}/resume", json={"x": 1})
        client.post(f"/api/batches/{batch_id}/cancel", json={})
        cancelled = finished(app, batch_id)
        container_of(app).close()
    finally:
        fake.release.set()
    assert unknown.status_code == 404 and unknown.json["code"] == "not_found"
    assert running.status_code == 409 and running.json["code"] == "conflict", running.json
    assert set(running.json) == {"code", "message", "details"}
    assert odd_body.status_code == 400 and odd_body.json["code"] == "validation_error"
    assert cancelled["status"] == "cancelled"


# Shutdown --------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["batches_first", "runs_first"])
def test_shutdown_starts_nothing_new_and_leaves_the_batch_ready_to_resume(
    tmp_path: Path, order: str
) -> None:
    """`batches_first` is `Container.close`; `runs_first` is the server's SIGTERM handler, which
    interrupts the runs before it closes the container."""
    fake = Providers(block=2)  # goal 1's round-1 image never answers
    app = keyed_app(tmp_path, fake)
    client = app.test_client()
    try:
        batch_id = client.post("/api/batches", json=BATCH_RULES).json["batch_id"]
        assert fake.entered.wait(60)
        if order == "runs_first":
            container_of(app).runs.shutdown()
            assert container_of(app).batches.get(batch_id).finished.wait(60)
        container_of(app).close()
    finally:
        fake.release.set()
    state = state_file(tmp_path, batch_id)
    assert state["status"] == "interrupted"
    rows = {g["id"]: g for g in state["report"]["goals"]}
    assert statuses(state["report"]) == {
        "g001": "interrupted",
        "g002": "pending",
        "g003": "pending",
    }
    assert rows["g002"]["session_id"] is None and rows["g002"]["error"] is None
    assert session_ids(tmp_path) == {rows["g001"]["session_id"]}  # no session after the stop
    session = json.loads(
        (tmp_path / "sessions" / rows["g001"]["session_id"] / "session.json").read_text("utf-8")
    )
    assert session["run"]["stop_reason"] == "interrupted"
    report = json.loads((tmp_path / "batches" / batch_id / "report.json").read_text("utf-8"))
    assert report["goals"] == state["report"]["goals"]


def test_a_goal_that_had_not_started_keeps_its_references_across_a_restart(
    tmp_path: Path,
) -> None:
    """`batch.json` never holds a reference's base64; the images wait as files beside it, are
    read back by a restart for the goals still to run, never leave in the report zip, and are
    removed once every goal has run."""
    png = image_bytes("PNG", size=(24, 16))
    fox = {"goal": "a red fox in snow", "references": [
        {"image": "data:image/png;base64," + base64.b64encode(png).decode(), "role": "style",
         "label": "the palette"}]}  # fmt: skip
    fake = Providers(block=2)  # goal 1's round-1 image never answers: the fox has not started
    app = keyed_app(tmp_path, fake)
    try:
        body = {**BATCH_RULES, "goals": "a lighthouse at dusk\n" + json.dumps(fox)}
        batch_id = app.test_client().post("/api/batches", json=body).json["batch_id"]
        assert fake.entered.wait(60)
        container_of(app).close()
    finally:
        fake.release.set()
    folder = tmp_path / "batches" / batch_id
    text = (folder / "batch.json").read_text("utf-8")
    assert json.loads(text)["specs"][1]["kept_references"] == [
        {"file": "g0002_1.png", "mime": "image/png", "role": "style", "label": "the palette"}
    ]
    assert base64.b64encode(png).decode()[:24] not in text
    assert (folder / ".references" / "g0002_1.png").read_bytes() == png

    app = keyed_app(tmp_path, Providers(salt=1000))
    client = app.test_client()
    zipped = zipfile.ZipFile(io.BytesIO(client.get(f"/api/batches/{batch_id}/download").data))
    assert not [n for n in zipped.namelist() if "references" in n], zipped.namelist()
    assert client.post(f"/api/batches/{batch_id}/resume", json={}).status_code == 202
    done = finished(app, batch_id)
    session = client.get(f"/api/sessions/{done['goals'][1]['session_id']}").json
    container_of(app).close()
    assert done["status"] == "done", done
    assert [(r["role"], r["label"]) for r in session["references"]] == [("style", "the palette")]
    assert not (folder / ".references").exists()
    assert (
        json.loads((folder / "batch.json").read_text("utf-8"))["specs"][1]["kept_references"] == []
    )


# Reports escaped for their medium ----------------------------------------------------------------

NASTY = "a <script>alert(1)</script> | [x](javascript:y) \x1b[31mred\x1b[0m\nsecond\u2028line \u202eevil"


def test_report_md_and_html_escape_what_a_goals_file_could_inject() -> None:
    from datetime import UTC, datetime

    from app.models.batch_models import GoalError

    report = BatchReport(
        provider="demo",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        goals=[
            GoalResult(
                id="g001",
                goal=NASTY,
                status="failed",
                error=GoalError(code="x", message="bad <b>\x00</b>\r\n| y"),
            )
        ],
    )
    md = report_tool.render_markdown(report)
    html = report_tool.render_html(report)
    row = next(line for line in md.splitlines() if line.startswith("| g001 |"))
    assert len(md.splitlines()) == 11  # the goal and its error stayed on their row
    assert row.count(" | ") == 9  # ten cells: no pipe from the text made another
    assert "<" not in md and "\x1b" not in md and "\x00" not in md and "\u202e" not in md
    assert "&lt;script&gt;" in row and "\\[x\\](javascript:y)" in row
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html and "\x00" not in html
