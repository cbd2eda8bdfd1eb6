"""Fixed limits of person-written input, in one place.

The limits a deployment may change (goal, prompt and feedback length, iterations) are `Settings`
fields and reach the request models through the validation context; the ones below are fixed by
the models the text LLM answers with, or by the protocol, so every door (API bodies, goals files,
recipes, CLI options) reads them from here rather than writing the number again.
"""

from __future__ import annotations

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
