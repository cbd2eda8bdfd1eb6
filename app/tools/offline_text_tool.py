"""The offline text model: a deterministic, rule-based stand-in for Grok, used when no OpenRouter key is set.

It implements the same `complete(LLMRequest) -> LLMResult` interface as the OpenRouter tool and returns
the same validated output models. It works from `request.context` (the same inputs the Jinja2 prompts
were rendered from) and is honest about being a stand-in: its model id says "offline".

The rules are simple but not arbitrary: the judge scores goal coverage, block specificity, whether the
person's feedback is reflected, and measurable properties of the image; the reviser fixes exactly what
the judge and the person flagged, so a revision raises the score for a reason you can read.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from annotated_types import MaxLen
from PIL import Image, ImageStat
from pydantic import BaseModel, create_model, model_validator
from pydantic.fields import FieldInfo

from app.models.domain_models import FLEX_BLOCKS, Usage
from app.models.llm_models import (
    BlockChange,
    ChecklistAnswerItem,
    ChecklistOutput,
    ChecklistQuestion,
    EditReviseOutput,
    JudgeOutput,
    PairwiseOutput,
    PromptBlocks,
    PromptGenOutput,
    RecommendOutput,
    ReviseOutput,
)
from app.models.provider_models import LLMRequest, LLMResult
from app.settings import Settings
from app.utils.language import detect_language
from app.utils.string_utils import keywords as latin_keywords

_M = TypeVar("_M", bound=BaseModel)
MODEL_ID = "sfumato-offline-rules-1"
PAIRWISE_MARGIN = 3  # score points below which the offline pairwise judge calls a tie
_GENERIC_CHECKS = (
    "Is the main subject clearly readable at first glance?",
    "Is the image free of watermarks and garbled text?",
    "Are proportions and perspective coherent?",
    "Does the style match what the goal asks for?",
)
RICH_WORDS = 10  # a block with fewer words than this is "vague"
FULL_WORDS = 18  # a block this long counts as fully specific
_STYLE_HINTS = {
    "watercolor": "loose watercolor painting, soft pigment blooms on textured paper",
    "oil": "oil painting with visible brushwork and rich impasto",
    "anime": "anime illustration, clean line art, cel shading",
    "pixel": "pixel art, limited palette, crisp pixels",
    "3d": "3D render, physically based materials, subsurface scattering",
    "illustration": "digital illustration, clean shapes, harmonious palette",
    "sketch": "graphite pencil sketch with hatching",
    "poster": "graphic poster design, bold flat shapes, strong typography",
    "noir": "film noir, high-contrast black and white",
    "cyberpunk": "cyberpunk aesthetic, neon accents, rain-slick surfaces",
}
_LIGHT_HINTS = {
    "sunset": "warm low sunset light from the horizon",
    "golden": "golden hour backlight, long soft shadows",
    "night": "night scene lit by moonlight and a few warm practical lights",
    "neon": "saturated neon light, magenta and cyan reflections",
    "studio": "studio softbox key light with a gentle fill",
    "morning": "fresh morning light, low sun, light haze",
    "dark": "low-key lighting, deep shadows, a single soft light source",
}
# Enrichment phrases per block, used in order, skipping any the block already has.
_BANK: dict[str, tuple[str, ...]] = {
    "subject": (
        "rendered with clear, specific detail",
        "the main subject clearly readable at first glance",
    ),
    "style": (
        "cohesive colour palette",
        "fine texture detail",
        "consistent art direction throughout",
    ),
    "composition": (
        "rule-of-thirds placement",
        "clean negative space around the subject",
        "a clear foreground, midground and background",
    ),
    "lighting": (
        "key light from the upper left",
        "soft rim light separating the subject from the background",
        "balanced exposure with detail kept in the shadows",
    ),
    "camera": (
        "eye-level viewpoint",
        "50mm lens, natural perspective",
        "sharp focus on the subject, gentle background falloff",
    ),
    "constraints": (
        "high detail",
        "coherent perspective and proportions",
        "no cropped key elements",
    ),
    "negative_constraints": ("watermark", "text artifacts", "extra limbs", "oversaturated colours"),
}
# Feedback words -> the block that should take the feedback.
_FEEDBACK_ROUTES: tuple[tuple[str, str], ...] = (
    (
        r"\b(dark|darker|bright|brighter|light|lighting|shadow|shadows|sun|glow|warm|warmer|cold|colder|moody)\b",
        "lighting",
    ),
    (
        r"\b(colou?rs?|palette|style|realistic|painterly|cartoon|vibrant|muted|saturated|photo)\b",
        "style",
    ),
    (r"\b(closer|zoom|wider|angle|lens|blur|focus|bokeh|perspective|close-?up)\b", "camera"),
    (
        r"\b(left|right|center|centre|background|foreground|crop|cropped|space|framing|composition|bigger|smaller)\b",
        "composition",
    ),
)
_FILLER = re.compile(
    r"\b(please|can you|could you|i want|i'd like|i would like|make it|make the image|make the picture|"
    r"it should be|should be|it needs to be|needs to be|needs|want|more of|a bit|slightly|much)\b\s*"
)
_NEGATION = re.compile(
    r"\b(?:no|without|remove|less|fewer|avoid|drop)\s+(?:the\s+|any\s+)?([a-z][a-z -]{1,40}?)(?=[,.;!]|\band\b|$)"
)


# Clamps ---------------------------------------------------------------------------------------
# The stand-in writes from the person's own words, and a goal or feedback at its full limit (2,000
# characters, any script) would make a question, a block or a reason longer than the output model
# allows. Every output model it builds is therefore its "fitted" twin, which cuts each string and
# list to the limit of the model it is checked against: one clamp for every output, and the limits
# read from the models themselves (no number written twice).


def _fitted(model: type[_M]) -> type[_M]:
    """`model` with a before-validator that cuts its bounded strings and lists to their limits."""
    limits = {name: _max_length(info) for name, info in model.model_fields.items()}
    bounded = {name: limit for name, limit in limits.items() if limit is not None}

    def fit(cls: type[_M], data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: _cut(v, bounded[k]) if k in bounded else v for k, v in data.items()}

    validator = model_validator(mode="before")(fit)
    # create_model takes the decorator's descriptor, which its stub does not list as a callable
    return create_model(model.__name__, __base__=model, __validators__={"fit": validator})  # type: ignore[dict-item]


def _max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)


def _cut(value: Any, limit: int) -> Any:
    """A string cut at a word boundary with an ellipsis, a list cut to `limit` items."""
    if isinstance(value, str) and len(value) > limit:
        head = value[: limit - 1]
        cut = head.rsplit(" ", 1)[0] if " " in head[limit // 2 :] else head
        return cut.rstrip(" ,;:") + "…"
    if isinstance(value, list) and len(value) > limit:
        return value[:limit]
    return value


# At run time each name is rebound to its fitted subclass; the type checker keeps the model class
# (the fitted one is a subclass, so every use type-checks the same).
if not TYPE_CHECKING:
    BlockChange = _fitted(BlockChange)
    ChecklistAnswerItem = _fitted(ChecklistAnswerItem)
    ChecklistQuestion = _fitted(ChecklistQuestion)
    EditReviseOutput = _fitted(EditReviseOutput)
    JudgeOutput = _fitted(JudgeOutput)
    PairwiseOutput = _fitted(PairwiseOutput)
    PromptBlocks = _fitted(PromptBlocks)
    ReviseOutput = _fitted(ReviseOutput)


class OfflineTextTool:
    """Deterministic prompt writing, revision, judging and recommendations, without a network."""

    name: ClassVar[str] = "offline"

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.delay_s = settings.demo_step_delay_s
        self._roles: dict[str, Callable[[dict[str, Any], LLMRequest], Any]] = {
            "prompt_gen": self._prompt_gen,
            "checklist": self._checklist,
            "revise": self._revise,
            "judge": self._judge,
            "pairwise": self._pairwise,
            "recommend": self._recommend,
        }
        self.models = {role: MODEL_ID for role in self._roles}

    def complete(self, request: LLMRequest) -> LLMResult:
        started = time.perf_counter()
        if self.delay_s:
            time.sleep(self.delay_s / 2)
        ru = _language(request.context) == "ru"
        role = _RU_ROLES.get(request.role) if ru else None
        answer = (
            role(request.context) if role else self._roles[request.role](request.context, request)
        )
        answer = in_russian(answer) if ru else answer
        answer = _REFERENCE_STEPS.get(request.role, _as_is)(answer, request.context)
        data = request.output.model_validate(answer.model_dump())
        latency = int((time.perf_counter() - started) * 1000)
        return LLMResult(data=data, model=MODEL_ID, usage=Usage(), latency_ms=latency)

    def close(self) -> None:
        """Nothing to release."""

    # prompt_gen ---------------------------------------------------------------------------------

    def _prompt_gen(self, ctx: dict[str, Any], _: LLMRequest) -> PromptGenOutput:
        goal = " ".join(str(ctx["goal"]).split())
        low = goal.lower()
        subject = _NEGATION.sub("", goal).strip(" ,.") or goal
        avoid = [m.strip() for m in _NEGATION.findall(low)]
        return _starting_prompt(ctx, subject, _style_of(low), _light_of(low), avoid)

    # revise -------------------------------------------------------------------------------------

    def _revise(self, ctx: dict[str, Any], _: LLMRequest) -> ReviseOutput:
        blocks: dict[str, str] = dict(ctx["blocks"])
        locked = set(ctx.get("locked", []))
        draft = _Draft(blocks, [n for n in FLEX_BLOCKS if n in blocks and n not in locked])
        feedback = str(ctx.get("feedback") or "")
        if feedback:
            apply = apply_feedback_ru if _has_cyrillic(feedback) else self._apply_feedback
            apply(feedback, draft)
        self._add_missing_goal_words(ctx, draft)
        self._fix_failed_checks(ctx, draft)
        _fix_reference_checks(ctx, draft)
        # Each strategy starts its enrichment at a different block and phrase, so K candidates of a
        # round differ; a retry after "changed nothing" moves one step further.
        offset = int(ctx.get("strategy_number", 0)) + (1 if ctx.get("retry_note") else 0)
        weak = self._weak_blocks(ctx, blocks, draft.free)
        weak = weak[offset % len(weak) :] + weak[: offset % len(weak)] if weak else weak
        # Up to three changes; a strategy other than the first always makes one of its own, so the
        # candidates of a round (and a retry) never come out the same.
        own = 1 if offset else 0
        for name in weak:
            if len(draft.changes) >= 3 and own == 0:
                break
            phrase = _next_phrase(name, blocks[name], attempt=len(ctx.get("history", [])) + offset)
            if phrase and name not in draft.changes:
                draft.add(name, phrase, f"made {name} more specific: {phrase}")
                own = 0
        if not draft.changes:
            return self._fallback_change(blocks, draft.free)
        return draft.output()

    @staticmethod
    def _apply_feedback(feedback: str, draft: _Draft) -> None:
        low = feedback.lower()
        avoided = draft.blocks.get("negative_constraints", "").lower()
        removals = [m.strip() for m in _NEGATION.findall(low) if m.strip() not in avoided]
        if removals and "negative_constraints" in draft.free:
            said = ", ".join(removals)
            draft.add("negative_constraints", said, f"added to avoid: {said}")
        wish = " ".join(_FILLER.sub("", _NEGATION.sub("", low)).split()).strip(" ,.;!")
        prompt_words = set(keywords(" ".join(draft.blocks.values())))
        if not wish or not _unreflected_feedback(wish, prompt_words):
            return
        route = next((b for pattern, b in _FEEDBACK_ROUTES if re.search(pattern, wish)), "subject")
        chosen = _writable(draft.free, route)
        if chosen:
            draft.add(chosen, wish, f"{chosen} now reflects the feedback: '{wish}'")

    @staticmethod
    def _add_missing_goal_words(ctx: dict[str, Any], draft: _Draft) -> None:
        prompt_words = set(keywords(" ".join(draft.blocks.values())))
        wanted = _NEGATION.sub("", str(ctx["goal"]).lower())  # "no people" is not a detail to add
        missing = ", ".join([w for w in keywords(wanted) if w not in prompt_words][:4])
        target = _writable(draft.free)
        if missing and target and target not in draft.changes:
            reason = f"brought back goal details missing from the prompt: {missing}"
            draft.add(target, f"with {missing}", reason)

    @staticmethod
    def _fix_failed_checks(ctx: dict[str, Any], draft: _Draft) -> None:
        """Acts on failed checklist questions: what must be absent goes to the negative
        constraints; what must be shown, in words the person used (goal or feedback), goes into the
        subject (or the first free block). Generic quality questions give no words to add."""
        words, absent = _failed_words(ctx, draft.blocks)
        if absent and draft.open("negative_constraints"):
            said = ", ".join(absent)
            draft.add("negative_constraints", said, f"kept out what must be absent: {said}")
        target = _writable(draft.free)
        if words and target and target not in draft.changes:
            shown = ", ".join(words)
            draft.add(
                target, f"showing {shown}", f"spelled out what the checklist found missing: {shown}"
            )

    @staticmethod
    def _weak_blocks(ctx: dict[str, Any], blocks: dict[str, str], free: list[str]) -> list[str]:
        flagged = [w.split(":", 1)[0].strip() for w in ctx.get("base_weaknesses", [])]
        by_size = sorted(free, key=lambda n: len(blocks[n].split()))
        return list(dict.fromkeys([n for n in flagged if n in free] + by_size))

    @staticmethod
    def _fallback_change(blocks: dict[str, str], free: list[str]) -> ReviseOutput:
        name = _writable(free) or (free[0] if free else "subject")
        text = _append(blocks.get(name, ""), "refined for clarity", name)
        return ReviseOutput(
            changes=[BlockChange(block=name, text=text, reason="small refinement")],
            summary=f"small refinement of {name}",
        )

    # judge --------------------------------------------------------------------------------------

    def _judge(self, ctx: dict[str, Any], request: LLMRequest) -> JudgeOutput:
        blocks: dict[str, str] = ctx.get("blocks", {})
        prompt_words = set(keywords(str(ctx.get("prompt", ""))))
        goal_words = keywords(_without_negations(str(ctx["goal"])))  # "no people": not a detail
        missing = [w for w in goal_words if w not in prompt_words]
        coverage = 1 - len(missing) / len(goal_words) if goal_words else 1.0
        vague = [n for n in FLEX_BLOCKS if n in blocks and len(blocks[n].split()) < RICH_WORDS]
        richness = sum(
            min(1.0, len(blocks.get(n, "").split()) / FULL_WORDS) for n in FLEX_BLOCKS
        ) / len(FLEX_BLOCKS)
        fb_missing = _unreflected_feedback(str(ctx.get("feedback") or ""), prompt_words)
        image_points, image_notes = _image_checks(request, ctx)
        answers = [_answer(item, prompt_words, blocks) for item in ctx.get("checklist", [])]
        credit = {"yes": 1.0, "unsure": 0.5, "no": 0.0}
        passed = sum(credit[a.answer] for a in answers) / len(answers) if answers else 1.0
        score = round(
            25 * coverage
            + 40 * richness
            + 15 * passed * (1 - min(1.0, len(fb_missing) / 3))
            + image_points
        )
        failed = [a for a in answers if a.answer == "no"]
        weaknesses = _weaknesses(fb_missing, missing, failed, image_notes, blocks, vague)
        strengths = _strengths(coverage, blocks, vague, fb_missing)
        notes = _judge_notes(score, missing, vague, fb_missing, image_notes)
        return JudgeOutput(
            checklist=answers,
            score=max(0, min(100, score)),
            notes=notes,
            strengths=strengths[:5],
            weaknesses=weaknesses[:5],
        )

    # checklist ----------------------------------------------------------------------------------

    def _checklist(self, ctx: dict[str, Any], _: LLMRequest) -> ChecklistOutput:
        """Questions from the goal's clauses, one per feedback point, and generic checks to reach 4."""
        goal = " ".join(str(ctx["goal"]).split())
        kept = _kept_goal_questions(ctx)
        questions = kept or [
            ChecklistQuestion(question=_question_for(clause), source="goal")
            for clause in _clauses(_NEGATION.sub("", goal))
        ]
        questions += [
            ChecklistQuestion(question=f"Is the image free of {thing}?", source="goal")
            for thing in (m.strip() for m in _NEGATION.findall(goal.lower()))
            if not kept
        ]
        feedback = str(ctx.get("feedback") or "")
        for point in _clauses(feedback):
            removed = _removed_any(point)  # "no boats", or Russian "без лодок"
            question = (
                f"Is the image free of {removed[0]}?"
                if removed
                else f"Does the image reflect the request: {point}?"
            )
            questions.append(ChecklistQuestion(question=question, source="feedback"))
        return _finished_checklist(questions, _GENERIC_CHECKS)

    # pairwise -----------------------------------------------------------------------------------

    def _pairwise(self, ctx: dict[str, Any], request: LLMRequest) -> PairwiseOutput:
        """Prefers the image whose own judgement is clearly better; close calls are ties.

        It judges each image exactly as the judge role does, so the answer does not depend on the
        order the images come in: both orders agree, as a careful judge's should.
        """
        marks = []
        for side in ("first", "second"):
            judged_ctx = {**ctx, "prompt": ctx[f"{side}_prompt"], "blocks": ctx[f"{side}_blocks"]}
            image = request.images[-2 if side == "first" else -1]  # after any references
            alone = {**_request_fields(request), "images": [image], "image_labels": []}
            verdict = self._judge(judged_ctx, LLMRequest(**alone))
            passed = sum(a.answer == "yes" for a in verdict.checklist)
            marks.append((passed, verdict.score))
        (pass1, score1), (pass2, score2) = marks
        if pass1 != pass2:
            better = "first" if pass1 > pass2 else "second"
            return PairwiseOutput(
                preferred=better, reason=f"the {better} image passes more checklist items"
            )
        if abs(score1 - score2) >= PAIRWISE_MARGIN:
            better = "first" if score1 > score2 else "second"
            return PairwiseOutput(
                preferred=better,
                reason=f"the {better} image covers the goal with more specific detail",
            )
        return PairwiseOutput(preferred="tie", reason="no difference that matters")

    # recommend ----------------------------------------------------------------------------------

    def _recommend(self, ctx: dict[str, Any], _: LLMRequest) -> RecommendOutput:
        """What won, what lost and what raised the score, the best to start from, then standing
        advice: at most 7, each once."""
        history: list[dict[str, Any]] = ctx.get("history", [])
        scored = [h for h in history if h.get("status") == "ok" and h.get("score") is not None]
        by_index = {h["index"]: h for h in scored}
        outcomes: dict[str, list[str]] = {"win": [], "loss": [], "raised": []}
        for cur in scored:
            base = by_index.get(cur.get("based_on"))
            outcome = _outcome_tip(cur, base) if base is not None else None
            if outcome:
                outcomes[outcome[0]].append(outcome[1])
        tips = outcomes["win"] + outcomes["loss"][:2] + outcomes["raised"][:1]
        best = by_index.get(ctx.get("best_index")) or max(
            scored, key=lambda h: h["score"], default=None
        )
        tips += _standing_tips(ctx, history, best)
        return RecommendOutput(recommendations=list(dict.fromkeys(tips))[:7])


