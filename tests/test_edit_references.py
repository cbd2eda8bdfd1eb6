"""The loop knows the references, and editing (issue 19), through the real app.

- The judge and both pairwise calls carry the session's references first, each labelled, before
  the images they judge (read from the OpenRouter request bodies at the transport level; images
  are compared by digest, so no base64 reaches an assertion message).
- `generate` with `edit_from` sends that iteration's image (role "edit") and the references to
  the image provider, and records `edited_from`; an optimize run in `mode: "edit"` edits the
  current best image in every round.
- A model that takes no input images is refused with `unsupported_param` before any call.

The demo provider is given room for input images here (`takes`), as in tests/test_references.py:
what each model really takes is the providers' part of the issue. `Spy` wraps the registry's real
demo tool to see what it is handed (the demo draws offline, with no transport to fake).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from app.main import create_app
from app.models.provider_models import GeneratedImage, RenderedPrompt, SourceImage
from tests.conftest import container_of, demo_settings, start_session
from tests.grok_script import ScriptedGrok, scripted_app


def takes(app: Flask, count: int, provider: str = "demo") -> None:
    """Sets how many input images the provider's model takes, on the app's real registry."""
    registry = container_of(app).registry
    registry.capabilities[provider] = registry.capabilities[provider].model_copy(
        update={"max_input_images": count}
    )


class Spy:
    """The registry's real demo tool, recording the sources of every call it draws."""

    def __init__(self, app: Flask) -> None:
        registry = container_of(app).registry
        self.inner = registry.providers["demo"]
        registry.providers["demo"] = self  # type: ignore[assignment]  # a stand-in with its API
        self.calls: list[tuple[str, list[SourceImage]]] = []
        self.lock = threading.Lock()

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> GeneratedImage:
        with self.lock:
            self.calls.append((prompt.text, list(sources)))
        return self.inner.generate(prompt, params, sources)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:12]


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


REFERENCES = [
    {"image": picture((200, 40, 30)), "role": "subject", "label": "red bottle"},
    {"image": picture((20, 60, 200), (30, 40)), "role": "style"},
]


def add_references(client: FlaskClient, sid: str) -> None:
    for ref in REFERENCES:
        response = client.post(f"/api/sessions/{sid}/references", json=ref)
        assert response.status_code == 201, response.json


def baseline(client: FlaskClient, references: bool = True) -> str:
    sid = start_session(client)["session_id"]
    if references:
        add_references(client, sid)
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    assert response.status_code == 200, response.json
    return sid


def stored(app: Flask, sid: str, name: str) -> bytes:
    return (container_of(app).settings.storage_dir / sid / name).read_bytes()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(demo_settings(tmp_path))
    takes(app, 8)
    yield app
    container_of(app).close()


# The judge's attachments, at the transport level -------------------------------------------


class RecordingGrok(ScriptedGrok):
    """The scripted Grok, recording each judge and pairwise body's content parts; it answers as
    if the references were not there (the script knows only the judged images)."""

    def __init__(self, scores: list[int] | None = None) -> None:
        super().__init__(scores=scores or [60, 70, 80, 90])
        self.bodies: dict[str, list[list[dict[str, Any]]]] = {"judge": [], "pairwise": []}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        role = body["response_format"]["json_schema"]["name"]
        if role in self.bodies:
            parts = body["messages"][1]["content"]
            with self.lock:
                self.bodies[role].append(parts)
            body["messages"][1]["content"] = without_references(parts)
            request = httpx.Request("POST", request.url, content=json.dumps(body).encode())
        return super().__call__(request)


