"""Writes `.env.example` from `Settings` and every registered provider's own settings model, so
it can never drift from the code (issues 17 and 20).

Every setting appears with its real default (read from `Settings`, never typed here) and a
description: the field's own `description` when it has one, else the text below. The check mode,
run by `make lint`, fails when the file differs from what this writes, when a setting has no
description, or when a description names a setting that no longer exists.

    python scripts/env_example.py          # rewrite .env.example
    python scripts/env_example.py --check  # exit 1 if .env.example is not what it would write
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402
from app.tools.provider_registry_tool import settings_models  # noqa: E402

TARGET = ROOT / ".env.example"

HEADER = """\
# SFUMATO configuration, generated from app/settings.py by scripts/env_example.py (do not edit:
# `make lint` fails when this file and the settings differ). Copy it to .env and fill in what you
# have: every line is optional. A commented line shows the default that applies when it is unset.
# With no keys at all the whole flow runs in the labelled offline demo mode.
"""

# (section title, [(description, [setting names it describes])]).
SECTIONS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    (
        "Server",
        [
            (
                "Address and port the app listens on (keep 127.0.0.1 unless you want it reachable "
                "from elsewhere).",
                ["host", "port"],
            ),
            (
                "DEBUG, INFO, WARNING or ERROR. Logs are JSON lines on stderr; keys and base64 "
                "never appear.",
                ["log_level"],
            ),
            (
                "Development only: origins allowed to call /api from another port (JSON list), "
                'e.g. ["http://127.0.0.1:5173"] for the Vite dev server.',
                ["cors_origins"],
            ),
            (
                "Host names the server answers to besides 127.0.0.1:PORT, localhost:PORT and "
                '[::1]:PORT (JSON list): "name" (any port) or "name:port". Requests for other '
                'names get 403 (this stops DNS rebinding). "*" turns the check off: only behind '
                "a proxy that checks the host itself.",
                ["allowed_hosts"],
            ),
            (
                "The built-in server: most requests handled at once (each open event stream holds "
                "one), seconds a client has to send a whole request, seconds a write to a client "
                "that stopped reading may block.",
                ["server_threads", "request_read_timeout_s", "response_write_timeout_s"],
            ),
        ],
    ),
    (
        "Storage and limits",
        [
            (
                "Where sessions (session.json) and images (iter_<n>.<ext>) are kept. No database.",
                ["storage_dir"],
            ),
            (
                "Optimize iterations when a request does not say (spec default: 3), and the most "
                "one run may ask for.",
                ["max_iterations_default", "max_iterations"],
            ),
            (
                "The loop stops early once the best image scores at least this (0..100).",
                ["target_score_default"],
            ),
            (
                "Candidates per optimize round (1..4): K distinct revisions generated and judged in "
                "parallel, the strongest compared with the best so far. 1 keeps the cost of the "
                "specification's loop.",
                ["candidates_default"],
            ),
            (
                "Stop after this many rounds in a row without a pairwise win (0: never stop early "
                "for a plateau).",
                ["plateau_rounds_default"],
            ),
            (
                "Stop before a round that would pass this many US dollars (unset: no budget).",
                ["budget_usd_default"],
            ),
            (
                "Calls in flight at once, across all sessions: per image provider (JSON), and to "
                "OpenRouter.",
                ["provider_max_concurrency", "openrouter_max_concurrency"],
            ),
            (
                "A JSON price table replacing the built-in one for the cost estimate (shape: "
                "app/models/price_models.py).",
                ["price_table_file"],
            ),
            (
                "Longest goal, prompt and feedback accepted (characters), and the largest request "
                "body (bytes).",
                ["max_goal_chars", "max_prompt_chars", "max_feedback_chars", "max_request_bytes"],
            ),
            (
                "Largest image accepted from a provider (bytes, exact; images are decoded in full "
                "before they are stored).",
                ["max_image_bytes"],
            ),
            (
                "The judge gets a copy of each image at most this many px on its longer side (JPEG).",
                ["judge_image_max_px"],
            ),
            (
                "The language of the prompt sent to the image provider (en or ru), whatever the "
                "person writes in; checklist, notes and recommendations come in the person's own.",
                ["image_prompt_language"],
            ),
            (
                "Full sessions kept in memory besides running ones (the history list reads small "
                "summaries).",
                ["session_cache_size"],
            ),
        ],
    ),
    (
        "OpenRouter: every text and vision LLM call (Grok)",
        [
            (
                "Without it, prompt writing, revision, judging and recommendations use the offline "
                "rule-based stand-in.",
                ["openrouter_api_key", "openrouter_base_url"],
            ),
            (
                "Sent as HTTP-Referer / X-Title for OpenRouter's app attribution.",
                ["openrouter_app_url", "openrouter_app_title"],
            ),
            (
                "Model per role (OpenRouter ids). The judge must accept image input.",
                ["model_prompt_gen", "model_prompt_revise", "model_judge", "model_recommend"],
            ),
            (
                "The checklist writer, and the pairwise comparison of two images (must accept "
                "image input).",
                ["model_checklist", "model_pairwise"],
            ),
            (
                "OpenRouter reasoning effort for Grok (low keeps latency and cost down); empty: "
                "not sent.",
                ["openrouter_reasoning_effort"],
            ),
        ],
    ),
    (
        "Image providers (each appears in the app once its key is set)",
        [
            (
                "OpenAI Images API (GPT Image models).",
                ["openai_image_api_key", "openai_image_base_url", "openai_image_model"],
            ),
            (
                "xAI image generation (Grok Imagine).",
                ["grok_api_key", "grok_base_url", "grok_image_model"],
            ),
            (
                "b64_json (image bytes in the answer) or url (downloaded at once: hosted URLs "
                "expire).",
                ["grok_response_format"],
            ),
            (
                'Google Gemini native image generation ("Nano Banana").',
                ["nano_banana_api_key", "nano_banana_base_url", "nano_banana_model"],
            ),
        ],
    ),
    (
        "Outgoing HTTP",
        [
            (
                "Seconds. Image generation is slow (10-60 s and more), text is not.",
                ["http_connect_timeout_s", "text_read_timeout_s", "image_read_timeout_s"],
            ),
            (
                "Retries of 408/409/429/5xx and connection errors (never 400/401/402/403/404), "
                "jittered backoff.",
                ["http_max_retries", "http_backoff_base_s", "http_backoff_cap_s"],
            ),
            (
                "Longest Retry-After honoured before giving up on a retry.",
                ["http_retry_after_cap_s"],
            ),
            (
                "Total seconds one outside call may take, retries and their waits included, per "
                "kind of call. Past it the call is closed and reported as provider_timeout, "
                "however slowly the answer trickles in.",
                ["text_deadline_s", "image_deadline_s", "download_deadline_s"],
            ),
        ],
    ),
    (
        "Offline demo",
        [
            (
                "Artificial seconds per demo step so the live progress can be watched; 0 for "
                "instant demo runs.",
                ["demo_step_delay_s"],
            ),
        ],
    ),
]

OTHER = "Other settings"


def env_value(value: Any) -> str:
    """A default as the environment spells it (pydantic-settings reads JSON for lists and dicts)."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def all_fields() -> dict[str, FieldInfo]:
    """Every setting by its variable's name in lower case: those of `Settings`, then each
    registered provider's (`openai_image_api_key` is field `api_key` of its settings model)."""
    fields = dict(Settings.model_fields)
    for model in settings_models():
        fields |= {model.env_name(n).lower(): f for n, f in model.model_fields.items()}
    return fields


