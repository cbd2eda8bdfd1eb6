"""Names written once (issue 20): the error codes are one Literal, built from app/errors.py's
table, that the answer models and the OpenAPI document (and so the web app's types) carry; file
names and media URLs are built by app/models/paths.py."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from app.errors import ALL_ERROR_CODES, ERROR_CODES, RECORDED_CODES, ErrorCode
from app.models.paths import media_url, thumbnail_name
from app.models.response_models import ErrorBody
from tests.conftest import start_session


def test_the_error_code_literal_is_the_table() -> None:
    table = {c for codes in ERROR_CODES.values() for c in codes} | set(RECORDED_CODES)
    assert set(get_args(ErrorCode)) == table == set(ALL_ERROR_CODES)


def test_an_error_body_holds_only_a_listed_code() -> None:
    assert ErrorBody(code="not_found", message="m", details={}).code == "not_found"
    with pytest.raises(ValidationError):
        ErrorBody(code="no_such_code", message="m", details={})


def test_the_document_s_error_codes_are_the_literal(client: FlaskClient) -> None:
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == list(ALL_ERROR_CODES)
    for model in ("ErrorBody", "ErrorInfo"):
        assert schemas[model]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}


APP = Path(__file__).resolve().parent.parent / "app"


def test_file_names_and_media_urls_are_built_in_one_place() -> None:
    """Outside app/models/paths.py only the route declarations write `/media/`, and no module
    writes `session.json` or a thumbnail's name itself."""
    for path in APP.rglob("*.py"):
        if path.name == "paths.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert '"session.json"' not in text and '}/session.json"' not in text, path
        assert "thumb_{" not in text or path.name == "report_tool.py", path  # a batch report's own
        media = [line for line in text.splitlines() if '"/media/' in line or 'f"/media/' in line]
        assert all("<session_id>" in line for line in media), (path, media)


def test_a_stored_image_is_served_at_its_media_url(client: FlaskClient) -> None:
    session = start_session(client)
    session = client.post(f"/api/sessions/{session['session_id']}/generate", json={}).json
    image = session["iterations"][0]
    assert image["image_url"] == media_url(session["session_id"], image["image_path"])
    assert image["thumbnail_url"] == media_url(session["session_id"], thumbnail_name(0))
    assert client.get(image["image_url"]).status_code == 200
    assert client.get(image["thumbnail_url"]).status_code == 200
