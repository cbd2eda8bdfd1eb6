"""Fixed limits of person-written input, in one place.

The limits a deployment may change (goal, prompt and feedback length, iterations) are `Settings`
fields and reach the request models through the validation context; the ones below are fixed by
the models the text LLM answers with, or by the protocol, so every door (API bodies, goals files,
recipes, CLI options) reads them from here rather than writing the number again.
"""

from __future__ import annotations

from typing import Protocol


class _Configured(Protocol):
    """What `published_limits` reads of the Settings (settings.py imports this module for its own
    bounds, so this module names the fields it reads instead of importing Settings)."""

    max_iterations: int
    max_iterations_default: int
    target_score_default: int
    max_goal_chars: int
    max_prompt_chars: int
    max_feedback_chars: int
    candidates_default: int
    plateau_rounds_default: int


# A checklist: the person may add beyond the 12 questions Grok writes, within reason.
MAX_CHECKLIST_ITEMS = 16
CHECKLIST_QUESTION_MIN_CHARS = 3
CHECKLIST_QUESTION_MAX_CHARS = 300  # as the LLM's ChecklistQuestion and the stored ChecklistItem

# Optimize runs: candidates per round, rounds without a win, the largest budget a body may ask.
MAX_CANDIDATES = 4
MAX_PLATEAU_ROUNDS = 20
MAX_BUDGET_USD = 10_000

# Reference images (issue 19): per session (a model's own limit may be lower), decoded bytes and
# pixels of one image, the length of its label.
MAX_REFERENCES = 8
MAX_REFERENCE_BYTES = 20 * 1024 * 1024
MAX_REFERENCE_PIXELS = 40_000_000
MAX_REFERENCE_LABEL_CHARS = 80

# The most sessions `GET /api/sessions` gives in one page.
MAX_PAGE_SIZE = 200

# The most rounds MAX_ITERATIONS may allow (the configured MAX_ITERATIONS is the real limit).
ITERATIONS_CEILING = 50

# Batches: goals per file, goals run at once (a CLI batch, a web app batch), the length of a goal
# id and of a category label, locks per goal.
MAX_GOALS = 1000
MAX_BATCH_JOBS = 32
MAX_WEB_BATCH_JOBS = 8
MAX_GOAL_ID_CHARS = 80
MAX_LABEL_CHARS = 80

# The scrubber: a configured key shorter than this is not a real key and is not used for redaction
# (it would redact ordinary words); any run of this many characters of a key is redacted.
MIN_SECRET_CHARS = 16
SECRET_RUN_CHARS = 12


def published_limits(settings: _Configured) -> dict[str, int]:
    """The limits `GET /api/providers` publishes (the `Limits` model) and the web app mirrors:
    the configurable ones from `settings`, the fixed ones from here. `scripts/limits_ts.py` writes
    the same dict with Settings' defaults into `frontend/src/lib/limits.gen.ts`."""
    return {
        "max_iterations": settings.max_iterations,
        "max_iterations_default": settings.max_iterations_default,
        "target_score_default": settings.target_score_default,
        "max_goal_chars": settings.max_goal_chars,
        "max_prompt_chars": settings.max_prompt_chars,
        "max_feedback_chars": settings.max_feedback_chars,
        "max_candidates": MAX_CANDIDATES,
        "candidates_default": settings.candidates_default,
        "plateau_rounds_default": settings.plateau_rounds_default,
        "max_checklist_items": MAX_CHECKLIST_ITEMS,
    }
