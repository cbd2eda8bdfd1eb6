"""Prompt writing and revision through the text model, and rendering prompts for a provider."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.models.domain_models import FLEX_BLOCKS, Iteration, Reference, Session, Usage
from app.models.llm_models import (
    EditReviseOutput,
    PromptGenOutput,
    ReviseOutput,
    revise_output_for,
)
from app.models.provider_models import (
    LLMRequest,
    LLMResult,
    ProviderCapabilities,
    RenderedPrompt,
    TextModel,
)
from app.services import flex_service
from app.tools.template_tool import TemplateTool

# Distinct strategies for the K candidates of a round (candidate c uses STRATEGIES[c]); K=1 uses
# the first, the direct fix the seed's loop always made.
STRATEGIES: tuple[tuple[str, str], ...] = (
    (
        "targeted fix",
        "fix exactly the failed checklist items, the weaknesses and the feedback; change as little "
        "else as possible.",
    ),
    (
        "emphasis",
        "put what failed first: restate the failed checklist items early and explicitly in the "
        "blocks you may change, with counts, positions and exact text; move secondary detail later.",
    ),
    (
        "simplify",
        "remove detail that competes with the goal: cut every block to its essentials so the model "
        "attends to what failed; keep what works.",
    ),
    (
        "recompose",
        "try a different composition, viewpoint and lens that make the failed items easy to see, "
        "keeping the subject and style.",
    ),
)


# What each role of reference image stands for, as every prompt that lists references says it.
REFERENCE_PURPOSE = {
    "subject": "the person, product or object to keep as it is (shape, markings, colours)",
    "style": "the look and palette to take, not its content",
    "composition": "the layout and framing to follow, not its content",
}


def reference_rows(references: Sequence[Reference]) -> list[dict[str, Any]]:
    """The references as every prompt (and the offline model) sees them: numbered in the order
    they are attached, with their role, the person's label and what the role stands for."""
    return [
        {
            "number": n,
            "id": ref.id,
            "role": ref.role,
            "label": ref.label,
            "purpose": REFERENCE_PURPOSE[ref.role],
        }
        for n, ref in enumerate(references, start=1)
    ]


def reference_label(row: dict[str, Any]) -> str:
    """The label sent right before a reference image: "REFERENCE 1 (subject: bottle):"."""
    label = f": {row['label']}" if row["label"] else ""
    return f"REFERENCE {row['number']} ({row['role']}{label}):"


@dataclass
class Revision:
    prompt_text: str
    summary: str
    changed: list[str]
    result: LLMResult | None
    strategy: str | None = None
    usage: Usage = field(default_factory=Usage)
    # Edit mode: what the image provider is told to change in the image it edits.
    instruction: str | None = None