def _outcome_tip(cur: dict[str, Any], base: dict[str, Any]) -> tuple[str, str] | None:
    """What one revision's outcome against its base teaches: ("win" | "loss" | "raised", tip)."""
    changed = ", ".join(cur.get("changed") or []) or "the prompt"
    delta = cur["score"] - base["score"]
    outcome = cur.get("pairwise")
    scores = f"(score {base['score']} -> {cur['score']})"
    if outcome == "win":
        return "win", (
            f"Changing {changed} in iteration {cur['index']} won the side-by-side comparison "
            f"with iteration {base['index']} {scores}: keep that wording."
        )
    if outcome == "loss" or (not outcome and delta < 0):
        return "loss", (
            f"Changing {changed} in iteration {cur['index']} made it worse than iteration "
            f"{base['index']} {scores}: avoid that direction."
        )
    if delta > 0 and not outcome:
        return "raised", (
            f"Changing {changed} in iteration {cur['index']} raised the score by {delta} "
            f"(to {cur['score']})."
        )
    return None


def _standing_tips(
    ctx: dict[str, Any], history: list[dict[str, Any]], best: dict[str, Any] | None
) -> list[str]:
    """The best prompt to start from, locks and provider failures, then general advice."""
    tips = []
    if best:
        tips.append(
            f"Start from iteration {best['index']}'s prompt (score {best['score']}): it is the best one found."
        )
    if ctx.get("locked"):
        tips.append(
            f"Locked blocks ({', '.join(ctx['locked'])}) stayed fixed: lock what already works to focus revisions."
        )
    if any(
        h.get("status") == "failed" and "changed nothing" not in str(h.get("error"))
        for h in history
    ):
        tips.append("Some iterations failed at the provider: check their errors before rerunning.")
    return [*tips, *_GENERAL_TIPS]


