"""No web page may drive SFUMATO: Content-Type, Host and Origin checks, and the security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.main import create_app
from tests.conftest import container_of, demo_settings, start_session

BROWSER_SIMPLE_TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json) == {"code", "message", "details"} and response.json["code"] == code
    return response.json


@pytest.mark.parametrize("content_type", BROWSER_SIMPLE_TYPES)
def test_a_simple_cross_site_post_creates_nothing(client: FlaskClient, content_type) -> None:
    """A page on any site can send these without a preflight: they must start nothing."""
    body = '{"goal": "a fox", "provider": "demo"}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/sessions", data=body, headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert client.get("/api/sessions").json["sessions"] == []


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("post", "generate"),
        ("post", "optimize/run"),
        ("post", "optimize/cancel"),
        ("put", "feedback"),
        ("put", "prompt"),
    ],
)
def test_every_state_changing_route_wants_json(
    client: FlaskClient, method: str, route: str
) -> None:
    sid = start_session(client)["session_id"]
    response = getattr(client, method)(f"/api/sessions/{sid}/{route}", data="{}")
    assert_error(response, 415, "unsupported_media_type")
    assert client.get(f"/api/sessions/{sid}").json["iterations"] == []


def test_json_with_a_charset_is_fine_and_compressed_bodies_are_not(client: FlaskClient) -> None:
    body = '{"goal": "a fox"}'
    ok = client.post("/api/sessions", data=body, content_type="application/json; charset=utf-8")
    assert ok.status_code == 201
    gzipped = client.post(
        "/api/sessions",
        data=body,
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert_error(gzipped, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8000",
        "127.0.0.1.nip.io:8000",
        "localhost:9999",
        "0.0.0.0:8000",
    ],
)
def test_dns_rebinding_reads_nothing(client: FlaskClient, host: str) -> None:
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    for path in [
        "/api/sessions",
        f"/api/sessions/{sid}",
        f"/api/sessions/{sid}/download",
        f"/media/{sid}/iter_0.png",
        "/",
    ]:
        response = client.get(path, headers={"Host": host})
        body = assert_error(response, 403, "host_not_allowed")
        assert sid not in response.get_data(as_text=True).replace(body["message"], "")


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000"]
)
def test_the_loopback_names_are_answered(client: FlaskClient, host: str) -> None:
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_allowed_hosts_adds_names(tmp_path: Path) -> None:
    app = create_app(
        demo_settings(tmp_path, allowed_hosts=["sfumato.lan", "box.example:443"], host="10.0.0.5")
    )
    client = app.test_client()
    codes = {
        host: client.get("/api/health", headers={"Host": host}).status_code
        for host in ["sfumato.lan", "sfumato.lan:8000", "box.example:443", "box.example:80",
                     "10.0.0.5:8000", "evil.example:8000"]
    }  # fmt: skip
    container_of(app).close()
    assert codes == {
        "sfumato.lan": 200,
        "sfumato.lan:8000": 200,
        "box.example:443": 200,
        "box.example:80": 403,
        "10.0.0.5:8000": 200,
        "evil.example:8000": 403,
    }


def test_a_star_turns_the_host_check_off(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path, allowed_hosts=["*"]))
    response = app.test_client().get("/api/health", headers={"Host": "anything.example"})
    container_of(app).close()
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://127.0.0.1:8001", "http://localhost:8000.evil"],
)
def test_cross_origin_requests_are_refused(client: FlaskClient, origin: str) -> None:
    response = client.post("/api/sessions", json={"goal": "a fox"}, headers={"Origin": origin})
    assert_error(response, 403, "origin_not_allowed")
    assert_error(client.get("/api/sessions", headers={"Origin": origin}), 403, "origin_not_allowed")
    assert client.get("/api/sessions").json["sessions"] == []


def test_the_page_s_own_origin_is_fine(client: FlaskClient) -> None:
    response = client.post(
        "/api/sessions", json={"goal": "a fox"}, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert response.status_code == 201


def test_cors_origins_are_allowed_and_answered_with_cors_headers(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path, cors_origins=["http://127.0.0.1:5173"]))
    client = app.test_client()
    origin = {"Origin": "http://127.0.0.1:5173"}
    preflight = client.options(
        "/api/sessions", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    created = client.post("/api/sessions", json={"goal": "a fox"}, headers=origin)
    other = client.post(
        "/api/sessions", json={"goal": "a fox"}, headers={"Origin": "http://x.test"}
    )
    container_of(app).close()
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
    assert created.status_code == 201
    assert other.status_code == 403


def test_security_headers_on_the_app_and_the_api(client: FlaskClient) -> None:
    for path in ["/", "/api/health", "/api/nope"]:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_build_hint_page_s_inline_style_is_allowed_by_hash(client: FlaskClient) -> None:
    response = client.get("/")
    if b"has not been built" in response.data:  # the fallback page (no SPA build here)
        assert "'sha256-" in response.headers["Content-Security-Policy"]


def test_the_batch_report_s_inline_style_is_allowed_by_hash(client: FlaskClient) -> None:
    """report.html carries one inline <style>: the CSP names its hash, so the report is styled."""
    from datetime import UTC, datetime

    from app.models.batch_models import BatchReport
    from app.security import style_hash
    from app.tools.report_tool import render_html

    html = render_html(BatchReport(provider="demo", started_at=datetime.now(UTC)))
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert style.strip() and "body" in style
    csp = client.get("/api/health").headers["Content-Security-Policy"]
    assert style_hash(style) in csp
    assert "unsafe-inline" not in csp
