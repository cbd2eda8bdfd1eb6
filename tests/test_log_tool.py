"""JSON logs carry context and never carry secrets or base64."""

from __future__ import annotations

import json
import logging

import pytest

from app.tools.log_tool import configure_logging, get_logger, log_context

SECRET = "sk-live-abcdefghijklmnop"


def test_records_are_json_with_context_and_scrubbed(capsys: pytest.CaptureFixture) -> None:
    configure_logging("INFO", [SECRET])
    log = get_logger("test")
    with log_context(session_id="s1", step="judge"):
        log.info(
            "calling with %s and Bearer %s",
            SECRET,
            "tok123456",
            extra={"provider": "openai", "payload": "data:image/png;base64," + "A" * 400},
        )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert (
        record["session_id"] == "s1"
        and record["step"] == "judge"
        and record["provider"] == "openai"
    )
    assert SECRET not in line and "tok123456" not in line and "A" * 200 not in line
    assert "[REDACTED]" in record["message"] and "<base64" in record["payload"]


def test_exceptions_are_scrubbed_too(capsys: pytest.CaptureFixture) -> None:
    configure_logging("INFO", [SECRET])
    try:
        raise RuntimeError(f"failed with key {SECRET}")
    except RuntimeError:
        get_logger("test").exception("boom")
    err = capsys.readouterr().err
    assert SECRET not in err and "RuntimeError" in err


def test_level_is_configurable() -> None:
    configure_logging("WARNING")
    assert logging.getLogger("sfumato").level == logging.WARNING
    configure_logging("INFO")