_GENERAL_TIPS = (
    "Name concrete light sources, directions and colours instead of mood words.",
    "Keep the subject block first and concrete: nouns, counts and relations the image must show.",
    "Put must-not-appear items in negative constraints rather than the subject.",
)


def _kept_goal_questions(ctx: dict[str, Any]) -> list[ChecklistQuestion]:
    """The current checklist's goal questions, kept when only the feedback changed."""
    return [
        ChecklistQuestion(question=item["question"], source="goal")
        for item in ctx.get("current", [])
        if item.get("source") == "goal"
    ]


def _finished_checklist(
    questions: list[ChecklistQuestion], generics: tuple[str, ...]
) -> ChecklistOutput:
    """Generic checks added until there are 4 distinct questions, duplicates dropped, at most 6
    feedback questions and 12 in all (goal questions make room)."""
    for generic in generics:
        if len({q.question.lower() for q in questions}) >= 4:  # as many once deduplicated
            break
        questions.append(ChecklistQuestion(question=generic, source="goal"))
    unique = list({q.question.lower(): q for q in questions}.values())
    goal_items = [q for q in unique if q.source == "goal"]
    feedback_items = [q for q in unique if q.source == "feedback"][:6]
    return ChecklistOutput(questions=(goal_items[: 12 - len(feedback_items)] + feedback_items))


