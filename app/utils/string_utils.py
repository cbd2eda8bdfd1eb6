"""String helpers: ids, truncation, word sets and base64 scrubbing."""

from __future__ import annotations

import re
import secrets

_WORD = re.compile(r"[a-zA-Z][a-zA-Z'-]{2,}")
_B64_RUN = re.compile(r"(data:[\w/+.-]+;base64,)?[A-Za-z0-9+/=_-]{200,}")
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "your",
        "you",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "but",
        "not",
        "all",
        "any",
        "can",
        "its",
        "it's",
        "our",
        "out",
        "very",
        "more",
        "most",
        "less",
        "some",
        "such",
        "than",
        "then",
        "them",
        "they",
        "their",
        "there",
        "these",
        "those",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "how",
        "too",
        "also",
        "just",
        "only",
        "own",
        "same",
        "should",
        "would",
        "could",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "make",
        "made",
        "like",
        "want",
        "need",
        "please",
        "image",
        "picture",
        "photo",
        "show",
        "shows",
        "showing",
        "one",
        "two",
        "three",
    ]
)


def new_session_id() -> str:
    """An unguessable, URL-safe session id (128 bits of randomness)."""
    return secrets.token_hex(16)


def truncate(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def keywords(text: str) -> list[str]:
    """Distinct meaningful lower-case words of a text, in order of first appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in _STOPWORDS:
            seen.setdefault(word.strip("'-"), None)
    return [w for w in seen if w]


def scrub_base64(text: str) -> str:
    """Replace long base64 runs (and data URLs) with a short marker."""
    return _B64_RUN.sub(lambda m: f"<base64 {len(m.group(0))} chars>", text)
