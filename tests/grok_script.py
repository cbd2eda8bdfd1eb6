"""A scripted Grok behind OpenRouter's chat completions, faked at the transport level.

It answers every LLM role the way the real model is asked to (the role is the structured-output
schema's name), reads what it must answer from the request itself (the checklist ids from the
schema's enum, the allowed blocks from the revise schema), and records what it was sent, so tests
can assert on payloads: which images a pairwise call carried and in which order.

Judge scores come from a script. Pairwise answers come from a script when one is given (two per
comparison: the answer to the order that shows the candidate first, then the other); otherwise
the fake is a consistent judge: it prefers the image it scored higher (by the image's data URL),
in either order, and calls equal scores a tie.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import respx
from flask import Flask

from app.main import create_app
from app.models.domain_models import FLEX_BLOCKS
from tests.conftest import container_of, demo_settings
from tests.provider_fakes import OPENROUTER_URL, chat_completion

DEFAULT_CHECKLIST = [
    {"question": "Is there a lighthouse?", "source": "goal"},
    {"question": "Does the lighthouse stand on a cliff?", "source": "goal"},
    {"question": "Is it a watercolor?", "source": "goal"},
    {"question": "Is the sea visible?", "source": "goal"},
]


class ScriptedGrok:
    def __init__(
        self,
        scores: list[int],
        fail_judge_at: int | None = None,
        pairwise: list[str] | None = None,
        answers: list[str] | None = None,
        revisions: list[dict[str, Any] | None] | None = None,
        usage_cost: float = 0.001,
    ) -> None:
        self.scores = list(scores)
        self.judged = 0
        self.fail_judge_at = fail_judge_at
        self.pairwise_script = list(pairwise) if pairwise is not None else None
        self.answers = answers  # checklist answers per judge call, "yes" for all when None
        self.revision_script = list(revisions) if revisions is not None else None
        self.usage_cost = usage_cost
        self.revise_prompts: list[str] = []
        self.revise_schemas: list[dict[str, Any]] = []
        self.revisions = 0
        self.score_of: dict[str, int] = {}  # image data URL -> the score the judge gave it
        self.pairwise_calls: list[list[str]] = []  # the image URLs of each call, in order
        self.checklist_calls: list[str] = []
        self.calls: list[str] = []
        self.judged_order: list[str] = []  # image URLs in the order they were judged
        self.pending_pair: dict[int, str] = {}
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        role = body["response_format"]["json_schema"]["name"]
        self.calls.append(role)
        return getattr(self, role)(body)

    # roles ----------------------------------------------------------------------------------

    def prompt_gen(self, body: dict) -> httpx.Response:
        names = ["style", "composition", "lighting", "camera", "constraints"]
        blocks = {n: f"{n} text" for n in names}
        blocks.update(subject="a lighthouse on a cliff", negative_constraints="blur")
        return self._answer({"blocks": blocks})

    def checklist(self, body: dict) -> httpx.Response:
        self.checklist_calls.append(body["messages"][1]["content"])
        items = list(DEFAULT_CHECKLIST)
        if "FEEDBACK" in body["messages"][1]["content"]:
            items.append({"question": "Is the light warm?", "source": "feedback"})
        return self._answer({"questions": items})

    def revise(self, body: dict) -> httpx.Response:
        self.revise_prompts.append(body["messages"][1]["content"])
        self.revise_schemas.append(body["response_format"]["json_schema"]["schema"])
        self.revisions += 1
        if self.revision_script:
            scripted = self.revision_script.pop(0)
            if scripted is not None:
                return self._answer(scripted)
        change = {"block": "lighting", "text": f"lighting v{self.revisions}", "reason": "try"}
        return self._answer({"changes": [change], "summary": f"lighting v{self.revisions}"})

    def judge(self, body: dict) -> httpx.Response:
        self.judged += 1
        if self.fail_judge_at == self.judged:
            return httpx.Response(
                401, json={"error": {"code": 401, "message": "No auth credentials found"}}
            )
        score = self.scores.pop(0)
        self.score_of[image_urls(body)[0]] = score
        with self.lock:
            self.judged_order.append(image_urls(body)[0])
        ids = checklist_ids(body)
        answers = self.answers or ["yes"] * len(ids)
        checklist = [
            {"id": i, "answer": answers[n % len(answers)], "note": "seen"}
            for n, i in enumerate(ids)
        ]
        return self._answer(
            {
                "checklist": checklist,
                "score": score,
                "notes": f"scored {score}",
                "strengths": ["style: keep the palette"],
                "weaknesses": ["lighting: flat"],
            }
        )

    def pairwise(self, body: dict) -> httpx.Response:
        urls = image_urls(body)
        self.pairwise_calls.append(urls)
        if self.pairwise_script is not None:
            # The two orders of one comparison arrive concurrently: the script lists answers
            # per comparison as (candidate first, incumbent first), matched by the images.
            order = 0 if self.judged_order.index(urls[0]) > self.judged_order.index(urls[1]) else 1
            with self.lock:
                if not self.pending_pair:
                    self.pending_pair = {
                        0: self.pairwise_script.pop(0),
                        1: self.pairwise_script.pop(0),
                    }
                preferred = self.pending_pair.pop(order)
        else:
            first, second = (self.score_of.get(u, 0) for u in urls)
            preferred = "first" if first > second else "second" if second > first else "tie"
        return self._answer({"preferred": preferred, "reason": f"{preferred} is better"})

    def recommend(self, body: dict) -> httpx.Response:
        return self._answer({"recommendations": ["keep a", "keep b", "keep c"]})

    def _answer(self, content: dict) -> httpx.Response:
        answer = chat_completion(json.dumps(content))
        answer["usage"]["cost"] = self.usage_cost
        return httpx.Response(200, json=answer)


def image_urls(body: dict) -> list[str]:
    content = body["messages"][1]["content"]
    return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]


def checklist_ids(body: dict) -> list[str]:
    schema = body["response_format"]["json_schema"]["schema"]
    item = schema.get("$defs", {}).get("ChecklistAnswerItem")
    return list(item["properties"]["id"]["enum"]) if item else []


def any_role(request: httpx.Request, judge_score: int = 60) -> httpx.Response:
    """A plain, valid answer for whichever role asks (checklist ids read from the schema)."""
    body = json.loads(request.content)
    answer = any_answer(body, judge_score, salt=len(request.content))
    return httpx.Response(200, json=chat_completion(json.dumps(answer)))


def any_answer(body: dict[str, Any], judge_score: int = 60, salt: int = 0) -> dict[str, Any]:
    """The content of a plain, valid answer to a chat-completions request body."""
    role = body["response_format"]["json_schema"]["name"]
    answers: dict[str, Any] = {
        "prompt_gen": {"blocks": {n: f"{n} words" for n in FLEX_BLOCKS}},
        "checklist": {"questions": DEFAULT_CHECKLIST},
        "judge": {
            "checklist": [{"id": i, "answer": "yes", "note": "seen"} for i in checklist_ids(body)],
            "score": judge_score,
            "notes": "ok",
            "strengths": [],
            "weaknesses": [],
        },
        "pairwise": {"preferred": "tie", "reason": "close"},
        "revise": {
            "changes": [{"block": "lighting", "text": f"dusk {salt}", "reason": "r"}],
            "summary": "s",
        },
        "recommend": {"recommendations": ["a", "b", "c"]},
    }
    return answers[role]


def scripted_app(tmp_path: Path, grok: Any, **overrides: Any) -> Iterator[Flask]:
    """The real app with OpenRouter answered by `grok` at the transport level (demo images).

    `app.config["mock"]` is the respx router, for tests that fake an image provider too.
    """
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=grok)
    settings = demo_settings(
        tmp_path,
        openrouter_api_key="sk-test-openrouter-123456",
        openrouter_base_url=OPENROUTER_URL,
        http_backoff_base_s=0.0,
        http_backoff_cap_s=0.0,
        **overrides,
    )
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    app.config["mock"] = mock
    yield app
    container_of(app).close()