def _failed_words(ctx: dict[str, Any], blocks: dict[str, str]) -> tuple[list[str], list[str]]:
    """From the failed checklist questions, in words the person used (goal or feedback): what
    the prompt must show and does not say yet, and what must be absent and is not avoided yet
    (at most 4 each)."""
    prompt_words = set(keywords(" ".join(blocks.values())))
    asked = set(keywords(f"{ctx.get('goal', '')} {ctx.get('feedback', '')}"))
    avoided = set(keywords(blocks.get("negative_constraints", "")))
    words: list[str] = []
    absent: list[str] = []
    for item in ctx.get("failed_checks", []):
        question = item["question"]
        if _is_generic(question) or _ru_rule_wish(question):
            continue  # a Russian wish a rule knows is written in its English wording
        found = [w for w in _question_words(question) if w in asked]
        if _is_absence(question):
            absent += [w for w in found if w not in avoided]
        else:
            words += [w for w in found if w not in prompt_words]
    return list(dict.fromkeys(words))[:4], list(dict.fromkeys(absent))[:4]


def _weaknesses(
    fb_missing: list[str],
    missing: list[str],
    failed: list[ChecklistAnswerItem],
    image_notes: list[str],
    blocks: dict[str, str],
    vague: list[str],
) -> list[str]:
    """The judge's weaknesses, most important first: feedback, goal details, a failed check,
    what the image checks found, vague blocks."""
    out = [f"subject: feedback not reflected yet: {', '.join(fb_missing)}"] if fb_missing else []
    if missing:
        out.append(f"subject: goal details missing: {', '.join(missing[:5])}")
    if failed:
        out.append(f"subject: checklist {failed[0].id} fails ({failed[0].note})")
    vagueness = [
        f"{n}: vague ({len(blocks[n].split())} words), name concrete details" for n in vague
    ]
    return [*out, *image_notes, *vagueness]


def _append(text: str, phrase: str, name: str) -> str:
    text = text.strip().rstrip(".")
    if not text:
        return phrase
    return (
        f"{text}, {phrase}"
        if name != "negative_constraints" or not text.endswith(",")
        else f"{text} {phrase}"
    )


def _next_phrase(name: str, text: str, attempt: int) -> str | None:
    """The next enrichment for a block, leaving out any part of it the block already says."""
    low = text.lower()
    options = [
        ", ".join(part for part in phrase.split(", ") if part.lower() not in low)
        for phrase in _BANK.get(name, ())
    ]
    options = [o for o in options if o]
    return options[attempt % len(options)] if options else None


def _unreflected_feedback(feedback: str, prompt_words: set[str]) -> list[str]:
    if _has_cyrillic(feedback):
        return _unreflected_feedback_ru(feedback, prompt_words)
    wish = _NEGATION.sub("", feedback.lower())
    return [w for w in keywords(wish) if w not in prompt_words][:5]


def _image_checks(request: LLMRequest, ctx: dict[str, Any]) -> tuple[float, list[str]]:
    """Up to 20 points for what can be measured: it decodes, is not blank, has the asked shape and mood."""
    if not request.images:
        return 0.0, ["image: no image to judge"]
    try:  # the judged image comes last: reference images (issue 19) are attached before it
        image = Image.open(io.BytesIO(request.images[-1].data))
        image.load()
    except (OSError, ValueError):
        return 0.0, ["image: the file does not decode"]
    points, notes = 5.0, []
    stat = ImageStat.Stat(image.convert("L"))
    if stat.stddev[0] > 8:
        points += 5
    else:
        notes.append("image: nearly blank, almost no contrast")
    if _shape_matches(image.size, str(ctx.get("aspect_ratio") or "")):
        points += 5
    else:
        notes.append(
            f"constraints: image shape {image.width}x{image.height} does not match the aspect ratio"
        )
    if _brightness_fits(stat.mean[0], str(ctx.get("goal", "")) + " " + str(ctx.get("prompt", ""))):
        points += 5
    else:
        notes.append("lighting: overall brightness does not match the mood asked for")
    return points, notes


def _shape_matches(size: tuple[int, int], aspect: str) -> bool:
    try:
        w, h = (float(x) for x in aspect.split(":"))
    except ValueError:
        return True  # no fixed ratio asked
    return abs(size[0] / size[1] - w / h) <= 0.03 * (w / h)


def _brightness_fits(mean: float, text: str) -> bool:
    low = text.lower()
    if re.search(r"\b(night|dark|moody|noir|midnight|low-key)\b", low):
        return mean < 140
    if re.search(r"\b(bright|sunny|daylight|high-key|airy)\b", low):
        return mean > 80
    return True


def _strengths(
    coverage: float, blocks: dict[str, str], vague: list[str], fb_missing: list[str]
) -> list[str]:
    out = []
    if coverage >= 0.99:
        out.append("subject: every detail of the goal is in the prompt")
    out += [f"{n}: specific and concrete" for n in FLEX_BLOCKS if n in blocks and n not in vague][
        :3
    ]
    if not fb_missing:
        out.append("feedback: reflected")
    return out


def _judge_notes(
    score: int, missing: list[str], vague: list[str], fb: list[str], image: list[str]
) -> str:
    if fb:
        return f"Feedback not reflected yet ({', '.join(fb[:3])}); score {score}."
    if missing:
        return f"Missing goal details: {', '.join(missing[:3])}."
    if vague:
        return f"Goal covered; {', '.join(vague[:3])} still vague."
    if image:
        return image[0].split(": ", 1)[-1].capitalize() + "."
    return "Covers the goal with specific blocks; the image checks pass."


def _request_fields(request: LLMRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in LLMRequest.model_fields}


