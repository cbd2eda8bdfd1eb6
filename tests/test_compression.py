"""Compression: API JSON gzipped when accepted, events never, static files precompressed."""

from __future__ import annotations

import gzip
import json
import mimetypes
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.compression import send_precompressed
from tests.conftest import start_session


def some_sessions(client: Any, count: int = 4) -> None:
    for n in range(count):
        start_session(client, goal=f"a red fox asleep in fresh snow, take {n}")


def test_api_json_is_gzipped_when_the_client_accepts_it(client: Any) -> None:
    some_sessions(client)
    plain = client.get("/api/sessions")
    packed = client.get("/api/sessions", headers={"Accept-Encoding": "br;q=1, gzip;q=0.8"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    assert json.loads(gzip.decompress(packed.data)) == plain.json


def test_small_answers_and_refusing_clients_stay_plain(client: Any) -> None:
    assert (
        "Content-Encoding"
        not in client.get("/api/health", headers={"Accept-Encoding": "gzip"}).headers
    )
    some_sessions(client)
    refused = client.get("/api/sessions", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.json["sessions"]


def test_event_streams_are_never_compressed(client: Any) -> None:
    sid = start_session(client)["session_id"]
    response = client.get(f"/api/sessions/{sid}/events", headers={"Accept-Encoding": "gzip"})
    assert response.mimetype == "text/event-stream"
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"event: state\n")


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "app.js").write_text("console.log('plain')")
    (folder / "app.js.br").write_bytes(b"brotli bytes")
    (folder / "app.js.gz").write_bytes(gzip.compress(b"console.log('plain')"))
    (folder / "only.css").write_text("body{}")
    return folder


@pytest.mark.parametrize(
    ("name", "accept", "encoding", "body"),
    [
        ("app.js", "gzip, deflate, br", "br", b"brotli bytes"),
        ("app.js", "gzip", "gzip", None),
        ("app.js", "", None, b"console.log('plain')"),
        ("app.js", "br;q=0, gzip", "gzip", None),
        ("only.css", "br, gzip", None, b"body{}"),
    ],
)
def test_static_files_are_sent_precompressed(
    app: Flask, assets: Path, name: str, accept: str, encoding: str | None, body: bytes | None
) -> None:
    with app.test_request_context(headers={"Accept-Encoding": accept}):
        response = send_precompressed(assets, name, max_age=60)
        response.direct_passthrough = False
        data = response.get_data()
    assert response.headers.get("Content-Encoding") == encoding
    assert response.mimetype == mimetypes.guess_type(name)[0]  # the file's type, not .br's
    assert "Accept-Encoding" in response.headers["Vary"]
    if body is None:
        assert gzip.decompress(data) == b"console.log('plain')"
    else:
        assert data == body
