"""The one scrubber: every configured key, auth header values and base64 runs out of text.

`register_secrets` is called with every configured key when an app is created (the set only grows,
so a key is never forgotten while the process lives). Everything built from a provider's answer goes
through here before it can reach an error, a log record, a session file or an export:

- `scrub_answer` cleans a parsed provider answer as it arrives (keys only: image data stays intact);
- `scrub_text` cleans a message (keys, `Bearer ...`/`api_key=...` values, long base64 runs);
- `scrub_value` cleans the string leaves of error details.

A provider does not always echo a key as it was sent: it may lower- or upper-case it, URL-encode
it, base64-encode it (inside a Basic auth header), or cut it short. So a key is found as any run of
SECRET_RUN_CHARS (12) or more characters of the key or of one of those encodings, ASCII case
ignored, and the whole run is redacted. A configured value shorter than MIN_SECRET_CHARS (16) is
not a real key and is not used at all: redacting it would mangle ordinary words.

Speed: the scrubber runs on every log line and error. Each key set is indexed once (`_KeyIndex`:
every 6-character piece of every variant, and one regex for runs of the characters keys are made
of). Only such runs of 12+ characters are probed, and only at every 6th position of each run, since
any run of 12 key characters fully contains a piece that starts at such a position. A probe that
hits is extended both ways to the whole run.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

from app.limits import MIN_SECRET_CHARS, SECRET_RUN_CHARS
from app.utils.string_utils import scrub_base64

REDACTED = "[REDACTED]"
# An auth header or parameter value: a token (a digit or a sign in it, or 12+ characters), not
# the ordinary word in "needs OPENAI_IMAGE_API_KEY: set it in .env".
_AUTH_VALUE = re.compile(
    r"(?i)(bearer\s+|x-goog-api-key[\"':=\s]+|api[_-]?key[\"':=\s]+|key=)"
    r"((?=[^\s\"',;&]*[\d_./+=-])[^\s\"',;&]+|[^\s\"',;&]{12,})"
)
_PIECE = SECRET_RUN_CHARS // 2  # any run of 12 characters contains a whole aligned 6-piece
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Texts longer than this (an image's base64 in an answer) get the exact variants only.
MAX_SCANNED_CHARS = 2_000_000


class _KeyIndex:
    """Every variant of every key, and where each 6-character piece of them occurs."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.variants = sorted({v for key in keys for v in _variants(key)}, key=len, reverse=True)
        self.pieces: dict[str, list[tuple[str, int]]] = {}
        for variant in self.variants:
            for at in range(len(variant) - _PIECE + 1):
                self.pieces.setdefault(variant[at : at + _PIECE], []).append((variant, at))
        # Runs of 12+ characters that keys are made of: only these are probed (prose has few).
        chars = "".join(sorted(set("".join(self.variants))))
        self.runs = re.compile(f"[{re.escape(chars)}]{{{SECRET_RUN_CHARS},}}") if chars else None

    def redact(self, text: str) -> str:
        if len(text) < SECRET_RUN_CHARS or not self.pieces:
            return text
        if len(text) > MAX_SCANNED_CHARS:
            return self._exact(text)
        low = _lowered(text)
        spans = self._spans(low) if self._may_hold_a_key(low) else []
        if not spans:
            return text
        out, last = [], 0
        for start, end in spans:
            out += [text[last:start], REDACTED]
            last = end
        return "".join([*out, text[last:]])

    def _exact(self, text: str) -> str:
        low = _lowered(text)
        for variant in self.variants:
            while variant in low:
                at = low.index(variant)
                text = text[:at] + REDACTED + text[at + len(variant) :]
                low = low[:at] + REDACTED + low[at + len(variant) :]
        return text

    def _may_hold_a_key(self, low: str) -> bool:
        """The quick test most texts end at: does any long word hold a piece of a key? (Words
        from `str.split` are found at C speed; a key has no whitespace.)"""
        pieces = self.pieces
        for word in [w for w in low.split() if len(w) >= SECRET_RUN_CHARS]:
            for at in range(0, len(word) - _PIECE + 1, _PIECE):
                if word[at : at + _PIECE] in pieces:
                    return True
        return False

    def _spans(self, low: str) -> list[tuple[int, int]]:
        """Merged [start, end) spans of runs of 12+ characters of a variant, found by probing
        every 6th position and extending each hit both ways."""
        spans: list[tuple[int, int]] = []
        pieces = self.pieces
        for run in self.runs.finditer(low) if self.runs else ():
            for at in range(run.start(), run.end() - _PIECE + 1, _PIECE):
                for variant, offset in pieces.get(low[at : at + _PIECE], ()):
                    start, end = _extend(low, at, variant, offset)
                    if end - start >= SECRET_RUN_CHARS:
                        spans.append((start, end))
        return _merged(spans)