def _clauses(text: str) -> list[str]:
    """The parts of a goal or feedback worth one question each (split on commas, 'and', 'with')."""
    parts = re.split(r"[,;.!?]|\band\b|\bwith\b|\bwhile\b", text)
    return [p.strip(" -") for p in parts if len(keywords(p)) >= 1 and len(p.strip()) > 2][:8]


def _question_for(clause: str) -> str:
    return f"Does the image show {clause.rstrip(' .')}?"


def _question_words(question: str) -> list[str]:
    generic = {"image", "show", "free", "does", "reflect", "request", "clearly"}
    return [w for w in keywords(question) if w not in generic]


def _answer(
    item: dict[str, Any], prompt_words: set[str], blocks: dict[str, str]
) -> ChecklistAnswerItem:
    """Yes when the prompt carries every word of the question, unsure for most, else no.

    The offline judge cannot see beyond the words: something that must be absent ("free of X")
    passes when the negative constraints name it, and is unsure otherwise.
    """
    if item.get("reference"):
        return ChecklistAnswerItem(
            id=item["id"], answer="unsure", note="the offline judge cannot compare with a reference"
        )
    if _has_cyrillic(item["question"]):
        return _answer_ru(item, prompt_words, blocks)
    words = _question_words(item["question"])
    if not words or item["question"] in _GENERIC_CHECKS:
        return ChecklistAnswerItem(
            id=item["id"], answer="unsure", note="the offline judge cannot see this"
        )
    if "free of" in item["question"].lower():
        avoided = set(keywords(blocks.get("negative_constraints", "")))
        if all(w in avoided for w in words):
            return ChecklistAnswerItem(id=item["id"], answer="yes", note="kept out by the prompt")
        return ChecklistAnswerItem(id=item["id"], answer="unsure", note="not ruled out")
    found = [w for w in words if w in prompt_words]
    share = len(found) / len(words)
    if share >= 0.99:
        return ChecklistAnswerItem(id=item["id"], answer="yes", note="in the prompt")
    missing = ", ".join(w for w in words if w not in prompt_words)[:120]
    answer = "unsure" if share >= 0.5 else "no"
    return ChecklistAnswerItem(id=item["id"], answer=answer, note=f"not shown: {missing}")


