"""Judging: each image against the session's checklist and goal, and pairwise comparisons.

`evaluate` answers every checklist question (yes / no / unsure with a note) and gives a 0..100
score with the same rubric for every image. `compare` shows a vision model two images in one call,
asked twice with the order swapped; a candidate wins only when both orders prefer it.
The session's reference images (issue 19) go first in every call, each labelled, so the judge
can check what must match them; both pairwise orders attach the same references.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from app.models.domain_models import (
    FLEX_BLOCKS,
    ChecklistItem,
    ChecklistResult,
    Pairwise,
    PairwiseResult,
    PairwiseVerdict,
    Reference,
    Usage,
)
from app.models.llm_models import JudgeOutput, PairwiseOutput, judge_output_for
from app.models.provider_models import ImageInput, LLMRequest, LLMResult, TextModel
from app.services.image_service import wants_transparent_background as wants_transparency
from app.services.prompt_service import reference_label, reference_rows
from app.tools.template_tool import TemplateTool
from app.utils.language import detect_language

# What an "unsure" is worth in `checklist_pass`: the judge could not tell, so half.
UNSURE_CREDIT = 0.5


@dataclass
class Verdict:
    result: LLMResult
    checklist_results: list[ChecklistResult]
    checklist_pass: float | None
    checklist_version: int = 0  # set by the caller, which knows the session's rubric


@dataclass
class Comparison:
    pairwise: Pairwise
    usage: Usage
    model: str


def checklist_pass(results: list[ChecklistResult]) -> float | None:
    """Share of checklist items passed (yes 1, unsure half, no 0); None without a checklist."""
    if not results:
        return None
    credit = {"yes": 1.0, "unsure": UNSURE_CREDIT, "no": 0.0}
    return round(sum(credit[r.answer] for r in results) / len(results), 4)


# An image as the pairwise judge is shown it: the image, its rendered prompt and its blocks.
Shown = tuple[ImageInput, str, dict[str, str]]
# A reference image as the judge is shown it: the reference and its compact judge copy.
Attached = Sequence[tuple[Reference, ImageInput]]


class _Brief(NamedTuple):
    """What both orders of a pairwise judgement share: the goal, the checklist, the settings, the
    language of the reasons and the references attached first."""

    goal: str
    checklist: list[ChecklistItem]
    params: dict[str, Any]
    language: str
    references: Attached


def attachments(
    references: Attached, judged: list[ImageInput], labels: Sequence[str]
) -> tuple[list[dict[str, Any]], list[ImageInput], list[str]]:
    """The references' rows for the prompt, then every image in the order it is sent (the
    references first) with the label sent before each. Without references: the judged images
    alone, with the text model's default labels."""
    rows = reference_rows([ref for ref, _ in references])
    if not rows:
        return [], judged, []
    images = [image for _, image in references] + judged
    return rows, images, [reference_label(row) for row in rows] + list(labels)


