"""Shared fixtures: a fresh app per test on a temporary storage folder, and a log guard.

The log guard runs around every test of the suite: no record may carry a key (anything shaped like
the fake keys the tests use, or an auth header) or a base64 run.

Tests reach the app's services through `container_of(app)` and the `container`, `sessions`, `runs`
and `batches` fixtures, never through `app.extensions` themselves: when a service is renamed or
split, this file is the one place the tests change.

Every Flask test client speaks as a browser on the app's real address does: `Host:
127.0.0.1:<PORT>` (the server refuses host names it does not answer to).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.container import Container
from app.main import create_app
from app.services.batch_service import BatchService
from app.services.run_service import RunService
from app.services.session_service import SessionService
from app.settings import Settings

_LEAKS = re.compile(
    r"sk-test|xai-test|AIza-test|Bearer\s+[A-Za-z0-9]|[A-Za-z0-9+/]{200,}|;base64,[A-Za-z0-9+/]"
)


class LocalClient(FlaskClient):
    """A test client whose requests go to http://127.0.0.1:<PORT>/, as a browser's would."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and "base_url" not in kwargs:
            port = container_of(self.application).settings.port
            kwargs["base_url"] = f"http://127.0.0.1:{port}"
        return super().open(*args, **kwargs)


Flask.test_client_class = LocalClient


def demo_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """No keys: the offline demo mode, instant demo steps, a private storage folder."""
    values: dict[str, Any] = {
        "storage_dir": tmp_path / "sessions",
        "demo_step_delay_s": 0.0,
        "log_level": "DEBUG",
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return demo_settings(tmp_path)


def container_of(app: Flask) -> Container:
    """The services of an app a test made itself (the `container` fixture is the `app` fixture's)."""
    return app.extensions["sfumato_container"]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    container_of(app).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def container(app: Flask) -> Container:
    return container_of(app)


@pytest.fixture
def sessions(container: Container) -> SessionService:
    return container.sessions


@pytest.fixture
def runs(container: Container) -> RunService:
    return container.runs


@pytest.fixture
def batches(container: Container) -> BatchService:
    assert container.batches is not None, "build_container sets the batch service"
    return container.batches


@pytest.fixture(autouse=True)
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage() + " " + json.dumps(record.__dict__, default=str)
        leak = _LEAKS.search(text)
        assert (
            leak is None
        ), f"log record leaks a secret or base64: {record.name}: {leak.group(0)[:40]}"


def start_session(client: FlaskClient, goal: str = "a red fox asleep in fresh snow", **extra: Any):
    body = {"goal": goal, "provider": "demo", "image_params": {"aspect_ratio": "1:1"}, **extra}
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.json
    return response.json


def sse_events(client: FlaskClient, session_id: str) -> list[tuple[str, Any]]:
    """Reads the whole events stream of a session (it closes after `done`)."""
    response = client.get(f"/api/sessions/{session_id}/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events, kind = [], None
    for line in b"".join(response.response).decode().splitlines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((kind, json.loads(line.removeprefix("data: "))))
    return events


def settled(client: FlaskClient, session_id: str) -> dict[str, Any]:
    """The session once its after-run work (the recommendations) is written."""
    container_of(client.application).runs.wait_followup(session_id)
    return client.get(f"/api/sessions/{session_id}").json