def without_references(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts after the last reference image (the references are labelled "REFERENCE n")."""
    labels = [n for n, p in enumerate(parts) if p.get("text", "").startswith("REFERENCE ")]
    return [parts[0], *parts[labels[-1] + 2 :]] if labels else parts


def shape(parts: list[dict[str, Any]]) -> list[str]:
    """The parts after the prompt text: each label as written, each image as its digest."""
    return [
        p["text"] if p["type"] == "text" else "image " + digest(p["image_url"]["url"])
        for p in parts[1:]
    ]


def test_judge_and_both_pairwise_orders_attach_the_references_first(tmp_path: Path) -> None:
    grok = RecordingGrok()
    for app in scripted_app(tmp_path, grok):
        takes(app, 8)
        client = app.test_client()
        sid = baseline(client)
        done = client.post(
            f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1, "candidates": 1}
        )
        assert done.status_code == 200, done.json
    judged, pairs = grok.bodies["judge"], grok.bodies["pairwise"]
    # The first image, judged again (the run's checklist gained the references' questions), and
    # the candidate.
    assert len(judged) == 3 and len(pairs) == 2
    refs = shape(judged[0])[:4]
    assert [refs[0], refs[2]] == ["REFERENCE 1 (subject: red bottle):", "REFERENCE 2 (style):"]
    for parts in judged:
        assert shape(parts)[:4] == refs and shape(parts)[4] == "CANDIDATE IMAGE:"
        assert len(shape(parts)) == 6
        assert "image 3: the candidate" in parts[0]["text"]
    first, second = (shape(parts) for parts in pairs)
    for order in (first, second):
        assert order[:4] == refs  # the same references, first, in both orders
        assert order[4] == "FIRST IMAGE:" and order[6] == "SECOND IMAGE:"
    assert (first[5], first[7]) == (second[7], second[5])  # the judged images swapped
    assert "image 3: the FIRST IMAGE" in pairs[0][0]["text"]
    candidate, best = shape(judged[2])[5], shape(judged[1])[5]
    assert best == shape(judged[0])[5]
    assert {first[5], first[7]} == {candidate, best}


# Editing -------------------------------------------------------------------------------------


def test_generate_edit_from_sends_that_image_and_records_edited_from(app: Flask) -> None:
    spy = Spy(app)
    client = app.test_client()
    sid = baseline(client)
    response = client.post(
        f"/api/sessions/{sid}/generate", json={"edit_from": 0, "instruction": "make it bluer"}
    )
    assert response.status_code == 200, response.json
    session = response.json
    assert [it["index"] for it in session["iterations"]] == [0, 1]
    edit = session["iterations"][1]
    assert edit["edited_from"] == 0 and edit["status"] == "ok"
    assert edit["rendered_prompt"] == "make it bluer; keep everything else exactly as it is."
    assert session["run"]["mode"] == "edit"
    told, sources = spy.calls[-1]
    assert told == edit["rendered_prompt"]
    assert [s.role for s in sources] == ["edit", "subject", "style"]
    assert digest(sources[0].data) == digest(stored(app, sid, "iter_0.png"))
    refs = session["references"]
    assert [digest(s.data) for s in sources[1:]] == [
        digest(stored(app, sid, r["url"].rsplit("/", 1)[1])) for r in refs
    ]


def test_edit_from_without_an_instruction_asks_for_the_prompt_changes(app: Flask) -> None:
    spy = Spy(app)
    client = app.test_client()
    sid = baseline(client, references=False)
    session = client.get(f"/api/sessions/{sid}").json
    prompt = session["prompt_text"]
    lighting = prompt.split("## FLEX_BEGIN:lighting\n", 1)[1].split("\n", 1)[0]
    changed = prompt.replace(lighting, "warm low sun from the left", 1)
    assert (
        client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": changed}).status_code == 200
    )
    response = client.post(f"/api/sessions/{sid}/generate", json={"edit_from": 0})
    assert response.status_code == 200, response.json
    told = response.json["iterations"][1]["rendered_prompt"]
    assert told == (
        "Change only the lighting: warm low sun from the left; keep everything else exactly as it is."
    )
    assert [s.role for s in spy.calls[-1][1]] == ["edit"]


def test_optimize_in_edit_mode_edits_the_current_best_each_round(app: Flask) -> None:
    spy = Spy(app)
    client = app.test_client()
    sid = baseline(client)
    response = client.post(
        f"/api/sessions/{sid}/optimize/run",
        json={"iterations_count": 2, "candidates": 1, "mode": "edit", "plateau_rounds": 0},
    )
    assert response.status_code == 200, response.json
    session = response.json
    assert session["run"]["mode"] == "edit"
    rounds = [it for it in session["iterations"] if it["round"]]
    assert len(rounds) == 2
    for it in rounds:
        assert it["edited_from"] == it["based_on"]  # the best when its round began
        assert it["rendered_prompt"].startswith("Edit: change only")
        assert it["rendered_prompt"].endswith("keep everything else exactly as it is.")
    edits = [
        (text, sources) for text, sources in spy.calls if sources and sources[0].role == "edit"
    ]
    assert [text for text, _ in edits] == [it["rendered_prompt"] for it in rounds]
    for (_, sources), it in zip(edits, rounds, strict=True):
        base = next(x for x in session["iterations"] if x["index"] == it["based_on"])
        assert digest(sources[0].data) == digest(stored(app, sid, base["image_path"]))
        assert [s.role for s in sources[1:]] == ["subject", "style"]


def test_edit_mode_reaches_the_reviser_and_the_plan(app: Flask) -> None:
    """A batch's and the CLI's options carry the mode to the run plan."""
    from app.models.batch_models import BatchOptions

    plan = container_of(app).planner.plan(
        container_of(app).sessions.get(baseline(app.test_client(), references=False)),
        BatchOptions(mode="edit").run_options(),
    )
    assert plan.mode == "edit"


# Refusals before any call --------------------------------------------------------------------


def test_a_model_that_takes_no_input_images_is_refused_before_any_call(tmp_path: Path) -> None:
    grok = RecordingGrok()
    for app in scripted_app(tmp_path, grok):
        takes(app, 8)
        spy = Spy(app)
        client = app.test_client()
        sid = baseline(client, references=False)
        before = client.get(f"/api/sessions/{sid}").json
        calls, drawn = len(grok.calls), len(spy.calls)
        takes(app, 0)
        answers = [
            client.post(f"/api/sessions/{sid}/generate", json={"edit_from": 0}),
            client.post(f"/api/sessions/{sid}/optimize/run", json={"mode": "edit"}),
        ]
        for answer in answers:
            assert answer.status_code == 422, answer.json
            assert answer.json["code"] == "unsupported_param"
            assert answer.json["details"]["max_input_images"] == 0
        assert (len(grok.calls), len(spy.calls)) == (calls, drawn)  # nothing called, nothing paid
        after = client.get(f"/api/sessions/{sid}").json
        assert after["iterations"] == before["iterations"] and after["status"] == "draft"


def test_references_are_refused_before_any_call_when_the_model_takes_fewer(app: Flask) -> None:
    spy = Spy(app)
    client = app.test_client()
    sid = start_session(client)["session_id"]
    add_references(client, sid)
    takes(app, 1)
    answer = client.post(f"/api/sessions/{sid}/generate", json={})
    assert answer.status_code == 422 and answer.json["code"] == "unsupported_param"
    assert spy.calls == [] and client.get(f"/api/sessions/{sid}").json["iterations"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"edit_from": 7},
        {"edit_from": -1},
        {"edit_from": "0"},
        {"edit_from": 0, "instruction": "x" * 2001},
        {"edit_from": 0, "instruction": "bluer\u202e"},
    ],
)
def test_a_bad_edit_request_changes_nothing(app: Flask, body: dict[str, Any]) -> None:
    client = app.test_client()
    sid = baseline(client, references=False)
    before = client.get(f"/api/sessions/{sid}").json
    answer = client.post(f"/api/sessions/{sid}/generate", json=body)
    assert answer.status_code == 400, answer.json
    assert set(answer.json) == {"code", "message", "details"}
    assert client.get(f"/api/sessions/{sid}").json["iterations"] == before["iterations"]


def test_optimize_refuses_an_unknown_mode(app: Flask) -> None:
    client = app.test_client()
    sid = baseline(client, references=False)
    before = client.get(f"/api/sessions/{sid}").json
    answer = client.post(f"/api/sessions/{sid}/optimize/run", json={"mode": "remix"})
    assert answer.status_code == 400 and answer.json["code"] == "validation_error"
    assert [e["field"] for e in answer.json["details"]["errors"]] == ["mode"]
    after = client.get(f"/api/sessions/{sid}").json
    assert (after["status"], after["iterations"]) == (before["status"], before["iterations"])


# The loop knows the references, offline ------------------------------------------------------


def test_a_session_started_with_references_has_a_checklist_item_for_each(app: Flask) -> None:
    client = app.test_client()
    session = start_session(client, references=REFERENCES)["session"]
    tied = [(i["source"], i["reference"]) for i in session["checklist"] if i["reference"]]
    assert tied == [("reference", "r1"), ("reference", "r2")]
    assert "reference 1" in session["prompt_text"] and "reference 2" in session["prompt_text"]
    done = client.post(f"/api/sessions/{session['session_id']}/generate", json={}).json
    answers = {r["id"]: r["answer"] for r in done["iterations"][0]["checklist_results"]}
    tied_ids = [i["id"] for i in session["checklist"] if i["reference"]]
    assert [answers[i] for i in tied_ids] == ["unsure", "unsure"]  # the stand-in cannot see


def test_a_branch_keeps_the_reference_items_with_its_references(app: Flask) -> None:
    client = app.test_client()
    sid = start_session(client, references=REFERENCES)["session_id"]
    answer = client.post(f"/api/sessions/{sid}/branch", json={})
    assert answer.status_code == 201, answer.json
    branch = answer.json["session"]
    assert [r["id"] for r in branch["references"]] == ["r1", "r2"]
    assert [i["reference"] for i in branch["checklist"] if i["reference"]] == ["r1", "r2"]


def test_sfumato_run_mode_edit_edits_the_best_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sfumato run --mode edit`: the CLI's option reaches the run (the demo given room for the
    image to edit, on its capabilities, as `takes` does on a registry)."""
    from click.testing import CliRunner

    from app.cli import Runtime, main
    from app.tools.demo_image_tool import DemoImageTool

    drawn = DemoImageTool.capabilities
    roomy = classmethod(lambda cls, s: drawn(s).model_copy(update={"max_input_images": 8}))
    monkeypatch.setattr(DemoImageTool, "capabilities", roomy)
    settings = demo_settings(tmp_path, plateau_rounds_default=0)
    args = ["run", "a red fox asleep in snow", "-n", "1", "--mode", "edit", "--json"]
    result = CliRunner().invoke(main, args, obj=Runtime(settings, None), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sid = json.loads(result.stdout)["session_id"]
    session = json.loads((settings.storage_dir / sid / "session.json").read_text("utf-8"))
    assert session["run"]["mode"] == "edit"
    edited = [it for it in session["iterations"] if it["round"]]
    assert [it["edited_from"] for it in edited] == [0]
    assert edited[0]["rendered_prompt"].startswith("Edit: change only")


def test_an_edited_best_is_judged_again_with_the_instruction_it_was_sent(tmp_path: Path) -> None:
    grok = RecordingGrok(scores=[60, 80, 80, 70])
    for app in scripted_app(tmp_path, grok):
        takes(app, 8)
        client = app.test_client()
        sid = baseline(client, references=False)
        edit = client.post(
            f"/api/sessions/{sid}/generate", json={"edit_from": 0, "instruction": "add a moon"}
        )
        assert edit.status_code == 200 and edit.json["best_index"] == 1, edit.json
        assert edit.json["iterations"][1]["pairwise"]["result"] == "win"
        feedback = {"feedback": "warmer light"}
        assert client.put(f"/api/sessions/{sid}/feedback", json=feedback).status_code == 200
        done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
        assert done.status_code == 200, done.json
    rejudged = grok.bodies["judge"][2][0]["text"]
    assert '"""add a moon; keep everything else exactly as it is."""' in rejudged


def test_a_reference_added_later_gets_its_question_before_the_next_run(app: Flask) -> None:
    """The checklist is written with the references a session starts with; one added afterwards
    (the API's POST references) makes it stale, so the next run writes it again first, with a
    question tied to the new reference, and judges the best again under it."""
    client = app.test_client()
    sid = baseline(client, references=False)
    before = client.get(f"/api/sessions/{sid}").json
    assert not [i for i in before["checklist"] if i["reference"]]
    add_references(client, sid)
    response = client.post(
        f"/api/sessions/{sid}/optimize/run",
        json={"iterations_count": 1, "candidates": 1, "plateau_rounds": 0},
    )
    assert response.status_code == 200, response.json
    session = response.json
    tied = [i["reference"] for i in session["checklist"] if i["reference"]]
    assert tied == ["r1", "r2"]
    assert session["checklist_version"] > before["checklist_version"]


def test_an_edit_run_is_priced_with_the_image_it_edits(app: Flask) -> None:
    """Each candidate of an edit run sends the references and the image being edited: the estimate
    (and the budget's reservations, from the same prices) count one input image more per call."""
    from app.services.optimize_rounds import RunPlan

    client = app.test_client()
    sid = baseline(client)
    c = container_of(app)
    c.sessions.update(sid, lambda s: setattr(s, "image_provider", "grok"))  # a priced provider
    plan = RunPlan(rounds=2, target=100, candidates=3)
    drawn = c.optimize.estimate(sid, plan)
    edited = c.optimize.estimate(sid, RunPlan(rounds=2, target=100, candidates=3, mode="edit"))
    per_input = c.settings.price_table().input_image_price("grok", "any").usd_per_input_image
    assert per_input > 0
    assert edited["usd"] == pytest.approx(drawn["usd"] + 2 * 3 * per_input)


def test_each_reference_gets_a_question_when_the_writer_asks_none(tmp_path: Path) -> None:
    """The scripted Grok's checklist asks only about the goal. Each reference still gets the
    plain question of its role, tied to it, so the judge checks it and the checklist is not
    written again before the run (it was, before every run, while a reference went unasked)."""
    grok = RecordingGrok()
    for app in scripted_app(tmp_path, grok):
        takes(app, 8)
        client = app.test_client()
        made = client.post("/api/sessions", json={"goal": "a red bottle", "references": REFERENCES})
        assert made.status_code == 201, made.json
        session = made.json["session"]
        sid = session["session_id"]
        assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
        ran = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
        assert ran.status_code == 200, ran.json
    asked = [(i["id"], i["source"], i["reference"], i["question"]) for i in session["checklist"]]
    assert asked[4:] == [
        (
            "q5",
            "reference",
            "r1",
            'Does the subject "red bottle" match reference 1: shape, markings, colours?',
        ),
        ("q6", "reference", "r2", "Does the image take the palette and look of reference 2?"),
    ]
    assert [a[1] for a in asked[:4]] == ["goal"] * 4
    assert grok.calls.count("checklist") == 1  # written once: not stale before the run
