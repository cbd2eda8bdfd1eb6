"""FLEX blocks: parse, edit, merge and render image prompts marked up with FLEX blocks.

    ## FLEX_BEGIN:lighting
    soft window light from the left
    ## FLEX_END:lighting

Text outside blocks is the frame. The rules the optimizer relies on are enforced here, not asked of
the LLM: a merge changes block bodies only, so the frame stays byte-identical; locked blocks and
blocks the prompt does not have are never touched; new text can never smuggle in a marker line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from app.errors import AppError
from app.models.domain_models import FLEX_BLOCKS
from app.models.provider_models import RenderedPrompt

_BEGIN = re.compile(r"^## FLEX_BEGIN:([a-z][a-z0-9_]*)[ \t]*\r?\n?$")
_END = re.compile(r"^## FLEX_END:([a-z][a-z0-9_]*)[ \t]*\r?\n?$")
_MARKER = re.compile(r"^\s*##\s*FLEX_(BEGIN|END)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{\s*flex\.([a-z][a-z0-9_]*)\s*\}\}")
LABELS = {
    "subject": "",
    "style": "Style",
    "composition": "Composition",
    "lighting": "Lighting",
    "camera": "Camera",
    "constraints": "Constraints",
    "negative_constraints": "Avoid",
}
DEFAULT_FRAME_NOTE = "# SFUMATO prompt: lines starting with # are notes and are never sent."


class InvalidPrompt(AppError):
    code, status = "invalid_prompt", 400


@dataclass(frozen=True)
class Block:
    name: str
    begin: str  # the raw BEGIN line, with its line ending
    body: str  # raw text between the BEGIN and END lines
    end: str  # the raw END line (no line ending at the end of the text)

    @property
    def text(self) -> str:
        return self.body.removesuffix("\n").removesuffix("\r")

    def raw(self) -> str:
        return self.begin + self.body + self.end


@dataclass(frozen=True)
class FlexDoc:
    """A parsed prompt: frame strings and blocks in their original order."""

    parts: tuple[str | Block, ...]

    def serialize(self) -> str:
        return "".join(p if isinstance(p, str) else p.raw() for p in self.parts)

    @property
    def frame(self) -> tuple[str, ...]:
        return tuple(p for p in self.parts if isinstance(p, str))

    @property
    def blocks(self) -> dict[str, str]:
        return {p.name: p.text for p in self.parts if isinstance(p, Block)}


def parse(text: str) -> FlexDoc:
    """Splits a prompt into frame and blocks; broken markup is an `invalid_prompt` error."""
    parts: list[str | Block] = []
    seen: set[str] = set()
    frame, open_block, body, opened_at = "", None, "", 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if open_block is None:
            if begin:
                _check_new_block(begin.group(1), seen, number)
                parts.append(frame)
                frame, open_block, body, opened_at = "", (begin.group(1), line), "", number
            elif end or _MARKER.match(line):
                raise _broken(f"Line {number}: marker outside a block or malformed.", number)
            else:
                frame += line
        elif end and end.group(1) == open_block[0]:
            parts.append(Block(open_block[0], open_block[1], body, line))
            seen.add(open_block[0])
            open_block = None
        elif _MARKER.match(line):
            raise _broken(f"Line {number}: block '{open_block[0]}' is not closed here.", number)
        else:
            body += line
    if open_block is not None:
        name = open_block[0]
        raise _broken(
            f"Line {opened_at}: block '{name}' is never closed (## FLEX_END:{name}).", opened_at
        )
    parts.append(frame)
    return FlexDoc(tuple(parts))


def _check_new_block(name: str, seen: set[str], number: int) -> None:
    if name in seen:
        raise _broken(f"Line {number}: block '{name}' appears twice.", number)


def _broken(message: str, line: int | None) -> InvalidPrompt:
    return InvalidPrompt(f"Broken FLEX markup. {message}", details={"line": line})


def clean_block_text(text: str) -> str:
    """Block text as it may be stored: plain newlines, trimmed, no marker lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines if not _MARKER.match(line)).strip()


def merge(doc: FlexDoc, changes: dict[str, str], locked: set[str]) -> tuple[FlexDoc, list[str]]:
    """Applies new block texts; returns the new doc and the names that really changed.

    Locked names and names the prompt has no block for are ignored. The frame is untouched.
    """
    changed: list[str] = []
    parts: list[str | Block] = []
    for part in doc.parts:
        if isinstance(part, Block) and part.name in changes and part.name not in locked:
            new_text = clean_block_text(changes[part.name])
            if new_text != part.text:
                newline = "\r\n" if part.begin.endswith("\r\n") else "\n"
                body = new_text.replace("\n", newline) + newline if new_text else ""
                part = replace(part, body=body)
                changed.append(part.name)
        parts.append(part)
    return FlexDoc(tuple(parts)), changed


def build(blocks: dict[str, str], note: str = DEFAULT_FRAME_NOTE) -> str:
    """A new prompt text: a note line, then one block per name in the recommended order."""
    names = [n for n in FLEX_BLOCKS if n in blocks] + [n for n in blocks if n not in FLEX_BLOCKS]
    sections = [f"## FLEX_BEGIN:{n}\n{clean_block_text(blocks[n])}\n## FLEX_END:{n}" for n in names]
    return "\n".join([note, *sections]) + "\n"


def changed_blocks(old: FlexDoc, new: FlexDoc) -> list[str]:
    before = old.blocks
    return [name for name, text in new.blocks.items() if before.get(name) != text]


def render(
    doc: FlexDoc, layout: Literal["lines", "prose"] | str = "lines", native_negative: bool = False
) -> RenderedPrompt:
    """The text sent to a provider: markers and # note lines dropped, `{{ flex.x }}` filled.

    Negative constraints go to the provider's own negative prompt when it has one, otherwise they
    become plain "Avoid: ..." wording.
    """
    blocks = doc.blocks
    negative = blocks.get("negative_constraints", "").strip() if native_negative else None
    used = {m.group(1) for f in doc.frame for m in _PLACEHOLDER.finditer(f)}
    pieces: list[str] = []
    for part in doc.parts:
        if isinstance(part, str):
            pieces += _frame_lines(part, blocks)
        elif part.name not in used and part.text.strip():
            if part.name == "negative_constraints" and native_negative:
                continue
            pieces.append(_labelled(part.name, part.text))
    return RenderedPrompt(text=_join(pieces, layout), negative=negative or None)


def _frame_lines(frame: str, blocks: dict[str, str]) -> list[str]:
    fill = lambda m: " ".join(blocks.get(m.group(1), "").split())  # noqa: E731
    lines = [
        ln.strip() for ln in frame.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    return [_PLACEHOLDER.sub(fill, ln) for ln in lines]


def _labelled(name: str, text: str) -> str:
    flat = " ".join(text.split())
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    return f"{label}: {flat}" if label else flat


def _join(pieces: list[str], layout: str) -> str:
    pieces = [p for p in pieces if p]
    if layout == "prose":
        return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in pieces)
    return "\n".join(pieces)
