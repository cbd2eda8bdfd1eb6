"""The FLEX grammar's shared test vectors: the API refuses exactly what the editor refuses.

The same file runs in Vitest (frontend/src/lib/flex-vectors.test.ts) against the editor's parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.services import flex_service

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "flex_vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["name"])
def test_valid_markup_gives_the_expected_blocks(case: dict) -> None:
    doc = flex_service.parse(case["text"])
    assert doc.blocks == case["blocks"]
    assert doc.serialize() == case["text"]


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["name"])
def test_invalid_markup_is_refused_at_the_expected_line(case: dict) -> None:
    with pytest.raises(flex_service.InvalidPrompt) as caught:
        flex_service.parse(case["text"])
    assert caught.value.details["line"] == case["line"]
