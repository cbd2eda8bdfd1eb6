"""FLEX parsing, merging and rendering: the frame and locked blocks never change."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services import flex_service
from app.services.flex_service import InvalidPrompt

NAMES = st.sampled_from(
    ["subject", "style", "composition", "lighting", "camera", "constraints", "negative_constraints"]
)
# Frame and body lines: anything printable except lines that could be markers.
LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"),
    max_size=40,
).filter(lambda s: "FLEX_" not in s.upper())
TEXT = st.lists(LINE, max_size=4).map(lambda lines: "".join(f"{ln}\n" for ln in lines))


@st.composite
def documents(draw: st.DrawFn) -> str:
    names = draw(st.lists(NAMES, min_size=1, max_size=7, unique=True))
    out = draw(TEXT)
    for name in names:
        out += f"## FLEX_BEGIN:{name}\n{draw(TEXT)}## FLEX_END:{name}\n" + draw(TEXT)
    if draw(st.booleans()):
        out = out.removesuffix("\n")
    return out


@given(documents())
def test_parse_then_serialize_is_byte_identical(text: str) -> None:
    assert flex_service.parse(text).serialize() == text


@settings(max_examples=150)
@given(documents(), st.dictionaries(NAMES, st.text(max_size=80)), st.sets(NAMES))
def test_merge_keeps_frame_and_locked_blocks(text: str, changes: dict, locked: set) -> None:
    doc = flex_service.parse(text)
    merged, changed = flex_service.merge(doc, changes, locked)
    again = flex_service.parse(merged.serialize())
    assert again.frame == doc.frame
    for name in locked & set(doc.blocks):
        assert again.blocks[name] == doc.blocks[name]
    for name in set(again.blocks) - set(changed):
        assert again.blocks[name] == doc.blocks[name]
    assert set(again.blocks) == set(doc.blocks)
    assert not set(changed) & locked


def test_merge_cannot_smuggle_markers() -> None:
    doc = flex_service.parse("intro\n## FLEX_BEGIN:style\nold\n## FLEX_END:style\noutro\n")
    merged, changed = flex_service.merge(
        doc, {"style": "new\n## FLEX_END:style\n## FLEX_BEGIN:evil\nx"}, set()
    )
    assert changed == ["style"]
    assert merged.serialize() == "intro\n## FLEX_BEGIN:style\nnew\nx\n## FLEX_END:style\noutro\n"


def test_merge_ignores_unknown_and_unchanged_blocks() -> None:
    doc = flex_service.parse("## FLEX_BEGIN:style\nsame\n## FLEX_END:style\n")
    merged, changed = flex_service.merge(doc, {"style": " same ", "lighting": "new"}, set())
    assert changed == []
    assert merged.serialize() == doc.serialize()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("## FLEX_BEGIN:style\nx\n", 1),
        ("intro\n## FLEX_BEGIN:style\nx\n", 2),
        ("## FLEX_END:style\n", 1),
        ("## FLEX_BEGIN:style\n## FLEX_BEGIN:camera\n", 2),
        ("## FLEX_BEGIN:style\nx\n## FLEX_END:camera\n", 3),
        ("## FLEX_BEGIN:a\n## FLEX_END:a\n## FLEX_BEGIN:a\n## FLEX_END:a\n", 3),
        ("## FLEX_BEGIN: style\n", 1),
    ],
)
def test_broken_markup_is_a_clear_error(text: str, line: int | None) -> None:
    with pytest.raises(InvalidPrompt) as caught:
        flex_service.parse(text)
    assert caught.value.status == 400
    assert caught.value.details["line"] == line


def test_render_strips_markers_notes_and_fills_placeholders() -> None:
    text = (
        "# a note for people\n"
        "Poster of {{ flex.subject }}.\n"
        "## FLEX_BEGIN:subject\na red fox\nasleep\n## FLEX_END:subject\n"
        "## FLEX_BEGIN:lighting\nsoft dawn light\n## FLEX_END:lighting\n"
        "## FLEX_BEGIN:negative_constraints\ntext, watermark\n## FLEX_END:negative_constraints\n"
    )
    doc = flex_service.parse(text)
    plain = flex_service.render(doc, "lines", native_negative=False)
    assert (
        plain.text
        == "Poster of a red fox asleep.\nLighting: soft dawn light\nAvoid: text, watermark"
    )
    assert plain.negative is None
    native = flex_service.render(doc, "prose", native_negative=True)
    assert native.text == "Poster of a red fox asleep. Lighting: soft dawn light."
    assert native.negative == "text, watermark"
    assert "FLEX" not in plain.text + native.text


def test_build_makes_a_parseable_prompt_in_recommended_order() -> None:
    text = flex_service.build({"lighting": "dawn", "subject": "fox", "extra_detail": "x"})
    doc = flex_service.parse(text)
    assert list(doc.blocks) == ["subject", "lighting", "extra_detail"]
    assert doc.frame[0].startswith("#")
