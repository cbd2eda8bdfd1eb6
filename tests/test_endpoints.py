"""The HTTP API: shapes, validation, the one error shape, limits, static and media routes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import endpoints
from tests.conftest import start_session

PROMPT = (
    "# note\n"
    "## FLEX_BEGIN:subject\na lighthouse on a cliff\n## FLEX_END:subject\n"
    "## FLEX_BEGIN:lighting\nstormy dusk\n## FLEX_END:lighting\n"
)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_health(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["text_mode"] == "offline"
    assert response.headers["X-Request-ID"]


def test_providers_lists_demo_first_and_says_which_key_is_missing(client: FlaskClient) -> None:
    body = client.get("/api/providers").json
    names = [p["name"] for p in body["providers"]]
    assert names == ["demo", "openai", "grok", "nano_banana"]
    by_name = {p["name"]: p for p in body["providers"]}
    assert by_name["demo"]["available"] and by_name["demo"]["is_demo"]
    assert by_name["openai"]["missing_key"] == "OPENAI_IMAGE_API_KEY"
    assert by_name["grok"]["missing_key"] == "GROK_API_KEY"
    assert by_name["nano_banana"]["missing_key"] == "NANO_BANANA_API_KEY"
    assert "1:1" in by_name["demo"]["capabilities"]["supported_aspect_ratios"]
    assert body["text"] == {
        "mode": "offline",
        "available": True,
        "missing_key": "OPENROUTER_API_KEY",
        "models": body["text"]["models"],
        "notice": body["text"]["notice"],
    }
    assert "OPENROUTER_API_KEY" in body["text"]["notice"]
    assert body["limits"]["max_iterations_default"] == 3


def test_create_session_answers_id_prompt_and_normalised_params(client: FlaskClient) -> None:
    body = start_session(client)
    assert len(body["session_id"]) == 32
    assert "## FLEX_BEGIN:subject" in body["first_prompt_text"]
    session = body["session"]
    assert session["status"] == "draft"
    assert session["demo"] is True
    assert session["image_params"] == {
        "model": "sfumato-demo-1",
        "aspect_ratio": "1:1",
        "resolution": "small",
        "output_format": "png",
        "background": "auto",
        "style_preset": "none",
    }
    assert session["iterations_count"] == 3
    assert client.get(f"/api/sessions/{body['session_id']}").json["prompt_text"] == (
        body["first_prompt_text"]
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"goal": "   "}, "goal"),
        ({"goal": "x" * 2001}, "goal"),
        ({"goal": "fox", "iterations_count": 0}, "iterations_count"),
        ({"goal": "fox", "iterations_count": 11}, "iterations_count"),
        ({"goal": "fox", "target_score": 101}, "target_score"),
        ({"goal": "fox", "colour": "red"}, "colour"),
        ({}, "goal"),
    ],
)
def test_create_session_validation(client: FlaskClient, payload: dict, field: str) -> None:
    body = assert_error(client.post("/api/sessions", json=payload), 400, "validation_error")
    assert field in [e["field"] for e in body["details"]["errors"]]


def test_unknown_provider_lists_the_valid_ones(client: FlaskClient) -> None:
    body = assert_error(
        client.post("/api/sessions", json={"goal": "fox", "provider": "midjourney"}),
        400,
        "validation_error",
    )
    assert body["details"]["allowed"] == ["demo", "openai", "grok", "nano_banana"]


def test_provider_without_key_is_a_clear_4xx(client: FlaskClient) -> None:
    body = assert_error(
        client.post("/api/sessions", json={"goal": "fox", "provider": "openai"}),
        400,
        "provider_not_configured",
    )
    assert body["details"]["missing_key"] == "OPENAI_IMAGE_API_KEY"
    assert "OPENAI_IMAGE_API_KEY" in body["message"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"aspect_ratio": "5:1"}, "aspect_ratio"),
        ({"quality": "high"}, "quality"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"output_format": "gif"}, "output_format"),
    ],
)
def test_unsupported_image_params_list_allowed_values(
    client: FlaskClient, params: dict, param: str
) -> None:
    response = client.post(
        "/api/sessions", json={"goal": "fox", "provider": "demo", "image_params": params}
    )
    body = assert_error(response, 422, "unsupported_param")
    assert body["details"]["param"] == param
    assert body["details"]["value"] == str(params[param])
    if param != "seed":  # a seed has a range, not a list
        assert body["details"]["allowed"]


def test_image_params_are_normalised_case_insensitively(client: FlaskClient) -> None:
    body = start_session(
        client, image_params={"aspect_ratio": "16:9", "output_format": "JPEG", "seed": "42"}
    )
    params = body["session"]["image_params"]
    assert params["output_format"] == "jpeg" and params["seed"] == 42
    assert params["aspect_ratio"] == "16:9"


def test_bad_json_and_non_object_bodies(client: FlaskClient) -> None:
    assert_error(
        client.post("/api/sessions", data="{not json", content_type="application/json"),
        400,
        "bad_json",
    )
    assert_error(client.post("/api/sessions", json=[1, 2]), 400, "bad_json")


def test_oversized_body_is_413(client: FlaskClient) -> None:
    big = json.dumps({"goal": "x" * 300_000})
    body = assert_error(
        # /api/sessions takes more (its references, issue 19: tests/test_references.py)
        client.post("/api/batches/estimate", data=big, content_type="application/json"),
        413,
        "payload_too_large",
    )
    assert body["details"]["limit_bytes"] == 256 * 1024


def test_unknown_routes_and_methods_use_the_error_shape(client: FlaskClient) -> None:
    assert_error(client.get("/api/nope"), 404, "not_found")
    assert_error(client.delete("/api/health"), 405, "method_not_allowed")
    assert_error(client.get("/api/sessions/0123456789abcdef0123456789abcdef"), 404, "not_found")
    assert_error(client.get("/api/sessions/../../etc/passwd"), 404, "not_found")
    assert_error(client.post("/api/sessions/nope/generate", json={}), 404, "not_found")


def test_prompt_edit_keeps_text_and_locks(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    response = client.put(
        f"/api/sessions/{sid}/prompt", json={"prompt_text": PROMPT, "locked_blocks": ["subject"]}
    )
    assert response.status_code == 200
    assert response.json["prompt_text"] == PROMPT
    assert response.json["locked_blocks"] == ["subject"]
    # Locks stay when only the text changes; a lock on a removed block is dropped.
    again = client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": PROMPT + "tail\n"})
    assert again.json["locked_blocks"] == ["subject"]


def test_prompt_edit_errors(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    body = assert_error(
        client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": "## FLEX_BEGIN:style\nx\n"}),
        400,
        "invalid_prompt",
    )
    assert "never closed" in body["message"]
    body = assert_error(
        client.put(
            f"/api/sessions/{sid}/prompt", json={"prompt_text": PROMPT, "locked_blocks": ["camera"]}
        ),
        400,
        "validation_error",
    )
    assert body["details"]["unknown"] == ["camera"]
    assert_error(
        client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": "x" * 8001}),
        400,
        "validation_error",
    )


def test_sessions_list_newest_first(client: FlaskClient) -> None:
    first = start_session(client, goal="first goal")["session_id"]
    second = start_session(client, goal="second goal")["session_id"]
    listed = client.get("/api/sessions").json["sessions"]
    assert [s["session_id"] for s in listed] == [second, first]
    assert listed[0]["user_goal"] == "second goal" and listed[0]["iterations"] == 0


def test_optimize_before_generate_is_409(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    assert_error(client.post(f"/api/sessions/{sid}/optimize/run", json={}), 409, "invalid_state")
    assert_error(client.post(f"/api/sessions/{sid}/optimize/cancel", json={}), 409, "not_running")
    assert_error(
        client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "", "accepted": True}),
        409,
        "invalid_state",
    )


def test_media_serves_only_stored_images(client: FlaskClient, settings) -> None:
    sid = start_session(client)["session_id"]
    session = client.post(f"/api/sessions/{sid}/generate", json={}).json
    url = session["iterations"][0]["image_url"]
    assert url == f"/media/{sid}/iter_0.png"
    image = client.get(url)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data == (settings.storage_dir / sid / "iter_0.png").read_bytes()
    (settings.storage_dir.parent / "secret.png").write_bytes(b"TOP-SECRET-BYTES")
    for bad in [
        f"/media/{sid}/session.json",
        f"/media/{sid}/../secret.png",
        f"/media/{sid}/..%2F..%2Fsecret.png",
        "/media/../secret.png",
        f"/media/{sid}/iter_9.png",
        "/media/not-a-session/iter_0.png",
        f"/media/{sid}/iter_0.png%00.txt",
    ]:
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert b"TOP-SECRET-BYTES" not in response.data


def test_download_is_a_zip_of_everything(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer"})
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2})
    response = client.get(f"/api/sessions/{sid}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"session.json", "final_prompt.txt", "summary.md", "images/iter_0.png"} <= names
    assert {"prompts/iter_0.txt", "prompts/iter_1.txt", "prompts/iter_2.txt"} <= names
    stored = json.loads(archive.read("session.json"))
    assert stored["session_id"] == sid
    # final_prompt.txt is what the provider received (the negative prompt it got apart too, as
    # the web app's "Copy prompt" copies it); the FLEX source is beside it.
    negative = stored["iterations"][stored["best_index"]]["rendered_negative"]
    assert negative  # the demo provider takes its negative prompt apart
    assert archive.read("final_prompt.txt").decode() == (
        f"{stored['final_prompt_rendered']}\n\nNegative prompt: {negative}"
    )
    assert "FLEX_BEGIN" not in stored["final_prompt_rendered"]
    assert archive.read("final_prompt_flex.txt").decode() == stored["final_prompt_text"]
    best = stored["iterations"][stored["best_index"]]
    sent = archive.read(f"prompts/iter_{best['index']}.sent.txt").decode()
    assert sent == best["rendered_prompt"] == stored["final_prompt_rendered"]


def test_favicon_set_is_served_from_the_build(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    names = ("favicon.ico", "favicon-32.png", "apple-touch-icon.png", "icon-192.png")
    for name in names:
        (dist / name).write_bytes(f"icon {name}".encode())
    (dist / "secret.txt").write_text("not an icon")
    monkeypatch.setattr(endpoints, "WEB_DIR", tmp_path)
    for name in names:
        response = client.get(f"/{name}")
        assert response.status_code == 200, name
        assert response.data == f"icon {name}".encode()
    assert client.get("/favicon.ico").mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert_error(client.get("/secret.txt"), 404, "not_found")
