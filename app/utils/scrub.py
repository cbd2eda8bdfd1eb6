"""The one scrubber: every configured key, auth header values and base64 runs out of text.

`register_secrets` is called with every configured key when an app is created (the set only grows,
so a key is never forgotten while the process lives). Everything built from a provider's answer goes
through here before it can reach an error, a log record, a session file or an export:

- `scrub_answer` cleans a parsed provider answer as it arrives (keys only: image data stays intact);
- `scrub_text` cleans a message (keys, `Bearer ...`/`api_key=...` values, long base64 runs);
- `scrub_value` cleans the string leaves of error details.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from app.utils.string_utils import scrub_base64

REDACTED = "[REDACTED]"
# Shorter values are not treated as secrets: replacing them would mangle ordinary words.
MIN_SECRET_CHARS = 6
_AUTH_VALUE = re.compile(
    r"(?i)(bearer\s+|x-goog-api-key[\"':=\s]+|api[_-]?key[\"':=\s]+|key=)[^\s\"',;&]+"
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secrets(values: Iterable[str | None]) -> None:
    """Adds keys to the set every scrub removes (longest first, so no key hides a longer one)."""
    global _secrets
    fresh = {v for v in values if v and len(v) >= MIN_SECRET_CHARS}
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | fresh, key=len, reverse=True))


def redact_keys(text: str) -> str:
    """Only the configured keys replaced; nothing else touched (safe on base64 image data)."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_text(text: str, extra: Iterable[str] = ()) -> str:
    """A message made safe to show, log and store: no key, no auth header value, no base64."""
    for secret in extra:
        if secret and len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, REDACTED)
    text = redact_keys(text)
    return scrub_base64(_AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text))


def scrub_value(value: Any) -> Any:
    """`scrub_text` on every string (keys included) of a JSON-like value; other leaves kept."""
    return _walk(value, scrub_text)


def scrub_answer(value: Any) -> Any:
    """A parsed provider answer with every configured key replaced, wherever it is echoed."""
    if not _secrets:
        return value
    return _walk(value, redact_keys)


def _walk(value: Any, clean: Any) -> Any:
    """Applies `clean` to the strings of nested dicts/lists without recursion (answers can be deep)."""
    if isinstance(value, str):
        return clean(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, slot, node = stack.pop()
        if isinstance(node, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for key, item in node.items():
                key = clean(key) if isinstance(key, str) else key
                copy[key] = item
                stack.append((copy, key, item))
        elif isinstance(node, list):
            items = list(node)
            parent[slot] = items
            stack.extend((items, i, item) for i, item in enumerate(items))
        elif isinstance(node, str):
            parent[slot] = clean(node)
    return root[0]
