"""A full session on each real provider, with every base URL pointed at a fake that speaks the
documented API and fails once (429 or 503) before answering: the session still completes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from app.main import create_app
from app.services import flex_service
from tests.conftest import container_of
from tests.provider_fakes import (
    GEMINI_KEY,
    GROK_KEY,
    GROK_URL,
    IMAGE_ROUTES,
    OPENAI_KEY,
    OPENROUTER_KEY,
    OPENROUTER_URL,
    chat_completion,
    gemini_image_answer,
    image_bytes,
    make_settings,
    openai_image_answer,
    xai_b64_answer,
    xai_url_answer,
)

BLOCKS = {name: f"{name} wording" for name in flex_service.LABELS}
ANSWERS = {
    "prompt_gen": {"blocks": {**BLOCKS, "subject": "a red fox asleep in fresh snow"}},
    "revise": {
        "changes": [{"block": "lighting", "text": "low dawn sun from the left", "reason": "r"}],
        "summary": "named the light source",
    },
    "checklist": {
        "questions": [
            {"question": "Is there a red fox?", "source": "goal"},
            {"question": "Is the fox asleep?", "source": "goal"},
            {"question": "Is it lying in fresh snow?", "source": "goal"},
            {"question": "Is the light warm?", "source": "feedback"},
        ]
    },
    "judge": {
        "checklist": [
            {"id": f"q{n}", "answer": "yes" if n < 4 else "no", "note": "seen"} for n in range(1, 5)
        ],
        "score": 71,
        "notes": "fox clear; light flat",
        "strengths": [],
        "weaknesses": [],
    },
    "pairwise": {"preferred": "tie", "reason": "no clear difference"},
    "recommend": {"recommendations": ["name the light", "keep the fox first", "lock the subject"]},
}


def flaky(answer: Callable[[httpx.Request], httpx.Response], status: int) -> Callable:
    """Fails the first call with `status` (Retry-After: 0), then answers."""
    calls = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(
                status, headers={"Retry-After": "0"}, json={"error": {"message": "busy"}}
            )
        return answer(request)

    return handle


def grok_text(request: httpx.Request) -> httpx.Response:
    role = json.loads(request.content)["response_format"]["json_schema"]["name"]
    answer = json.loads(json.dumps(ANSWERS[role]))
    if role == "revise":  # each revision says something new, as a real one would
        REVISIONS.append(request)
        answer["changes"][0]["text"] += f", take {len(REVISIONS)}"
    return httpx.Response(200, json=chat_completion(json.dumps(answer)))


REVISIONS: list[httpx.Request] = []


JPEG = image_bytes("JPEG", (48, 32))
PNG = image_bytes("PNG", (32, 32))
PROVIDERS: dict[str, dict[str, Any]] = {
    "openai": {
        "answer": lambda r: httpx.Response(200, json=openai_image_answer(PNG)),
        "ext": "png",
        "params": {"aspect_ratio": "3:2", "quality": "low"},
    },
    "grok": {
        "answer": lambda r: httpx.Response(200, json=xai_b64_answer(JPEG)),
        "ext": "jpeg",
        "params": {"aspect_ratio": "16:9"},
    },
    "nano_banana": {
        "answer": lambda r: httpx.Response(200, json=gemini_image_answer(PNG)),
        "ext": "png",
        "params": {"aspect_ratio": "4:3"},
    },
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
@pytest.mark.parametrize("first_failure", [429, 503])
def test_full_session_survives_one_transient_failure_per_service(
    tmp_path: Path, provider: str, first_failure: int
) -> None:
    spec = PROVIDERS[provider]
    mock = respx.MockRouter(assert_all_called=True)
    text = mock.post(f"{OPENROUTER_URL}/chat/completions").mock(
        side_effect=flaky(grok_text, first_failure)
    )
    method, url = IMAGE_ROUTES[provider]
    images = mock.route(method=method, url=url).mock(
        side_effect=flaky(spec["answer"], first_failure)
    )
    app = create_app(
        make_settings(storage_dir=tmp_path / "sessions", demo_step_delay_s=0.0),
        transport=httpx.MockTransport(mock.handler),
    )
    client = app.test_client()

    created = client.post(
        "/api/sessions",
        json={
            "goal": "a red fox asleep in fresh snow",
            "provider": provider,
            "image_params": spec["params"],
        },
    )
    assert created.status_code == 201, created.json
    sid = created.json["session_id"]
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"})
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2})
    container_of(app).runs.wait_followup(sid)
    done = client.get(f"/api/sessions/{sid}").json
    container_of(app).close()

    assert done["status"] == "done", done["error"]
    assert done["demo"] is False and done["text_mode"] == "openrouter"
    assert [it["status"] for it in done["iterations"]] == ["ok", "ok", "ok"]
    for it in done["iterations"]:
        assert it["image_path"] == f"iter_{it['index']}.{spec['ext']}"
        assert (tmp_path / "sessions" / sid / it["image_path"]).is_file()
        assert it["judge_score"] == 71 and it["cost"]["text"]["cost_usd"] > 0
        assert it["checklist_pass"] == 0.75
    assert [it["pairwise"]["result"] for it in done["iterations"][1:]] == ["tie", "tie"]
    assert done["recommendations"] == ANSWERS["recommend"]["recommendations"]
    # one failed call + gen + checklist + checklist again for the feedback + 3 judges
    # + 2 revisions + 2 order-swapped pairwise calls per round + recommend on the text side
    assert text.call_count == 1 + 1 + 1 + 1 + 3 + 2 + 2 * 2 + 1
    assert images.call_count == 1 + 3
    sent = json.loads(images.calls[-1].request.content)
    assert "FLEX_" not in json.dumps(sent) and "low dawn sun from the left" in json.dumps(sent)
    for call in text.calls:
        assert call.request.headers["Authorization"] == f"Bearer {OPENROUTER_KEY}"
    key_header = {
        "openai": "Authorization",
        "grok": "Authorization",
        "nano_banana": "x-goog-api-key",
    }
    expected = {
        "openai": f"Bearer {OPENAI_KEY}",
        "grok": f"Bearer {GROK_KEY}",
        "nano_banana": GEMINI_KEY,
    }
    assert images.calls[-1].request.headers[key_header[provider]] == expected[provider]


def test_grok_url_answers_are_downloaded_into_the_session(tmp_path: Path) -> None:
    mock = respx.MockRouter(assert_all_called=True)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=grok_text)
    mock.post(f"{GROK_URL}/images/generations").mock(
        return_value=httpx.Response(200, json=xai_url_answer("https://imgen.x.ai/fox.jpg"))
    )
    download = mock.get("https://imgen.x.ai/fox.jpg").mock(
        return_value=httpx.Response(200, content=JPEG, headers={"content-type": "image/jpeg"})
    )
    settings = make_settings(
        storage_dir=tmp_path / "s", demo_step_delay_s=0.0, grok_response_format="url"
    )
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    client = app.test_client()
    sid = client.post("/api/sessions", json={"goal": "a fox", "provider": "grok"}).json[
        "session_id"
    ]
    session = client.post(f"/api/sessions/{sid}/generate", json={}).json
    container_of(app).close()
    it = session["iterations"][0]
    assert it["status"] == "ok" and it["image_path"] == "iter_0.jpeg"
    assert it["revised_prompt"] == "A red fox asleep in snow, soft dawn light"
    assert (tmp_path / "s" / sid / "iter_0.jpeg").read_bytes() == JPEG
    assert "Authorization" not in download.calls[0].request.headers