def _lowered(text: str) -> str:
    """Lower-cased at C speed, position for position (the rare character whose lower case is
    longer, such as U+0130, sends it through the slower ASCII-only table)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_LOWER)


def _extend(low: str, at: int, variant: str, offset: int) -> tuple[int, int]:
    start, k = at, offset
    while start > 0 and k > 0 and low[start - 1] == variant[k - 1]:
        start, k = start - 1, k - 1
    end, k = at + _PIECE, offset + _PIECE
    while end < len(low) and k < len(variant) and low[end] == variant[k]:
        end, k = end + 1, k + 1
    return start, end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _variants(key: str) -> set[str]:
    """The key as sent, URL-encoded and base64-encoded (at each of the 3 byte alignments it can
    have inside a longer encoded text, keeping only the characters that depend on the key alone),
    all ASCII-lower-cased: matching is done on lower-cased text."""
    raw = key.encode("utf-8")
    found = {key, quote(key, safe=""), quote_plus(key, safe="")}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii").rstrip("=")
        stable = encoded[(4 if shift else 0) : len(encoded) - 3]
        found |= {stable, stable.replace("+", "-").replace("/", "_")}
    return {v.translate(_LOWER) for v in found if len(v) >= SECRET_RUN_CHARS}


_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_index = _KeyIndex(())


def usable_secret(value: str | None) -> bool:
    """A value long enough to be a real key (shorter ones would redact ordinary words)."""
    return bool(value) and len(value or "") >= MIN_SECRET_CHARS


def register_secrets(values: Iterable[str | None]) -> None:
    """Adds keys to the set every scrub removes; the index is rebuilt once per new key set."""
    global _secrets, _index
    fresh = {v for v in values if v and usable_secret(v)}
    with _lock:
        if fresh <= set(_secrets):
            return
        _secrets = tuple(sorted(set(_secrets) | fresh, key=len, reverse=True))
        _index = _KeyIndex(_secrets)


@lru_cache(maxsize=16)
def _extra_index(keys: tuple[str, ...]) -> _KeyIndex:
    return _KeyIndex(keys)


def redact_keys(text: str) -> str:
    """Only the configured keys (in any of their variants) replaced; nothing else touched, so it
    is safe on base64 image data."""
    return _index.redact(text)


def scrub_text(text: str, extra: Iterable[str] = ()) -> str:
    """A message made safe to show, log and store: no key, no auth header value, no base64."""
    more = tuple(sorted(v for v in extra if usable_secret(v) and v not in _secrets))
    if more:
        text = _extra_index(more).redact(text)
    text = redact_keys(text)
    return scrub_base64(_AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text))


def scrub_value(value: Any) -> Any:
    """`scrub_text` on every string (keys included) of a JSON-like value; other leaves kept."""
    return _walk(value, scrub_text)


def scrub_answer(value: Any) -> Any:
    """A parsed provider answer with every configured key replaced, wherever it is echoed."""
    if not _index.pieces:
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