# Russian ----------------------------------------------------------------------------------------
# A Russian goal gets Russian checklist questions, notes, reasons and recommendations; the prompt
# blocks stay English (the image provider's language) where a rule knows the English wording, and
# keep the person's own words where none does (the stand-in cannot translate). Rules match word
# stems (prefixes), so "ночь", "ночной" and "ночью" all read as night.

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_RU_WORD = re.compile(r"[а-яё][а-яё-]{2,}")
_RU_STOP_TEXT = (
    "без нет над под для или это как так что чтобы где когда при про его она они оно их все всё "
    "весь вся очень еще ещё уже тоже также только нужно надо должен должна должно должны быть "
    "будет есть был была было были сделай сделайте пусть хочу хочется можно пожалуйста немного "
    "чуть более менее больше меньше изображение изображении изображения картинка картинке "
    "видно ли учтено пожелание ровно который которая которое которые этот эта эти"
)
_RU_STOPWORDS = frozenset(_RU_STOP_TEXT.split())
_RU_GENERIC_CHECKS = (
    "Главный объект легко читается с первого взгляда?",
    "Изображение без водяных знаков и искажённого текста?",
    "Пропорции и перспектива правдоподобны?",
    "Стиль соответствует тому, что просит цель?",
)
_RU_NEGATION = re.compile(
    r"(?:^|(?<=[\s,;.!?]))(?:без|нет|никаких|убери(?:те)?|не\s+надо|не\s+нужно|избегай(?:те)?)"
    r"\s+([а-яё][а-яё -]{1,40}?)(?=[,.;:!?]|\s+и\s|$)",
    re.IGNORECASE,
)
_RU_CLAUSE_SPLIT = re.compile(r"[,;.!?]|\s(?:и|а также|с|со|пока)\s")
_QUOTED = re.compile(r"«([^»]{1,60})»|\"([^\"]{1,60})\"|“([^”]{1,60})”")
# Stem pattern -> English wording for the prompt, per block; the first match wins.
_RU_STYLE = (
    (r"акварел", "watercolor"),
    (r"масл|маслом", "oil"),
    (r"аниме", "anime"),
    (r"пиксел", "pixel"),
    (r"3d|трехмерн|трёхмерн", "3d"),
    (r"иллюстрац", "illustration"),
    (r"эскиз|набросок|карандаш", "sketch"),
    (r"постер|плакат", "poster"),
    (r"нуар", "noir"),
    (r"киберпанк", "cyberpunk"),
)
_RU_LIGHT = (
    (r"закат", "warm low sunset light from the horizon"),
    (r"рассвет", "soft dawn light, low sun, pink and gold sky"),
    (r"полноч|ноч|лун", _LIGHT_HINTS["night"]),
    (r"золот", _LIGHT_HINTS["golden"]),
    (r"неон", _LIGHT_HINTS["neon"]),
    (r"студи", _LIGHT_HINTS["studio"]),
    (r"утр|утрен", _LIGHT_HINTS["morning"]),
    (r"вечер|сумер", "blue-hour dusk light, the last glow on the horizon"),
    (r"темн|тёмн|мрачн", _LIGHT_HINTS["dark"]),
    (r"тепл|тёпл", "warm golden light, soft and low"),
)
# Feedback, per block: stem pattern -> English wording to add; the first match wins, in order.
_RU_FEEDBACK_BY_BLOCK: dict[str, dict[str, str]] = {
    "lighting": {
        r"контраст": "stronger contrast, deep shadows and bright highlights",
        r"тепл|тёпл": "warm golden light, soft and low",
        r"холодн|прохладн": "cool blue light",
        r"полноч|ноч|лун": _LIGHT_HINTS["night"],
        r"закат": "warm low sunset light from the horizon",
        r"рассвет": "soft dawn light, low sun, pink and gold sky",
        r"утр": _LIGHT_HINTS["morning"],
        r"ярч|светлее|светл": "brighter exposure, open shadows",
        r"темнее|темн|тёмн|мрачн": "darker low-key lighting, deep shadows",
    },
    "style": {
        r"насыщ|сочн": "richer, more saturated colours",
        r"приглуш|пастел": "muted, soft pastel colours",
        r"реалист|фотореал": "photorealistic, natural detail",
        r"акварел": _STYLE_HINTS["watercolor"],
    },
    "camera": {
        r"ближе|крупн": "close-up framing, the subject fills the frame",
        r"шире|дальше|общий план": "wide shot, more of the surroundings",
        r"размыт|боке": "shallow depth of field, soft background blur",
    },
    "composition": {
        r"слева|левее": "the subject placed on the left third",
        r"справа|правее": "the subject placed on the right third",
        r"центр": "the subject centred",
    },
}
# The same rules flat, in order: (stem pattern, block, wording).
_RU_FEEDBACK_RULES: tuple[tuple[str, str, str], ...] = tuple(
    (pattern, block, wording)
    for block, rules in _RU_FEEDBACK_BY_BLOCK.items()
    for pattern, wording in rules.items()
)
# Output messages (the English rules' wording) -> Russian; groups are translated too.
_RU_MESSAGES: tuple[tuple[str, str], ...] = (
    (
        r"Feedback not reflected yet \((.+)\); score (\d+)\.",
        "Пожелание ещё не учтено ({0}); оценка {1}.",
    ),
    (r"Missing goal details: (.+)\.", "Не хватает деталей цели: {0}."),
    (r"Goal covered; (.+) still vague\.", "Цель передана; ещё расплывчато: {0}."),
    (
        r"Covers the goal with specific blocks; the image checks pass\.",
        "Цель передана конкретными блоками; проверки изображения пройдены.",
    ),
    (r"(\w+): feedback not reflected yet: (.+)", "{0}: пожелание ещё не учтено: {1}"),
    (r"(\w+): goal details missing: (.+)", "{0}: не хватает деталей цели: {1}"),
    (r"(\w+): checklist (q\d+) fails \((.+)\)", "{0}: пункт {1} не выполнен ({2})"),
    (r"(\w+): every detail of the goal is in the prompt", "{0}: все детали цели есть в промпте"),
    (r"(\w+): specific and concrete", "{0}: конкретно и ясно"),
    (r"feedback: reflected", "feedback: пожелание учтено"),
    (
        r"(\w+): vague \((\d+) words\), name concrete details",
        "{0}: расплывчато (слов: {1}), назовите конкретные детали",
    ),
    (r"image: no image to judge", "image: нет изображения для оценки"),
    (r"image: the file does not decode", "image: файл не открывается"),
    (r"image: nearly blank, almost no contrast", "image: почти пустое, контраста почти нет"),
    (r"Nearly blank, almost no contrast\.", "Почти пустое изображение, контраста почти нет."),
    (
        r"constraints: image shape (\d+x\d+) does not match the aspect ratio",
        "constraints: размер {0} не совпадает с соотношением сторон",
    ),
    (
        r"Image shape (\d+x\d+) does not match the aspect ratio\.",
        "Размер {0} не совпадает с соотношением сторон.",
    ),
    (
        r"lighting: overall brightness does not match the mood asked for",
        "lighting: общая яркость не соответствует заданному настроению",
    ),
    (
        r"Overall brightness does not match the mood asked for\.",
        "Общая яркость не соответствует заданному настроению.",
    ),
    (r"No image to judge\.", "Нет изображения для оценки."),
    (r"The file does not decode\.", "Файл изображения не открывается."),
    (r"the offline judge cannot see this", "офлайн-судья этого не видит"),
    (
        r"the offline judge cannot compare with a reference",
        "офлайн-судья не умеет сравнивать с референсом",
    ),
    (r"asked to match (.+) closely", "уточнено соответствие референсам: {0}"),
    (r"kept out by the prompt", "исключено промптом"),
    (r"not ruled out", "не исключено"),
    (r"in the prompt", "есть в промпте"),
    (r"not shown: (.+)", "не показано: {0}"),
    (r"made (\w+) more specific: (.+)", "блок {0} стал конкретнее: {1}"),
    (r"added to avoid: (.+)", "добавлено в «избегать»: {0}"),
    (r"(\w+) now reflects the feedback: '(.+)'", "блок {0} теперь учитывает пожелание: «{1}»"),
    (
        r"brought back goal details missing from the prompt: (.+)",
        "возвращены детали цели, которых не было в промпте: {0}",
    ),
    (r"kept out what must be absent: (.+)", "исключено то, чего не должно быть: {0}"),
    (
        r"spelled out what the checklist found missing: (.+)",
        "прописано то, чего не хватало по чек-листу: {0}",
    ),
    (r"small refinement of (\w+)", "небольшое уточнение блока {0}"),
    (r"small refinement", "небольшое уточнение"),
    (
        r"the (first|second) image passes more checklist items",
        "{0} изображение проходит больше пунктов чек-листа",
    ),
    (
        r"the (first|second) image covers the goal with more specific detail",
        "{0} изображение передаёт цель точнее и конкретнее",
    ),
    (r"first", "первое"),
    (r"second", "второе"),
    (r"no difference that matters", "существенной разницы нет"),
    (
        r"Changing (.+) in iteration (\d+) won the side-by-side comparison with iteration (\d+) "
        r"\(score (\d+) -> (\d+)\): keep that wording\.",
        "Изменение {0} в #{1} выиграло прямое сравнение с #{2} (оценка {3} → {4}): "
        "сохраните эту формулировку.",
    ),
    (
        r"Changing (.+) in iteration (\d+) made it worse than iteration (\d+) "
        r"\(score (\d+) -> (\d+)\): avoid that direction\.",
        "Изменение {0} в #{1} сделало хуже, чем в #{2} (оценка {3} → {4}): не идите в эту "
        "сторону.",
    ),
    (
        r"Changing (.+) in iteration (\d+) raised the score by (\d+) \(to (\d+)\)\.",
        "Изменение {0} в #{1} подняло оценку на {2} (до {3}).",
    ),
    (
        r"Start from iteration (\d+)'s prompt \(score (\d+)\): it is the best one found\.",
        "Начинайте с промпта #{0} (оценка {1}): он лучший из найденных.",
    ),
    (
        r"Locked blocks \((.+)\) stayed fixed: lock what already works to focus revisions\.",
        "Закреплённые блоки ({0}) не менялись: закрепляйте то, что уже работает, чтобы правки "
        "шли по делу.",
    ),
    (
        r"Some iterations failed at the provider: check their errors before rerunning\.",
        "Некоторые итерации не удались у провайдера: проверьте их ошибки перед повтором.",
    ),
    (
        r"Name concrete light sources, directions and colours instead of mood words\.",
        "Называйте конкретные источники света, направления и цвета вместо слов о настроении.",
    ),
    (
        r"Keep the subject block first and concrete: nouns, counts and relations the image must "
        r"show\.",
        "Держите блок subject первым и конкретным: предметы, количества и связи, которые должны "
        "быть на изображении.",
    ),
    (
        r"Put must-not-appear items in negative constraints rather than the subject\.",
        "То, чего не должно быть, пишите в negative_constraints, а не в subject.",
    ),
)
_RU_COMPILED = tuple((re.compile(p), t) for p, t in _RU_MESSAGES)


def keywords(text: str) -> list[str]:
    """Distinct meaningful words: the English rules' words plus Russian words (lower case, "ё" as
    "е"), so goal coverage, checklist answers and feedback checks work for a Russian goal too."""
    russian = [
        w.strip("-")
        for w in _RU_WORD.findall(text.lower().replace("ё", "е"))
        if w not in _RU_STOPWORDS
    ]
    return list(dict.fromkeys([*latin_keywords(text), *(w for w in russian if w)]))


def _language(ctx: dict[str, Any]) -> str:
    return str(ctx.get("language") or detect_language(str(ctx.get("goal", ""))))


