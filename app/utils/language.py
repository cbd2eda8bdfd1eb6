"""The person's language: which one a goal is written in, and the names prompts use for it.

SFUMATO speaks Russian and English. The rule is small and deterministic on purpose (no model, no
download): a text whose letters are mostly Cyrillic is Russian, anything else is English.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "ru")
# How the prompts name each language to the text model.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ru": "Russian"}


def detect_language(text: str) -> Language:
    """ "ru" when Cyrillic letters are at least half of the letters, else "en".

    Half, not all: a Russian goal often names things in Latin letters ("логотип SFUMATO в стиле
    Bauhaus"), and the person still reads Russian."""
    letters = [ch for ch in text if ch.isalpha()]
    cyrillic = sum(1 for ch in letters if "\u0400" <= ch <= "\u04ff")
    return "ru" if letters and cyrillic * 2 >= len(letters) else "en"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, "English")
