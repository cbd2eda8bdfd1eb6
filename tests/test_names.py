"""Names written once (issue 20): the error codes are one Literal, built from app/errors.py's
table, that the answer models and the OpenAPI document (and so the web app's types) carry."""

from __future__ import annotations

from typing import get_args

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from app.errors import ALL_ERROR_CODES, ERROR_CODES, RECORDED_CODES, ErrorCode
from app.models.response_models import ErrorBody


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