class PromptService:
    def __init__(self, text_model: TextModel, templates: TemplateTool) -> None:
        self.text_model = text_model
        self.templates = templates

    def system(self, task: str, language: str = "en", prompt_language: str = "en") -> str:
        return self.templates.render(
            "sys_cmd_prompt.jinja2",
            task=task,
            blocks=FLEX_BLOCKS,
            language=language,
            prompt_language=prompt_language,
        )

    def generate_initial(
        self,
        goal: str,
        caps: ProviderCapabilities,
        params: dict[str, Any],
        language: str = "en",
        prompt_language: str = "en",
        references: Sequence[Reference] = (),
    ) -> tuple[str, LLMResult]:
        """The structured starting prompt for a goal, written in the image provider's language
        (`prompt_language`) whatever the person's (`language`); told what each reference image
        sent with it is for."""
        context = {
            "goal": goal,
            "language": language,
            "prompt_language": prompt_language,
            "provider": caps.name,
            "provider_label": caps.label,
            "image_params": params,
            "supports_negative_prompt": caps.supports_negative_prompt,
            "guide": self.templates.guide(caps.guide),
            "references": reference_rows(references),
        }
        request = LLMRequest(
            role="prompt_gen",
            system=self.system(
                "write a structured starting image prompt", language, prompt_language
            ),
            user=self.templates.render("llm_prompt_gen.jinja2", **context),
            output=PromptGenOutput,
            context=context,
            temperature=0.7,
        )
        result = self.text_model.complete(request)
        return flex_service.build(result.answer(PromptGenOutput).blocks.model_dump()), result

    def revise(
        self,
        session: Session,
        base: Iteration,
        caps: ProviderCapabilities,
        strategy_number: int = 0,
        retry_note: str | None = None,
        edit: bool = False,
    ) -> Revision:
        """New block texts for the best prompt so far, following one strategy; with `edit` (an
        edit-mode run) also the edit instruction sent with the best image to change it.

        The answer may name only unlocked blocks (the schema is built per call); the merge keeps
        the frame and locked blocks whatever comes back.
        """
        doc = flex_service.parse(base.prompt_text)
        free = [name for name in doc.blocks if name not in session.locked_blocks]
        name, how = STRATEGIES[strategy_number % len(STRATEGIES)]
        context = revise_context(session, base, doc.blocks)
        context.update(
            provider_label=caps.label,
            guide=self.templates.guide(caps.guide),
            free=free,
            strategy_name=name,
            strategy=how,
            strategy_number=strategy_number,
            retry_note=retry_note or "",
            mode="edit" if edit else "generate",
        )
        request = LLMRequest(
            role="revise",
            system=self.system(
                "revise an image prompt block by block", session.language, session.prompt_language
            ),
            user=self.templates.render("llm_prompt_revise.jinja2", **context),
            output=revise_output_for(free, edit=edit),
            context=context,
        )
        result = self.text_model.complete(request)
        return _revision(doc, set(session.locked_blocks), result, name, edit)

    def render(self, prompt_text: str, caps: ProviderCapabilities) -> RenderedPrompt:
        doc = flex_service.parse(prompt_text)
        return flex_service.render(doc, caps.prompt_layout, caps.supports_negative_prompt)

    def edit_instruction(
        self, base_prompt: str, prompt_text: str, caps: ProviderCapabilities, wish: str | None
    ) -> RenderedPrompt:
        """What an image provider is told when it edits an image (`generate` with `edit_from`):
        the person's own `wish`, else the blocks the working prompt changed against the prompt of
        the image being edited, else the whole prompt to match. Always "keep everything else",
        so an edit stays an edit. No model call: it is written from what the person gave."""
        keep = "; keep everything else exactly as it is."
        if wish:
            return RenderedPrompt(text=wish.strip().rstrip(".;") + keep)
        before = flex_service.parse(base_prompt).blocks
        after = flex_service.parse(prompt_text).blocks
        changed = [
            f"the {n.replace('_', ' ')}: {t}" for n, t in after.items() if before.get(n) != t
        ]
        if changed:
            return RenderedPrompt(text="Change only " + "; ".join(changed) + keep)
        whole = self.render(prompt_text, caps).text
        return RenderedPrompt(text=f"Change only what differs from this description{keep}\n{whole}")


def _revision(
    doc: flex_service.FlexDoc, locked: set[str], result: LLMResult, strategy: str, edit: bool
) -> Revision:
    """The reviser's answer merged into the prompt (the frame and locked blocks kept whatever
    came back), with the edit instruction in edit mode."""
    answer = result.answer(ReviseOutput)
    merged, changed = flex_service.merge(doc, {c.block: c.text for c in answer.changes}, locked)
    instruction = result.answer(EditReviseOutput).instruction if edit else None
    return Revision(
        merged.serialize(), answer.summary, changed, result, strategy, result.usage, instruction
    )


def revise_context(session: Session, base: Iteration, blocks: dict[str, str]) -> dict[str, Any]:
    """What the reviser sees: keep (strengths), fix (failed checks, weaknesses), feedback, history."""
    questions = {item.id: item for item in session.checklist}
    numbers = {ref.id: n for n, ref in enumerate(session.references, start=1)}
    failed = [
        {
            "id": r.id,
            "answer": r.answer,
            "note": r.note,
            "question": questions[r.id].question,
            "reference": numbers.get(questions[r.id].reference or ""),
        }
        for r in base.checklist_results
        if r.answer != "yes" and r.id in questions
    ]
    return {
        "goal": session.user_goal,
        "language": session.language,
        "prompt_language": session.prompt_language,
        "provider": session.image_provider,
        "blocks": blocks,
        "locked": list(session.locked_blocks),
        "base_index": base.index,
        "base_score": base.judge_score,
        "base_pass": base.checklist_pass,
        "base_notes": base.judge_notes,
        "base_strengths": base.judge_strengths,
        "base_weaknesses": base.judge_weaknesses,
        "failed_checks": failed,
        "revised_prompt": base.revised_prompt or "",
        "feedback": session.user_feedback or "",
        "history": history_rows(session.iterations),
        "references": reference_rows(session.references),
    }


def history_rows(iterations: list[Iteration]) -> list[dict[str, Any]]:
    """The attempts so far, as the revise and recommend prompts (and the offline model) see them."""
    return [
        {
            "index": it.index,
            "round": it.round,
            "candidate": it.candidate,
            "based_on": it.based_on,
            "status": it.status,
            "score": it.judge_score,
            "checklist_pass": it.checklist_pass,
            "changed": it.changed_blocks,
            "diff": it.prompt_diff,
            "notes": it.judge_notes,
            "error": it.error.message if it.error else "",
            "pairwise": it.pairwise.result if it.pairwise else "",
            "pairwise_against": it.pairwise.against if it.pairwise else None,
        }
        for it in iterations
    ]