def shared_context(
    goal: str,
    language: str,
    checklist: list[ChecklistItem],
    params: dict[str, Any],
    references: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the judge and the pairwise calls both render from (and the offline model reads). An
    item tied to a reference that is not attached (removed since) is asked as a plain question."""
    attached = {row["id"] for row in references}
    return {
        "goal": goal,
        "language": language,
        "checklist": [
            {
                **item.model_dump(),
                "reference": item.reference if item.reference in attached else None,
            }
            for item in checklist
        ],
        "transparent": wants_transparency(params),
        "aspect_ratio": params.get("aspect_ratio"),
        "references": references,
    }


def verdict_of(
    first_is: Literal["candidate", "incumbent"], preferred: Literal["first", "second", "tie"]
) -> PairwiseVerdict:
    """One order's answer as a verdict on the candidate: which image it preferred, by name."""
    if preferred == "tie":
        return "tie"
    if preferred == "first":
        return first_is
    return "incumbent" if first_is == "candidate" else "candidate"


def pairwise_result(verdicts: list[PairwiseVerdict]) -> PairwiseResult:
    """Win or loss only when both orders agree; anything else is a tie."""
    if verdicts and all(v == "candidate" for v in verdicts):
        return "win"
    if verdicts and all(v == "incumbent" for v in verdicts):
        return "loss"
    return "tie"


class JudgeService:
    def __init__(self, text_model: TextModel, templates: TemplateTool) -> None:
        self.text_model = text_model
        self.templates = templates

    def _system(self, task: str, language: str) -> str:
        return self.templates.system(task, language)

    def evaluate(
        self,
        goal: str,
        rendered_prompt: str,
        blocks: dict[str, str],
        image: ImageInput,
        checklist: list[ChecklistItem],
        params: dict[str, Any],
        language: str | None = None,
        references: Attached = (),
    ) -> Verdict:
        """Answers the checklist and scores the image; the same rubric for every image.
        Notes come in the person's `language` (default: the goal's); `references` are attached
        before the image, labelled."""
        rows, images, labels = attachments(references, [image], ["CANDIDATE IMAGE:"])
        lang = language or detect_language(goal)
        context = {
            **shared_context(goal, lang, checklist, params, rows),
            "prompt": rendered_prompt,
            "blocks": blocks,
        }
        request = LLMRequest(
            role="judge",
            system=self._system("judge an image against a goal and a checklist", lang),
            # the template's `blocks` are the names to start strengths with, not this image's
            user=self.templates.render(
                "llm_judge_prompt.jinja2", **{**context, "blocks": FLEX_BLOCKS}
            ),
            output=judge_output_for([item.id for item in checklist]),
            images=images,
            image_labels=labels,
            context=context,
            temperature=0.2,
            max_tokens=800 + 60 * len(checklist),
        )
        result = self.text_model.complete(request)
        questions = {item.id for item in checklist}
        answers = result.answer(JudgeOutput).checklist
        results = [ChecklistResult(**a.model_dump()) for a in answers if a.id in questions]
        return Verdict(result, results, checklist_pass(results))

    def compare(
        self,
        goal: str,
        checklist: list[ChecklistItem],
        params: dict[str, Any],
        candidate: Shown,
        incumbent: Shown,
        incumbent_index: int,
        language: str | None = None,
        references: Attached = (),
    ) -> Comparison:
        """Both orders at once: (candidate, incumbent) and (incumbent, candidate), each with the
        same `references` attached first."""
        orders: list[tuple[Shown, Shown, Literal["candidate", "incumbent"]]] = [
            (candidate, incumbent, "candidate"),
            (incumbent, candidate, "incumbent"),
        ]
        brief = _Brief(goal, checklist, params, language or detect_language(goal), references)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pairwise") as pool:
            futures = [
                pool.submit(copy_context().run, self._ask, brief, a, b) for a, b, _ in orders
            ]
            answers = [f.result() for f in futures]
        verdicts = [
            verdict_of(first_is, answer.answer(PairwiseOutput).preferred)
            for (_, _, first_is), answer in zip(orders, answers, strict=True)
        ]
        usage = answers[0].usage.plus(answers[1].usage)
        pairwise = Pairwise(
            against=incumbent_index,
            verdicts=verdicts,
            reasons=[a.answer(PairwiseOutput).reason for a in answers],
            result=pairwise_result(verdicts),
        )
        return Comparison(pairwise, usage, answers[0].model)

    def _ask(self, brief: _Brief, first: Shown, second: Shown) -> LLMResult:
        """One order of a pairwise judgement: which of `first` and `second` serves the goal."""
        goal, checklist, params, language, references = brief
        rows, images, labels = attachments(
            references, [first[0], second[0]], ["FIRST IMAGE:", "SECOND IMAGE:"]
        )
        context = {
            **shared_context(goal, language, checklist, params, rows),
            "first_prompt": first[1],
            "first_blocks": first[2],
            "second_prompt": second[1],
            "second_blocks": second[2],
        }
        request = LLMRequest(
            role="pairwise",
            system=self._system("compare two images made for the same goal", language),
            user=self.templates.render("llm_pairwise.jinja2", **context),
            output=PairwiseOutput,
            images=images,
            image_labels=labels,
            context=context,
            temperature=0.0,
            max_tokens=300,
        )
        return self.text_model.complete(request)
