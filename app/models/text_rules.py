"""Text hygiene for everything a person writes: goals, feedback, checklist questions, labels,
goals-file lines and prompts.

Why: such text reaches terminals (`sfumato run`), `report.md`/`.html` and the LLM. A control
character (ESC starts a terminal escape sequence, NUL truncates C strings) or a bidi override (it
makes text read differently from what it says) has no place in a goal, so it is refused with a
message naming the character and where it is, rather than silently dropped.

Allowed: tab and newline; a Windows line ending (CR LF) or a lone CR is read as a newline (a goals
file written on Windows is ordinary). The bidi *marks* U+200E/U+200F and U+061C stay allowed: they
carry no override and right-to-left writers use them. Nothing else in the text is changed (no NFC).

A text made only of whitespace and zero-width characters (U+200B-U+200D, U+2060, U+FEFF) is blank:
a goal of zero-width spaces is as empty as "".
"""

from __future__ import annotations

import re
import unicodedata

from pydantic_core import PydanticCustomError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_CONTROL_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x07: "BEL", 0x08: "BACKSPACE"}


def normalize_newlines(text: str) -> str:
    """CR LF and lone CR as LF (a lone CR would let a line overwrite itself on a terminal)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def refuse_controls(text: str, allow_cr: bool = False) -> str:
    """The text unchanged, or ValueError naming the first refused character and its position
    (counted from 1). `allow_cr` keeps CR for text kept byte for byte (a prompt's frame)."""
    if text.isascii() and text.isprintable():
        return text  # the common case, checked at C speed
    for pattern, kind in ((_CONTROL, "a control character"), (_BIDI_CONTROL, "a bidi control")):
        for match in pattern.finditer(text):
            if allow_cr and match.group() == "\r":
                continue
            raise PydanticCustomError(
                "control_character",
                "contains {kind} ({char}) at position {position}; remove it",
                {"kind": kind, "char": describe(match.group()), "position": match.start() + 1},
            )
    return text


def describe(char: str) -> str:
    """`U+001B ESC`, `U+202E RIGHT-TO-LEFT OVERRIDE`: what a person can search for."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X} {name}".rstrip()


def is_blank(text: str) -> bool:
    """True when only whitespace and zero-width characters are left: nothing a person can read."""
    return all(c.isspace() or c in _ZERO_WIDTH for c in text)


def visible_length(text: str) -> int:
    """Characters other than whitespace and zero-width ones (the length that says "too short")."""
    return sum(1 for c in text if not c.isspace() and c not in _ZERO_WIDTH)


def person_text(value: str, *, allow_empty: bool = False, limit: int | None = None) -> str:
    """The one rule for a short person-written text: newlines normalised, controls refused,
    outer whitespace stripped, blank refused (or "" when allowed), at most `limit` characters."""
    value = refuse_controls(normalize_newlines(value)).strip()
    if is_blank(value):
        if not allow_empty:
            raise blank_text()
        return ""
    if limit is not None and len(value) > limit:
        raise too_long(value, limit)
    return value


# Typed refusals: a ValueError to the callers, and to pydantic an error whose `type` and values
# (`max_length`, `position`, ...) reach `details.errors`, so a client can word it in its language.


def too_long(value: str, limit: int) -> PydanticCustomError:
    return PydanticCustomError(
        "string_too_long",
        "is {length} characters long; the limit is {max_length}",
        {"length": len(value), "max_length": limit},
    )


def blank_text() -> PydanticCustomError:
    return PydanticCustomError(
        "string_blank", "must not be empty (only spaces or invisible characters)"
    )