def _style_of(low: str) -> str:
    return next(
        (v for k, v in _STYLE_HINTS.items() if k in low),
        "cinematic photograph, natural colour grading",
    )


def _light_of(low: str) -> str:
    return next((v for k, v in _LIGHT_HINTS.items() if k in low), "soft diffused daylight")


def _starting_prompt(
    ctx: dict[str, Any], subject: str, style: str, light: str, avoid: list[str]
) -> PromptGenOutput:
    """The stand-in's starting prompt in either language: the goal's subject, style and light, a
    plain composition and camera, the chosen ratio, and what to avoid."""
    aspect = ctx.get("image_params", {}).get("aspect_ratio", "the chosen")
    negatives = ["blurry", "low resolution", "watermark", *avoid]
    blocks = PromptBlocks(
        subject=subject,
        style=style,
        composition="the subject as the clear focal point, uncluttered background",
        lighting=light,
        camera="eye-level view, sharp focus on the subject",
        constraints=f"framed for a {aspect} aspect ratio",
        negative_constraints=", ".join(dict.fromkeys(negatives)),
    )
    return PromptGenOutput(blocks=blocks)


@dataclass
class _Draft:
    """A revision the stand-in is writing: the blocks as they were, the ones the person left free
    (not locked), and the changes so far (block -> its new text, its reasons)."""

    blocks: dict[str, str]
    free: list[str]
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def open(self, name: str) -> bool:
        """Whether a rule may still change block `name`: it is free and not changed yet."""
        return name in self.free and name not in self.changes

    def add(self, name: str, phrase: str, reason: str) -> None:
        """Appends `phrase` to this draft's text of block `name`, with the reason for it."""
        text, reasons = self.changes.get(name, (self.blocks[name], ""))
        joined = "; ".join(filter(None, [reasons, reason]))
        self.changes[name] = (_append(text, phrase, name), joined)

    def output(self) -> ReviseOutput:
        changes = self.changes.items()
        return ReviseOutput(
            changes=[BlockChange(block=n, text=t, reason=r) for n, (t, r) in changes],
            summary="; ".join(r for _, (_, r) in changes),
        )


def _writable(free: list[str], preferred: str = "subject") -> str | None:
    """The block a change goes into: `preferred` when the person left it free, else the first free
    block other than the negative constraints (None when there is none)."""
    if preferred in free:
        return preferred
    return next((b for b in free if b != "negative_constraints"), None)


def _has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def _is_absence(question: str) -> bool:
    """A check that something must be absent ("Is the image free of X?", "На изображении нет X?")."""
    low = question.lower()
    return "free of" in low or bool(re.search(r"(?:^|\s)нет\s", low))


def _is_generic(question: str) -> bool:
    return question in _GENERIC_CHECKS or question in _RU_GENERIC_CHECKS


def _starts_a_word(stems: str, text: str) -> bool:
    """Whether a word of the text starts with one of the stems ("лун" in "лунный", not "валун")."""
    return re.search(rf"\b(?:{stems})", text) is not None


def _first_rule(text: str, rules: tuple[tuple[str, str], ...], default: str) -> str:
    low = text.lower()
    return next((value for pattern, value in rules if _starts_a_word(pattern, low)), default)


def _lower_first(text: str) -> str:
    """ "Две лисы" -> "две лисы" inside a question; "СЕВЕР" and names stay as written."""
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _ru_clauses(text: str) -> list[str]:
    parts = _RU_CLAUSE_SPLIT.split(f" {text} ")
    return [p.strip(" -") for p in parts if keywords(p) and len(p.strip()) > 2][:8]


def _ru_removed(text: str) -> list[str]:
    """What the person asks to leave out ("без людей" -> "людей"), in their own words."""
    return [m.strip() for m in _RU_NEGATION.findall(text.lower())]


def _removed_any(text: str) -> list[str]:
    """What to leave out, said in Russian or English (a Russian reader may write either)."""
    return [*_ru_removed(text), *(m.strip() for m in _NEGATION.findall(text.lower()))]


def _without_negations(text: str) -> str:
    return _NEGATION.sub("", _RU_NEGATION.sub("", text.lower()))


def _ru_rule_wish(question: str) -> bool:
    return _has_cyrillic(question) and _ru_rule_for(question.split(":", 1)[-1]) is not None


def _ru_rule_for(clause: str) -> tuple[str, str] | None:
    low = clause.lower()
    rules = _RU_FEEDBACK_RULES
    return next(((b, p) for pattern, b, p in rules if _starts_a_word(pattern, low)), None)


def _ru_missing(clause: str, prompt_words: set[str]) -> list[str]:
    """Why a Russian wish is not in the prompt yet: a rule's English wording is absent, or (with no
    rule) the person's own words are."""
    rule = _ru_rule_for(clause)
    if rule:
        return [] if set(keywords(rule[1])) <= prompt_words else [clause.strip()]
    return [w for w in keywords(clause) if w not in prompt_words]


def _unreflected_feedback_ru(feedback: str, prompt_words: set[str]) -> list[str]:
    wish = _RU_NEGATION.sub("", feedback.lower())
    missing = [m for clause in _ru_clauses(wish) for m in _ru_missing(clause, prompt_words)]
    return list(dict.fromkeys(missing))[:5]


def _answer_ru(
    item: dict[str, Any], prompt_words: set[str], blocks: dict[str, str]
) -> ChecklistAnswerItem:
    """The English rules' answer, for a Russian question: absence through the negative
    constraints, a wish through its rule's English wording, anything else word by word."""
    question = item["question"]
    quoted = ["".join(m) for m in _QUOTED.findall(question)]
    clause = " ".join(quoted) if quoted else question.split(":", 1)[-1].strip(" ?")
    words = keywords(clause)
    if not words or _is_generic(question):
        return ChecklistAnswerItem(
            id=item["id"], answer="unsure", note="офлайн-судья этого не видит"
        )
    if _is_absence(question):
        avoided = set(keywords(blocks.get("negative_constraints", "")))
        if all(w in avoided for w in words):
            return ChecklistAnswerItem(id=item["id"], answer="yes", note="исключено промптом")
        return ChecklistAnswerItem(id=item["id"], answer="unsure", note="не исключено")
    missing = _ru_missing(clause, prompt_words)
    if not missing:
        return ChecklistAnswerItem(id=item["id"], answer="yes", note="есть в промпте")
    share = 1 - len(missing) / len(words)
    answer = "unsure" if share >= 0.5 else "no"
    return ChecklistAnswerItem(
        id=item["id"], answer=answer, note=f"не показано: {', '.join(missing)}"[:200]
    )


def _to_russian(text: str) -> str:
    """One output message in Russian (the whole message must match a known one; else as is)."""
    for pattern, template in _RU_COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return template.format(*(_to_russian(g) if g else "" for g in match.groups()))
    if "; " in text:
        return "; ".join(_to_russian(part) for part in text.split("; "))
    return text


