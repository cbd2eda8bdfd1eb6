"""Honest endings: SIGTERM during a run, against the real `python -m app.main` process.

The text model is a fake OpenRouter on a loopback port; it stalls the judge of the optimize run.
SIGTERM then must: end the process within moments, record the session as failed with stop_reason
"interrupted" (finished iterations and the paid image kept), and make no outside call after the
signal (no recommendations, no next revision).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.grok_script import any_answer
from tests.provider_fakes import OPENROUTER_KEY, chat_completion

REPO = Path(__file__).resolve().parent.parent


class FakeOpenRouter(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls: list[tuple[float, str]] = []
        self.judged = 0
        self.stalled = threading.Event()
        self.release = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: FakeOpenRouter

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        role = body["response_format"]["json_schema"]["name"]
        self.server.calls.append((time.monotonic(), role))
        if role == "judge":
            self.server.judged += 1
            if self.server.judged == 2:  # the optimize run's judge never answers
                self.server.stalled.set()
                self.server.release.wait(30)
                return
        data = json.dumps(chat_completion(json.dumps(any_answer(body, judge_score=50)))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(tmp_path: Path, fake_port: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STORAGE_DIR": str(tmp_path / "sessions"),
        "OPENROUTER_API_KEY": OPENROUTER_KEY,
        "OPENROUTER_BASE_URL": f"http://127.0.0.1:{fake_port}/api/v1",
        "OPENAI_IMAGE_API_KEY": "",
        "GROK_API_KEY": "",
        "NANO_BANANA_API_KEY": "",
        "DEMO_STEP_DELAY_S": "0",
        "HTTP_MAX_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.main"], cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError((tmp_path / "app.log").read_text())


def test_sigterm_marks_the_run_interrupted_and_calls_nothing_more(tmp_path: Path) -> None:
    fake = FakeOpenRouter()
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    process, base = start_app(tmp_path, fake.server_address[1])
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            sid = client.post("/api/sessions", json={"goal": "a fox", "provider": "demo"}).json()[
                "session_id"
            ]
            assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
            run = client.post(
                f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 3, "wait": False}
            )
            assert run.status_code == 202
        assert fake.stalled.wait(30), "the run never reached its judge"
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        exited_after = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
        fake.release.set()
        fake.shutdown()

    stored = json.loads((tmp_path / "sessions" / sid / "session.json").read_text())
    print(f"\nSIGTERM to exit: {exited_after:.2f} s")
    assert code == 0 and exited_after < 8, (tmp_path / "app.log").read_text()[-2000:]
    assert stored["status"] == "failed"
    assert stored["run"]["stop_reason"] == "interrupted"
    assert stored["error"]["code"] == "interrupted"
    assert stored["current_step"] is None and stored["recommendations"] == []
    judged, stopped = stored["iterations"]
    assert judged["judge_score"] == 50
    assert stopped["status"] == "failed" and stopped["image_path"] == "iter_1.png"
    after = [role for at, role in fake.calls if at > signalled]
    assert after == [], f"outside calls after SIGTERM: {after}"
    roles = [role for _, role in fake.calls]
    assert sorted(roles[:2]) == ["checklist", "prompt_gen"]  # written side by side
    assert roles[2:] == ["judge", "revise", "judge"]


# One owner per store, and the CLI's signals (issue 16) ------------------------------------------

DEMO_ENV = {
    "HOST": "127.0.0.1",
    "OPENROUTER_API_KEY": "",
    "OPENAI_IMAGE_API_KEY": "",
    "GROK_API_KEY": "",
    "NANO_BANANA_API_KEY": "",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(REPO),
}


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The offline demo on tmp_path's store; cwd is tmp_path, so no .env is read."""
    return {**os.environ, **DEMO_ENV, "STORAGE_DIR": str(tmp_path / "sessions"), **extra}


def start_demo_server(tmp_path: Path, name: str = "app") -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = demo_env(tmp_path, PORT=str(port), DEMO_STEP_DELAY_S="0.3")
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.main"], cwd=tmp_path, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError((tmp_path / f"{name}.log").read_text())


