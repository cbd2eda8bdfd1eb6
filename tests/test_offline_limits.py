"""Offline mode takes everything the API accepts (issue 16, item 7): goals, feedback and checklist
questions at their full limits and in any script go through create -> generate -> feedback ->
checklist -> optimize with 2xx answers, because the offline stand-in cuts its own outputs to the
limits of the models they are checked against. A hypothesis test drives random valid inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.limits import CHECKLIST_QUESTION_MAX_CHARS, MAX_CHECKLIST_ITEMS
from app.main import create_app
from app.models.text_rules import is_blank, visible_length
from tests.conftest import container_of, demo_settings

GOAL_LIMIT = FEEDBACK_LIMIT = 2000  # the Settings defaults the demo settings keep
WORDS = {
    "latin": "a red fox asleep in fresh snow, no people, warm light",
    "cyrillic": "рыжая лиса спит в свежем снегу, без людей, тёплый свет",
    "cjk": "雪の中で眠る赤い狐、人なし、暖かい光",
    "arabic": "ثعلب أحمر نائم في الثلج، بدون أشخاص، ضوء دافئ",
    "emoji": "🦊❄️🌅 👨‍👩‍👧",
    "one long word": "x",
}


def _fill(text: str, limit: int) -> str:
    out = ((text + " ") * (limit // (len(text) + 1) + 1))[:limit]
    return out[:-1] + "z" if out.endswith(" ") else out


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    app: Flask = create_app(demo_settings(tmp_path_factory.mktemp("offline")))
    yield app.test_client()
    container_of(app).close()


def drive(client: FlaskClient, goal: str, feedback: str, questions: list[str]) -> dict[str, Any]:
    """The whole flow a person takes; every answer must be a success."""
    created = client.post("/api/sessions", json={"goal": goal, "provider": "demo"})
    assert created.status_code == 201, created.json
    sid = created.json["session_id"]
    steps = [
        ("generate", client.post(f"/api/sessions/{sid}/generate", json={})),
        ("feedback", client.put(f"/api/sessions/{sid}/feedback", json={"feedback": feedback})),
        (
            "checklist",
            client.put(
                f"/api/sessions/{sid}/checklist",
                json={"checklist": [{"question": q} for q in questions]},
            ),
        ),
        (
            "optimize",
            client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}),
        ),
    ]
    for name, answer in steps:
        assert answer.status_code == 200, (name, answer.json)
    container_of(client.application).runs.wait_followup(sid)
    return client.get(f"/api/sessions/{sid}").json


@pytest.mark.parametrize("script", list(WORDS))
def test_goal_feedback_and_checklist_at_their_full_limits(
    offline: FlaskClient, script: str
) -> None:
    words = WORDS[script]
    goal, feedback = _fill(words, GOAL_LIMIT), _fill("no " + words, FEEDBACK_LIMIT)
    questions = [
        _fill(f"Is {n} {words}", CHECKLIST_QUESTION_MAX_CHARS) for n in range(MAX_CHECKLIST_ITEMS)
    ]
    assert len(goal) == GOAL_LIMIT and len(feedback) == FEEDBACK_LIMIT
    session = drive(offline, goal, feedback, questions)
    assert session["status"] == "done", session.get("error")
    assert session["user_goal"] == goal and session["user_feedback"] == feedback
    assert [i["status"] for i in session["iterations"]] == ["ok", "ok"], session["iterations"]


def test_a_long_goal_gets_a_checklist_within_the_model_limits(offline: FlaskClient) -> None:
    """A goal over ~280 characters used to make a question over 300: a 500 on create."""
    created = offline.post(
        "/api/sessions", json={"goal": _fill(WORDS["latin"], 600), "provider": "demo"}
    )
    assert created.status_code == 201, created.json
    questions = [item["question"] for item in created.json["session"]["checklist"]]
    assert len(questions) >= 4 and all(len(q) <= CHECKLIST_QUESTION_MAX_CHARS for q in questions)


# Any valid input ------------------------------------------------------------------------------

_REFUSED = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F)])
_REFUSED += "\u2066\u2067\u2068\u2069"
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters=_REFUSED)
_SCRIPTED = st.sampled_from(list(WORDS.values()))


def _text(min_visible: int, limit: int) -> st.SearchStrategy[str]:
    """Valid person text: random characters, or words of a script repeated up to the limit."""
    random_text = st.text(_CHARS, min_size=min_visible, max_size=min(limit, 400))
    repeated = st.builds(_fill, _SCRIPTED, st.integers(min_visible + 2, limit))
    return (
        st.one_of(random_text, repeated)
        .map(str.strip)
        .filter(lambda t: not is_blank(t) and visible_length(t) >= min_visible and len(t) <= limit)
    )


@hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    goal=_text(1, GOAL_LIMIT),
    feedback=_text(1, FEEDBACK_LIMIT),
    questions=st.lists(_text(3, CHECKLIST_QUESTION_MAX_CHARS), min_size=1, max_size=16),
)
@example(goal="🦊", feedback="ё", questions=["a b c"])
@example(goal=_fill("雪", GOAL_LIMIT), feedback=_fill("свет", 2000), questions=["ثعلب"] * 16)
def test_any_valid_input_goes_through_without_a_5xx(
    offline: FlaskClient, goal: str, feedback: str, questions: list[str]
) -> None:
    session = drive(offline, goal, feedback, questions)
    assert session["status"] == "done", session.get("error")
    assert [i["status"] for i in session["iterations"]] == ["ok", "ok"], session["iterations"]


def test_russian_notes_are_cut_to_the_limits_like_english_ones() -> None:
    """A Russian message is longer than its English one: translated at the limit, it is still cut
    to the model's limit (a 300-character reason became 301 and answered 500)."""
    from app.models.llm_models import BlockChange as Change
    from app.models.llm_models import ReviseOutput as Revise
    from app.tools import offline_text_tool as tool

    reason = "made lighting more specific: " + "g" * 271  # exactly 300 characters
    assert len(reason) == 300
    answer = tool.ReviseOutput(
        changes=[tool.BlockChange(block="lighting", text="x", reason=reason)], summary=reason
    )
    russian = tool.in_russian(answer)
    assert russian.changes[0].reason.startswith("блок lighting стал конкретнее")
    Revise.model_validate(russian.model_dump())  # the limits the request's model checks
    assert len(russian.changes[0].reason) <= Change.model_fields["reason"].metadata[0].max_length