def in_russian(answer: Any) -> Any:
    """The answer with every text the person reads in Russian; prompt blocks are left alone.

    Rebuilt through the fitted models (never `model_copy`, which skips validation): a Russian
    text is longer than its English one, and must still fit the model's limits."""
    if isinstance(answer, JudgeOutput):
        checklist = [
            ChecklistAnswerItem(**{**a.model_dump(), "note": _to_russian(a.note)})
            for a in answer.checklist
        ]
        return JudgeOutput(
            **{
                **answer.model_dump(),
                "checklist": checklist,
                "notes": _to_russian(answer.notes),
                "strengths": [_to_russian(s) for s in answer.strengths],
                "weaknesses": [_to_russian(w) for w in answer.weaknesses],
            }
        )
    if isinstance(answer, ReviseOutput):
        changes = [
            BlockChange(**{**c.model_dump(), "reason": _to_russian(c.reason)})
            for c in answer.changes
        ]
        return type(answer)(
            **{**answer.model_dump(), "changes": changes, "summary": _to_russian(answer.summary)}
        )
    if isinstance(answer, PairwiseOutput):
        return PairwiseOutput(**{**answer.model_dump(), "reason": _to_russian(answer.reason)})
    if isinstance(answer, RecommendOutput):
        return answer.model_copy(
            update={"recommendations": [_to_russian(r) for r in answer.recommendations]}
        )
    return answer


def prompt_gen_ru(ctx: dict[str, Any]) -> PromptGenOutput:
    """The starting prompt for a Russian goal: style and light read from Russian stems into
    English wording; what the person asks to leave out goes to the negative constraints."""
    goal = " ".join(str(ctx["goal"]).split())
    low = goal.lower()
    style = _STYLE_HINTS.get(_first_rule(low, _RU_STYLE, "")) or _style_of(low)
    light = _first_rule(low, _RU_LIGHT, "") or _light_of(low)
    subject = _NEGATION.sub("", _RU_NEGATION.sub("", goal)).strip(" ,.:;") or goal
    subject = re.sub(r"\s*,(\s*,)+", ",", subject)
    return _starting_prompt(ctx, subject, style, light, _removed_any(goal))


def checklist_ru(ctx: dict[str, Any]) -> ChecklistOutput:
    """Russian questions from the goal's clauses and quoted text, one per feedback point, and
    generic checks to reach 4 (the English rules, in Russian)."""
    goal = " ".join(str(ctx["goal"]).split())
    kept = _kept_goal_questions(ctx)
    questions = kept or [
        ChecklistQuestion(
            question=f"Видно ли на изображении: {_lower_first(clause)}?", source="goal"
        )
        for clause in _ru_clauses(_QUOTED.sub("", _NEGATION.sub("", _RU_NEGATION.sub("", goal))))
    ]
    if not kept:
        questions += [
            ChecklistQuestion(question=f"На изображении есть надпись «{text}»?", source="goal")
            for text in ("".join(m) for m in _QUOTED.findall(goal))
        ]
        questions += [
            ChecklistQuestion(question=f"На изображении нет {thing}?", source="goal")
            for thing in _removed_any(goal)
        ]
    for point in _ru_clauses(str(ctx.get("feedback") or "")):
        removed = _removed_any(point)
        question = (
            f"На изображении нет {removed[0]}?" if removed else f"Учтено ли пожелание: {point}?"
        )
        questions.append(ChecklistQuestion(question=question, source="feedback"))
    return _finished_checklist(questions, _RU_GENERIC_CHECKS)


def apply_feedback_ru(feedback: str, draft: _Draft) -> None:
    """Russian feedback: what to leave out goes to the negative constraints; each wish a rule
    knows becomes its English wording in the rule's block; any other wish is added as written."""
    avoided = draft.blocks.get("negative_constraints", "").lower()
    removals = [m for m in _ru_removed(feedback) if m not in avoided]
    if removals and "negative_constraints" in draft.free:
        said = ", ".join(removals)
        draft.add("negative_constraints", said, f"добавлено в «избегать»: {said}")
    prompt_words = set(keywords(" ".join(draft.blocks.values())))
    for clause in _ru_clauses(_RU_NEGATION.sub("", feedback.lower())):
        if not _ru_missing(clause, prompt_words):
            continue
        block, phrase = _ru_rule_for(clause) or ("subject", clause)
        target = _writable(draft.free, block)
        if target is not None:
            draft.add(target, phrase, f"блок {target} учитывает пожелание «{clause}»")


_RU_ROLES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "prompt_gen": prompt_gen_ru,
    "checklist": checklist_ru,
}


# References and edit mode (issue 19) -------------------------------------------------------------
# The stand-in cannot see a reference, but it uses them where words can: the starting prompt says
# what to take from each, the judge answers a reference's question "unsure" (ChecklistService adds
# one per reference, as it does for any writer that asks none), and in edit mode the reviser writes
# the instruction sent with the image it edits.

_REFERENCE_USE = {
    "subject": "keep {label} from reference {n} exactly as it is",
    "style": "take the palette and look of reference {n}",
    "composition": "follow the layout of reference {n}",
}


def _as_is(answer: Any, _: dict[str, Any]) -> Any:
    return answer


def _prompt_with_references(answer: PromptGenOutput, ctx: dict[str, Any]) -> PromptGenOutput:
    """The starting prompt's constraints say what to take from each reference image."""
    refs: list[dict[str, Any]] = ctx.get("references") or []
    if not refs:
        return answer
    uses = "; ".join(
        _REFERENCE_USE[r["role"]].format(n=r["number"], label=r["label"] or "the subject")
        for r in refs
    )
    blocks = answer.blocks.model_dump()
    blocks["constraints"] = _append(
        blocks["constraints"], f"with the reference images: {uses}", "constraints"
    )
    return PromptGenOutput(blocks=PromptBlocks(**blocks))


def _edit_instruction(answer: ReviseOutput, ctx: dict[str, Any]) -> ReviseOutput:
    """Edit mode: the changes as an instruction for the image being edited, "Edit: change only
    ...; keep everything else", from the phrase each change added (English, the provider's)."""
    if ctx.get("mode") != "edit":
        return answer
    parts = [_edit_part(c.block, c.text) for c in answer.changes]
    instruction = f"Edit: change only {'; '.join(parts)}; keep everything else exactly as it is."
    return EditReviseOutput(**answer.model_dump(), instruction=instruction)


def _edit_part(block: str, text: str) -> str:
    added = text.rsplit(", ", 1)[-1].strip()
    if block == "negative_constraints":
        return f"remove {added}"
    return f"the {block.replace('_', ' ')}: {added}"


def _fix_reference_checks(ctx: dict[str, Any], draft: _Draft) -> None:
    """Failed reference items: the constraints ask to match each of those references closely."""
    numbers = [i["reference"] for i in ctx.get("failed_checks", []) if i.get("reference")]
    said = draft.blocks.get("constraints", "")
    missing = [n for n in dict.fromkeys(numbers) if f"reference {n}" not in said]
    if missing and draft.open("constraints"):
        refs = ", ".join(f"reference {n}" for n in missing)
        draft.add("constraints", f"match {refs} closely", f"asked to match {refs} closely")


_REFERENCE_STEPS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "prompt_gen": _prompt_with_references,
    "revise": _edit_instruction,
}