def start_cli(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args], cwd=tmp_path,
        env=demo_env(tmp_path, DEMO_STEP_DELAY_S="0.3"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition: Any, what: str, process: subprocess.Popen | None = None) -> Any:
    """Polls a condition on disk or over HTTP (bounded); fails if the process ends first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"ended before {what}: {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def running_session(store: Path) -> str | None:
    for path in store.glob("*/session.json"):
        try:
            if json.loads(path.read_text("utf-8"))["status"] == "running":
                return path.parent.name
        except (OSError, ValueError):
            continue
    return None


def test_a_second_server_on_the_same_store_refuses_to_start_naming_the_owner(
    tmp_path: Path,
) -> None:
    first, base = start_demo_server(tmp_path)
    try:
        env = demo_env(tmp_path, PORT=str(free_port()))
        second = subprocess.run(
            [sys.executable, "-m", "app.main"], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        alive = httpx.get(f"{base}/api/health", timeout=5).status_code
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"in use by a SFUMATO server (pid {first.pid} at {base}, since" in second.stderr
    assert "Traceback" not in second.stderr
    assert alive == 200  # the owner was not disturbed


def test_sigterm_stops_a_cli_run_like_ctrl_c(tmp_path: Path) -> None:
    store = tmp_path / "sessions"
    cli = start_cli(tmp_path, "run", "a lighthouse on a cliff", "-n", "5", "--json")
    sid = wait_for(lambda: running_session(store), "a running session", cli)
    cli.send_signal(signal.SIGTERM)
    out, err = cli.communicate(timeout=60)
    stored = json.loads((store / sid / "session.json").read_text("utf-8"))
    assert cli.returncode == 130, err
    assert json.loads(out)["status"] == "interrupted" and "Traceback" not in err
    assert stored["status"] != "running" and stored["run"]["stop_reason"] == "cancelled"
    assert stored["current_step"] is None


def test_sigterm_stops_a_cli_batch_leaving_the_report_consistent(tmp_path: Path) -> None:
    goals = tmp_path / "goals.txt"
    goals.write_text("a lighthouse one\na lighthouse two\na lighthouse three\n", "utf-8")
    out = tmp_path / "out"
    cli = start_cli(tmp_path, "batch", str(goals), "-j", "1", "-n", "3", "--out", str(out))
    wait_for(lambda: running_session(tmp_path / "sessions"), "a running goal", cli)
    cli.send_signal(signal.SIGTERM)
    _, err = cli.communicate(timeout=60)
    report = json.loads((out / "report.json").read_text("utf-8"))
    statuses = [g["status"] for g in report["goals"]]
    assert cli.returncode == 130, err
    assert statuses == ["interrupted", "pending", "pending"] and report["finished_at"]
    assert report["summary"]["goals"] == 3 and report["summary"]["done"] == 0
    assert running_session(tmp_path / "sessions") is None and "Traceback" not in err


def test_sigterm_stops_a_cli_run_that_goes_through_the_server(tmp_path: Path) -> None:
    server, base = start_demo_server(tmp_path)
    try:
        cli = start_cli(tmp_path, "run", "a lighthouse on a cliff", "-n", "5", "--json")
        with httpx.Client(base_url=base, timeout=10) as api:
            sid = wait_for(
                lambda: next(
                    (
                        s["session_id"]
                        for s in api.get("/api/sessions").json()["sessions"]
                        if s["status"] == "running"
                    ),
                    None,
                ),
                "a running session on the server",
                cli,
            )
            cli.send_signal(signal.SIGTERM)
            out, err = cli.communicate(timeout=60)
            session = api.get(f"/api/sessions/{sid}").json()
            batches = api.get("/api/batches").json()["batches"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert cli.returncode == 130, err
    assert json.loads(out)["status"] == "interrupted" and "Traceback" not in err
    assert session["status"] != "running" and session["run"]["stop_reason"] == "cancelled"
    assert [b["status"] for b in batches] == ["cancelled"]


def test_sigterm_stops_a_cli_batch_that_goes_through_the_server(tmp_path: Path) -> None:
    goals = tmp_path / "goals.txt"
    goals.write_text("a lighthouse one\na lighthouse two\na lighthouse three\n", "utf-8")
    out = tmp_path / "out"
    server, base = start_demo_server(tmp_path)
    try:
        cli = start_cli(tmp_path, "batch", str(goals), "-j", "1", "-n", "3", "--out", str(out))
        wait_for(lambda: running_session(tmp_path / "sessions"), "a running goal", cli)
        cli.send_signal(signal.SIGTERM)
        _, err = cli.communicate(timeout=60)
        with httpx.Client(base_url=base, timeout=10) as api:
            batches = api.get("/api/batches").json()["batches"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert cli.returncode == 130, err
    assert [b["status"] for b in batches] == ["cancelled"]
    recorded = json.loads((out / ".sfumato-batch.json").read_text("utf-8"))
    assert recorded["batch_id"] == batches[0]["batch_id"]
    report = json.loads((out / "report.json").read_text("utf-8"))  # mirrored from the server
    assert [g["status"] for g in report["goals"]] == ["interrupted", "pending", "pending"]
    assert report["finished_at"] and "Traceback" not in err
