"""The benchmarks' fakes: OpenRouter's answers (the role of a request, an answer for each role in
the shape our schemas ask for, the chat-completion body that carries it: provider-apis.md),
photo-like provider images, and provider latency, fixed or variable."""

from __future__ import annotations

import io
import json
import math
import random
import re
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

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


def photo_png(size: int, seed: int = 0) -> bytes:
    """A photo-like PNG: smooth colour fields with a fine grain, so it compresses like a real render
    (~1.6 MB at 1024 px, ~6 MB at 2048), unlike pure noise (worst case) or flat colour (best)."""
    rng = random.Random(seed)
    small = [Image.effect_noise((size // 16, size // 16), 80 + rng.randrange(20)) for _ in "rgb"]
    picture = Image.merge("RGB", [b.resize((size, size), Image.BICUBIC) for b in small])
    grain = Image.effect_noise((size, size), 12).convert("RGB")
    picture = Image.blend(picture, grain, 0.15)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def latency(mean_s: float, cv: float = 0.0, seed: int = 7) -> Callable[[], float]:
    """Seconds to wait per call: `mean_s` every time (cv 0), or lognormal with that mean and
    coefficient of variation `cv` (real providers: a few calls take much longer than most),
    from a seeded generator so two runs draw the same waits."""
    if cv <= 0:
        return lambda: mean_s
    sigma = math.sqrt(math.log(1 + cv * cv))
    mu = math.log(mean_s) - sigma * sigma / 2
    rng, lock = random.Random(seed), threading.Lock()

    def draw() -> float:
        with lock:
            return rng.lognormvariate(mu, sigma)

    return draw