FIELDS = all_fields()


def default_of(name: str) -> Any:
    field = FIELDS[name]
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def is_secret(name: str) -> bool:
    return name.endswith("_api_key")


def line_for(name: str) -> str:
    """A key is an empty line to fill in; every other setting shows its default, commented out."""
    value = env_value(default_of(name))
    return f"{name.upper()}={value}" if is_secret(name) else f"# {name.upper()}={value}"


def wrap(text: str, width: int = 100) -> list[str]:
    lines, current = [], "#"
    for word in text.split():
        if len(current) + 1 + len(word) > width:
            lines.append(current)
            current = "#"
        current += f" {word}"
    return [*lines, current]


def problems() -> list[str]:
    """Settings without a description, and descriptions of settings that do not exist."""
    described = [n for _, groups in SECTIONS for _, names in groups for n in names]
    fields = set(FIELDS)
    found = [
        f"described twice: {n}" for n in sorted({n for n in described if described.count(n) > 1})
    ]
    found += [f"not a setting any more: {n}" for n in described if n not in fields]
    found += [
        f"no description: {n} (add description= to its Field or a line in scripts/env_example.py)"
        for n in sorted(fields - set(described))
        if not FIELDS[n].description
    ]
    return found


def render() -> str:
    out = [HEADER]
    described = {n for _, groups in SECTIONS for _, names in groups for n in names}
    for title, groups in SECTIONS:
        out.append(f"\n# --- {title} " + "-" * max(3, 93 - len(title)) + "\n")
        for text, names in groups:
            own = [FIELDS[n].description for n in names if n in FIELDS]
            out += [line + "\n" for line in wrap(next((d for d in own if d), None) or text)]
            out += [line_for(n) + "\n" for n in names if n in FIELDS]
    rest = [n for n in FIELDS if n not in described]
    if rest:
        out.append(f"\n# --- {OTHER} " + "-" * (93 - len(OTHER)) + "\n")
        for n in rest:
            out += [line + "\n" for line in wrap(FIELDS[n].description or "")]
            out.append(line_for(n) + "\n")
    return "".join(out)


def main(argv: list[str]) -> int:
    errors = problems()
    if errors:
        print("scripts/env_example.py:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    text = render()
    if "--check" in argv:
        if TARGET.read_text(encoding="utf-8") != text:
            print(
                ".env.example is not what app/settings.py says: run "
                "'python scripts/env_example.py' and commit it.",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
