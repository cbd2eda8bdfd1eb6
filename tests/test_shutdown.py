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
