"""Text hygiene at every door: control characters and bidi overrides are refused with a message
naming the character, in goals, feedback, checklist questions, prompts, goals-file lines and
recipes; a goal of whitespace and zero-width characters is empty. Nothing is created for a refusal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.errors import ValidationFailed
from app.models.text_rules import is_blank, normalize_newlines, refuse_controls
from app.services.goal_parser import parse_goals, read_goals_file, spec_from_recipe
from tests.conftest import start_session

# One of each class refused: C0 (NUL, ESC, a C0 that str.split takes for whitespace), DEL, C1 (NEL,
# CSI), and the bidi embeddings, overrides and isolates.
REFUSED = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "unit separator": "\x1f",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "CSI (C1)": "\x9b",
    "LRE": "\u202a",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "PDI": "\u2069",
}
ZERO_WIDTH_ONLY = " \u200b\u200c\u200d\u2060\ufeff \t"


def code_of(char: str) -> str:
    return f"U+{ord(char):04X}"


def session_count(client: FlaskClient, settings: Any) -> int:
    listed = len(client.get("/api/sessions").json["sessions"])
    on_disk = len([p for p in Path(settings.storage_dir).glob("*") if p.is_dir()])
    assert listed == on_disk
    return listed


# The rules themselves ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFUSED))
def test_each_refused_character_is_named_with_its_position(name: str) -> None:
    char = REFUSED[name]
    with pytest.raises(ValueError) as caught:
        refuse_controls(f"a red{char} fox")
    assert code_of(char) in str(caught.value) and "position 6" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "tab\tand\nnewline",
        "лиса спит в снегу",
        "雪の中で眠る赤い狐",
        "ثعلب أحمر نائم في الثلج\u200f",  # a right-to-left mark is allowed: it overrides nothing
        "a fox 🦊 with a family 👨‍👩‍👧 (zero-width joiners inside)",
    ],
)
def test_ordinary_text_in_any_script_passes_unchanged(text: str) -> None:
    assert refuse_controls(text) == text and not is_blank(text)


def test_line_endings_become_newlines_and_blanks_are_blank() -> None:
    assert normalize_newlines("a\r\nb\rc") == "a\nb\nc"
    assert is_blank(ZERO_WIDTH_ONLY) and is_blank("") and not is_blank("\u200bx")


# API bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_api_refuses_them_in_goal_feedback_checklist_and_prompt(
    client: FlaskClient, settings: Any, name: str
) -> None:
    char = REFUSED[name]
    sid = start_session(client)["session_id"]
    before = client.get(f"/api/sessions/{sid}").json
    answers = {
        "goal": client.post("/api/sessions", json={"goal": f"a fox{char}", "provider": "demo"}),
        "feedback": client.put(
            f"/api/sessions/{sid}/feedback", json={"feedback": f"warmer{char} light"}
        ),
        "checklist": client.put(
            f"/api/sessions/{sid}/checklist",
            json={"checklist": [{"question": f"Is the fox{char} red?"}]},
        ),
        "prompt_text": client.put(
            f"/api/sessions/{sid}/prompt",
            json={"prompt_text": before["prompt_text"] + f"\nnote{char}\n"},
        ),
    }
    for field, answer in answers.items():
        assert answer.status_code == 400, (field, answer.json)
        assert answer.json["code"] == "validation_error"
        assert code_of(char) in answer.json["message"], answer.json
        assert field in answer.json["details"]["errors"][0]["field"]
    after = client.get(f"/api/sessions/{sid}").json
    assert after == before  # nothing changed
    assert session_count(client, settings) == 1


def test_a_goal_of_zero_width_characters_is_empty(client: FlaskClient, settings: Any) -> None:
    answer = client.post("/api/sessions", json={"goal": ZERO_WIDTH_ONLY, "provider": "demo"})
    assert answer.status_code == 400 and "empty" in answer.json["message"]
    assert session_count(client, settings) == 0


def test_a_windows_line_ending_in_feedback_is_a_newline(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    answer = client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer\r\nno people"})
    assert answer.status_code == 200 and answer.json["user_feedback"] == "warmer\nno people"


# Batch lines, goals files and recipes ----------------------------------------------------------


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_batch_line_with_one_is_refused_before_anything_runs(
    client: FlaskClient, settings: Any, name: str
) -> None:
    char = REFUSED[name]
    goals = "a calm lake\n" + json.dumps({"goal": f"a fox{char}", "category": "animals"})
    answer = client.post("/api/batches", json={"goals": goals, "iterations": 1})
    assert answer.status_code == 400 and answer.json["code"] == "validation_error"
    error = answer.json["details"]["errors"][0]
    assert (error["line"], error["field"]) == (2, "goal") and code_of(char) in error["message"]
    assert session_count(client, settings) == 0
    assert client.get("/api/batches").json["batches"] == []


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_goals_file_line_with_one_is_refused(name: str) -> None:
    """A raw character in a text line (not JSON-escaped): U+001F and U+0085 would be line breaks
    to `str.splitlines`, so they must be refused, not silently split on."""
    char = REFUSED[name]
    with pytest.raises(ValidationFailed) as caught:
        parse_goals(f"a calm lake\n# a note\na red{char} fox\n")
    assert caught.value.details["errors"][0]["line"] == 3
    assert code_of(char) in caught.value.message


@pytest.mark.parametrize("field", ["goal", "feedback", "checklist"])
@pytest.mark.parametrize("name", ["ESC", "RLO", "NUL"])
def test_a_recipe_with_one_is_refused(field: str, name: str) -> None:
    char = REFUSED[name]
    recipe: dict[str, Any] = {"goal": "a fox", "provider": "demo", "feedback": "warmer"}
    if field == "checklist":
        recipe["checklist"] = [{"id": "q1", "question": f"Is it{char} red?", "source": "goal"}]
    else:
        recipe[field] = f"{recipe[field]}{char}"
    with pytest.raises(ValidationFailed) as caught:
        spec_from_recipe(recipe)
    named = "checklist.0.question" if field == "checklist" else field  # the item names itself
    assert caught.value.details["errors"][0]["field"] == named
    assert code_of(char) in caught.value.message


def test_a_goals_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "goals.txt"
    path.write_bytes("a calm lake\nune forêt".encode("latin-1"))
    with pytest.raises(ValidationFailed) as caught:
        read_goals_file(path)
    assert caught.value.details["errors"][0]["line"] == 2 and "UTF-8" in caught.value.message


def test_a_byte_order_mark_does_not_turn_a_json_line_into_text(tmp_path: Path) -> None:
    path = tmp_path / "goals.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "fox", "goal": "a fox"}).encode())
    assert [(s.id, s.goal) for s in read_goals_file(path)] == [("fox", "a fox")]
