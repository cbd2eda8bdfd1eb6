"""The benchmarks' fakes of OpenRouter's answers: the role of a request, an answer for each role in
the shape our schemas ask for, and the chat-completion body that carries it (provider-apis.md)."""

from __future__ import annotations

import json
import re
from typing import Any

from app.models.domain_models import FLEX_BLOCKS

_ROLE = re.compile(rb'"json_schema":\s*\{"name":\s*"([a-z_]+)"')


def role_of(body: bytes) -> str:
    """The role of a chat request, from its response_format's schema name ('' when none)."""
    found = _ROLE.search(body)
    return found.group(1).decode() if found else ""


def llm_answers(checklist_items: int = 4) -> dict[str, dict[str, Any]]:
    """One fixed answer per text role; the judge says yes to every checklist item and 70/100, the
    pairwise comparison is a tie, the revision changes the lighting."""
    return {
        "prompt_gen": {
            "blocks": {n: f"{n} wording with some concrete detail" for n in FLEX_BLOCKS}
        },
        "revise": {
            "changes": [{"block": "lighting", "text": "moonlight, warm lamp", "reason": "r"}],
            "summary": "lighting",
        },
        "checklist": {
            "questions": [
                {"question": f"Is detail {n} there?", "source": "goal"}
                for n in range(checklist_items)
            ]
        },
        "judge": {
            "checklist": [
                {"id": f"q{n}", "answer": "yes", "note": "seen"}
                for n in range(1, checklist_items + 1)
            ],
            "score": 70,
            "notes": "ok",
            "strengths": ["a"],
            "weaknesses": ["lighting: flat"],
        },
        "pairwise": {"preferred": "tie", "reason": "close"},
        "recommend": {"recommendations": ["a", "b", "c"]},
    }


def chat_completion(answer: dict[str, Any], cost: float = 0.001) -> dict[str, Any]:
    """OpenRouter's chat-completion body whose message content is `answer` as JSON."""
    return {
        "id": "gen-1",
        "model": "x-ai/grok",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": json.dumps(answer)},
            }
        ],
        "usage": {"prompt_tokens": 500, "completion_tokens": 80, "total_tokens": 580, "cost": cost},
    }
