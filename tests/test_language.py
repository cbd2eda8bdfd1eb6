"""The person's language: detected from the goal (or given by the UI), stored on the session, and
the image provider's prompt language from the settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.main import create_app
from app.models.batch_models import BatchOptions, GoalSpec
from app.services import flex_service
from app.tools.storage_tool import is_session_id
from app.utils.language import detect_language
from tests.conftest import container_of, demo_settings, settled, start_session

RU_GOAL = "Рыжая лиса спит на свежем снегу под сосной ночью, без людей"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (RU_GOAL, "ru"),
        ("логотип SFUMATO в стиле Bauhaus, три цвета", "ru"),  # Latin names in a Russian goal
        ("a red fox asleep in fresh snow", "en"),
        ("a poster with the word «МИР» on it, in a bold sans-serif", "en"),  # Russian quoted text
        ("森林里的红狐狸", "en"),  # neither: English, the default
        ("", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def _stored(settings_dir: Path, session_id: str) -> dict:
    return json.loads((settings_dir / session_id / "session.json").read_text(encoding="utf-8"))


def test_a_russian_goal_makes_a_russian_session(client: FlaskClient, settings) -> None:
    session = start_session(client, goal=RU_GOAL)["session"]
    assert (session["language"], session["prompt_language"]) == ("ru", "en")
    stored = _stored(settings.storage_dir, session["session_id"])
    assert (stored["language"], stored["prompt_language"]) == ("ru", "en")
    assert start_session(client)["session"]["language"] == "en"


@pytest.mark.parametrize(
    ("goal", "ui"), [(RU_GOAL, "en"), ("a red fox asleep in snow", "ru")], ids=["ru>en", "en>ru"]
)
def test_the_ui_language_overrides_the_goal_s(client: FlaskClient, goal: str, ui: str) -> None:
    assert start_session(client, goal=goal, language=ui)["session"]["language"] == ui


def test_an_unknown_language_is_refused_and_creates_nothing(client: FlaskClient, settings) -> None:
    response = client.post(
        "/api/sessions", json={"goal": RU_GOAL, "provider": "demo", "language": "de"}
    )
    assert response.status_code == 400
    assert set(response.json) == {"code", "message", "details"}
    assert "language" in json.dumps(response.json)
    storage = Path(settings.storage_dir)
    assert not [p for p in storage.iterdir() if is_session_id(p.name)]  # no session folder


def test_the_image_prompt_language_comes_from_the_settings(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path, image_prompt_language="ru"))
    try:
        session = start_session(app.test_client(), goal="a red fox")["session"]
        assert (session["language"], session["prompt_language"]) == ("en", "ru")
    finally:
        container_of(app).close()


def _cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)


def test_a_russian_session_reads_russian_from_start_to_end(client: FlaskClient, settings) -> None:
    """The whole offline flow for a Russian goal: Russian checklist, notes and recommendations,
    a night scene lit as night, Russian feedback obeyed, English wording for the image provider."""
    session = start_session(client, goal=RU_GOAL)["session"]
    sid = session["session_id"]
    assert all(_cyrillic(item["question"]) for item in session["checklist"])
    assert any("лиса" in item["question"] for item in session["checklist"])
    assert "night" in flex_service.parse(session["prompt_text"]).blocks["lighting"]
    first = client.post(f"/api/sessions/{sid}/generate", json={}).json
    assert _cyrillic(first["iterations"][0]["judge_notes"])
    feedback = client.put(
        f"/api/sessions/{sid}/feedback", json={"feedback": "без машин, больше контраста"}
    )
    assert feedback.status_code == 200
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2})
    done = settled(client, sid)
    assert done["status"] == "done" and done["recommendations_status"] == "ready"
    revised = flex_service.parse(done["iterations"][1]["prompt_text"]).blocks
    assert "машин" in revised["negative_constraints"] and "contrast" in revised["lighting"]
    assert all(_cyrillic(r) for r in done["recommendations"])
    assert all(_cyrillic(it["judge_notes"]) for it in done["iterations"])
    questions = [i["question"] for i in done["checklist"] if i["source"] == "feedback"]
    assert questions == ["На изображении нет машин?", "Учтено ли пожелание: больше контраста?"]


def test_a_batch_goal_s_session_gets_the_configured_image_prompt_language(tmp_path: Path) -> None:
    """A batch goal opens its session as `POST /api/sessions` does: the same prompt language."""
    app = create_app(demo_settings(tmp_path, image_prompt_language="ru"))
    container = app.extensions["sfumato_container"]
    try:
        spec = GoalSpec(id="fox", goal="a red fox")
        result = container.batches.run_goal(spec, BatchOptions(iterations=0))
        assert result.session_id is not None, result.error
        stored = container.sessions.get(result.session_id)
        assert (stored.language, stored.prompt_language) == ("en", "ru")
    finally:
        container.close()
