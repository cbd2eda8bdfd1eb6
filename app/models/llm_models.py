"""The structured answers each LLM role must return (sent as JSON schemas, validated on our side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from app.limits import (
    CHECKLIST_QUESTION_MAX_CHARS,
    CHECKLIST_QUESTION_MIN_CHARS,
    MAX_CHECKLIST_ITEMS,
)
from app.models.domain_models import ChecklistAnswer

BlockName = Literal[
    "subject", "style", "composition", "lighting", "camera", "constraints", "negative_constraints"
]


class PromptBlocks(BaseModel):
    subject: str = Field(min_length=1, max_length=1200)
    style: str = Field(max_length=600)
    composition: str = Field(max_length=600)
    lighting: str = Field(max_length=600)
    camera: str = Field(max_length=600)
    constraints: str = Field(max_length=600)
    negative_constraints: str = Field(max_length=600)


class PromptGenOutput(BaseModel):
    """prompt_gen: the starting prompt, one text per FLEX block."""

    blocks: PromptBlocks


class BlockChange(BaseModel):
    block: BlockName
    text: str = Field(max_length=1200)
    reason: str = Field(max_length=300)


class ReviseOutput(BaseModel):
    """revise: new texts for the blocks worth changing, and a one-line summary of the change."""

    changes: list[BlockChange] = Field(min_length=1, max_length=7)
    summary: str = Field(min_length=1, max_length=400)


class EditReviseOutput(ReviseOutput):
    """revise in edit mode (issue 19): the block changes (kept as the iteration's prompt, for the
    rounds after it) and the edit instruction the image provider gets with the image to edit."""

    instruction: str = Field(min_length=1, max_length=1200)


def revise_output_for(free_blocks: list[str], edit: bool = False) -> type[ReviseOutput]:
    """ReviseOutput whose `block` may name only `free_blocks` (the unlocked ones), built per call;
    with `edit`, the edit-mode answer that also carries the edit instruction.

    The schema sent to the model then cannot even express a change to a locked block.
    """
    names = tuple(free_blocks)
    change = create_model(
        "FreeBlockChange",
        __base__=BlockChange,
        block=(Literal[names], ...),  # type: ignore[arg-type]  # a Literal of names known only at run time: pydantic reads it, mypy cannot
    )
    return create_model(
        "ReviseOutput",
        __base__=EditReviseOutput if edit else ReviseOutput,
        changes=(list[change], Field(min_length=1, max_length=len(names))),
    )


class ChecklistQuestion(BaseModel):
    question: str = Field(
        min_length=CHECKLIST_QUESTION_MIN_CHARS, max_length=CHECKLIST_QUESTION_MAX_CHARS
    )
    source: Literal["goal", "feedback", "reference"]
    # For a reference question, the id of the reference it checks against ("r1"); else "".
    reference: str = Field(default="", max_length=4)


class ChecklistOutput(BaseModel):
    """checklist: 4-12 atomic yes/no questions a correct image must satisfy."""

    questions: list[ChecklistQuestion] = Field(min_length=4, max_length=12)


class ChecklistAnswerItem(BaseModel):
    id: str
    answer: ChecklistAnswer
    note: str = Field(max_length=200)


class JudgeOutput(BaseModel):
    """judge: the checklist answered item by item, a 0..100 score and short reasons."""

    # As many as a person may keep (16), not just the 12 the checklist writer makes.
    checklist: list[ChecklistAnswerItem] = Field(
        default_factory=list, max_length=MAX_CHECKLIST_ITEMS
    )
    score: int = Field(ge=0, le=100)
    notes: str = Field(min_length=1, max_length=600)
    strengths: list[str] = Field(max_length=5)
    weaknesses: list[str] = Field(max_length=5)


def judge_output_for(ids: list[str]) -> type[JudgeOutput]:
    """JudgeOutput that must answer exactly the checklist `ids`, each once (built per call)."""
    if not ids:
        return JudgeOutput
    wanted = tuple(ids)
    item = create_model(
        "ChecklistAnswerItem",
        __base__=ChecklistAnswerItem,
        id=(Literal[wanted], ...),  # type: ignore[arg-type]  # a Literal of names known only at run time: pydantic reads it, mypy cannot
    )

    def every_item_once(self: JudgeOutput) -> JudgeOutput:
        got = [a.id for a in self.checklist]
        if sorted(got) != sorted(wanted):
            missing = [i for i in wanted if i not in got]
            raise ValueError(
                f"answer every checklist item exactly once; missing {missing or 'none'}"
            )
        return self

    return create_model(
        "JudgeOutput",
        __base__=JudgeOutput,
        # create_model takes the decorator's descriptor, which its stub does not list as a callable
        __validators__={"every_item_once": model_validator(mode="after")(every_item_once)},  # type: ignore[dict-item]
        checklist=(list[item], Field(min_length=len(wanted), max_length=len(wanted))),
    )


class PairwiseOutput(BaseModel):
    """pairwise: which of the two attached images better fulfils the goal and checklist."""

    preferred: Literal["first", "second", "tie"]
    reason: str = Field(min_length=1, max_length=300)


class RecommendOutput(BaseModel):
    """recommend: 3-7 short points on what worked."""

    recommendations: list[str] = Field(min_length=3, max_length=7)


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the strict form structured outputs need.

    Strict mode wants every property required and `additionalProperties: false` on every object;
    length and range keywords are kept as hints (pydantic validates them again on our side).
    """
    schema = model.model_json_schema()

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            node.pop("title", None) if isinstance(node.get("title"), str) else None
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for item in node:
                tighten(item)

    tighten(schema)
    return schema
