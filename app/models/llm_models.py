"""The structured answers each LLM role must return (sent as JSON schemas, validated on our side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

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


class JudgeOutput(BaseModel):
    """judge: a 0..100 score and short reasons."""

    score: int = Field(ge=0, le=100)
    notes: str = Field(min_length=1, max_length=600)
    strengths: list[str] = Field(max_length=5)
    weaknesses: list[str] = Field(max_length=5)


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
