"""Prompts are code: the rendered text of every LLM role, for every provider, against golden files.

Each prompt is built by the real service from a fixed session (the same code path a run takes) and
recorded on its way to the offline text model. A change to a template, a guide or the context a
service builds shows up here as a diff to read. After reading it, refresh the files with:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_prompt_golden.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from app.models.domain_models import (
    ChecklistItem,
    ChecklistResult,
    ErrorInfo,
    Iteration,
    Pairwise,
    Reference,
    Session,
)
from app.models.provider_models import ImageInput, LLMRequest, LLMResult
from app.services import flex_service
from app.services.checklist_service import ChecklistService
from app.services.judge_service import JudgeService
from app.services.prompt_service import PromptService
from app.services.recommendation_service import RecommendationService
from app.settings import Settings
from app.tools.offline_text_tool import OfflineTextTool
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.template_tool import TemplateTool

GOLDEN = Path(__file__).parent / "golden"
PROVIDERS = ["demo", "openai", "grok", "nano_banana"]
GOAL = 'Two red foxes asleep in fresh snow under a pine, the sign "NORTH" in the corner, no people'
FEEDBACK = "warmer light, and the sign must be readable"


class Recorder:
    """The offline model, recording every request it is asked to answer."""

    def __init__(self, settings: Settings) -> None:
        self.inner = OfflineTextTool(settings)
        self.models = self.inner.models
        self.name = self.inner.name
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMResult:
        self.requests.append(request)
        return self.inner.complete(request)

    def close(self) -> None:
        """Nothing to release."""


def png(size: tuple[int, int] = (32, 24)) -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 60, 90)).save(buffer, format="PNG")
    return ImageInput(data=buffer.getvalue(), mime="image/png")


def session(provider: str) -> Session:
    """A session in the middle of a run: a baseline, a lost round and a won one."""
    blocks = {
        "subject": "two red foxes curled up asleep in fresh snow under a pine tree",
        "style": "wildlife photograph, natural colour grading",
        "composition": 'the foxes centred, a small wooden sign reading "NORTH" in the lower right',
        "lighting": "soft overcast daylight",
        "camera": "eye-level, 85mm lens, shallow depth of field",
        "constraints": "exactly two foxes, the sign text spelled NORTH",
        "negative_constraints": "people, watermark, blur",
    }
    prompt = flex_service.build(blocks)
    checklist = [
        ChecklistItem(id="q1", question="Are there exactly two red foxes?"),
        ChecklistItem(id="q2", question="Are the foxes asleep in snow?"),
        ChecklistItem(id="q3", question='Does a sign read "NORTH"?'),
        ChecklistItem(id="q4", question="Is the image free of people?"),
        ChecklistItem(id="q5", question="Is the light warm?", source="feedback"),
    ]
    results = [
        ChecklistResult(id="q1", answer="yes", note="two foxes"),
        ChecklistResult(id="q2", answer="yes", note="curled up in snow"),
        ChecklistResult(id="q3", answer="unsure", note="sign too small to read"),
        ChecklistResult(id="q4", answer="yes", note="no people"),
        ChecklistResult(id="q5", answer="no", note="cold blue light"),
    ]
    base = Iteration(
        index=0,
        prompt_text=prompt,
        judge_score=64,
        judge_notes="Foxes right; the sign is unreadable and the light is cold.",
        judge_strengths=["subject: both foxes clear and asleep", "style: natural colours"],
        judge_weaknesses=["composition: the sign is too small", "lighting: cold and flat"],
        checklist_results=results,
        checklist_pass=0.7,
        revised_prompt="Two red foxes sleeping in snow beneath a pine; a sign says NORTH.",
    )
    lost = Iteration(
        index=1,
        round=1,
        prompt_text=prompt,
        changed_blocks=["lighting"],
        prompt_diff="warm low sun from the left",
        based_on=0,
        judge_score=61,
        judge_notes="Warmer, but the sign is gone.",
        checklist_pass=0.6,
        pairwise=Pairwise(against=0, verdicts=["incumbent", "tie"], result="tie"),
    )
    failed = Iteration(
        index=2,
        round=2,
        candidate=1,
        prompt_text=prompt,
        status="failed",
        error=ErrorInfo(code="content_blocked", message="The provider refused the prompt."),
    )
    return Session(
        session_id="0" * 32,
        user_goal=GOAL,
        image_provider=provider,
        image_params={"aspect_ratio": "3:2"},
        prompt_text=prompt,
        locked_blocks=["subject"],
        user_feedback=FEEDBACK,
        checklist=checklist,
        iterations=[base, lost, failed],
        best_index=0,
    )


@pytest.fixture
def recorded(settings: Settings):
    recorder = Recorder(settings)
    templates = TemplateTool()
    registry = ProviderRegistry(settings)
    return recorder, templates, registry


def check(name: str, requests: list[LLMRequest]) -> None:
    text = "\n\n".join(
        f"=== {r.role}: system ===\n{r.system}\n\n=== {r.role}: user ===\n{r.user}\n"
        f"=== {r.role}: images attached: {len(r.images)} ==="
        + "".join(
            f"\n=== label before image {n}: {label}" for n, label in enumerate(r.image_labels, 1)
        )
        for r in requests
    )
    matches_golden(name, text)


def matches_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and read it"
    assert text + "\n" == path.read_text(encoding="utf-8"), f"{path.name} changed: read the diff"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_prompt_gen(recorded, provider: str) -> None:
    recorder, templates, registry = recorded
    caps = registry.capabilities[provider]
    PromptService(recorder, templates).generate_initial(GOAL, caps, {"aspect_ratio": "3:2"})
    check(f"prompt_gen_{provider}", recorder.requests)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("retry", [False, True])
def test_revise(recorded, provider: str, retry: bool) -> None:
    recorder, templates, registry = recorded
    s = session(provider)
    note = (
        "after the merge it changed nothing; change at least one unlocked block." if retry else None
    )
    PromptService(recorder, templates).revise(
        s, s.iterations[0], registry.capabilities[provider], strategy_number=1, retry_note=note
    )
    check(f"revise_{provider}{'_retry' if retry else ''}", recorder.requests)


@pytest.mark.parametrize("feedback", [None, FEEDBACK])
def test_checklist(recorded, feedback: str | None) -> None:
    recorder, templates, _ = recorded
    s = session("demo")
    current = s.checklist if feedback else []
    ChecklistService(recorder, templates, sessions=None).write(  # type: ignore[arg-type]
        GOAL, feedback, current, {"background": "transparent"} if feedback else {}
    )
    check(f"checklist_{'feedback' if feedback else 'goal'}", recorder.requests)


@pytest.mark.parametrize("transparent", [False, True])
def test_judge(recorded, transparent: bool) -> None:
    recorder, templates, registry = recorded
    s = session("openai")
    rendered = PromptService(recorder, templates).render(
        s.prompt_text, registry.capabilities["openai"]
    )
    params = {"aspect_ratio": "3:2", **({"background": "transparent"} if transparent else {})}
    JudgeService(recorder, templates).evaluate(
        GOAL, rendered.text, flex_service.parse(s.prompt_text).blocks, png(), s.checklist, params
    )
    check(f"judge{'_transparent' if transparent else ''}", recorder.requests)


def test_pairwise(recorded) -> None:
    recorder, templates, _ = recorded
    s = session("grok")
    blocks = flex_service.parse(s.prompt_text).blocks
    JudgeService(recorder, templates).compare(
        GOAL,
        s.checklist,
        {},
        (png((32, 24)), "candidate", blocks),
        (png((24, 32)), "best", blocks),
        0,
    )
    # the two orders run concurrently: sort them so the file is stable (their texts are equal)
    assert len(recorder.requests) == 2 and recorder.requests[0].user == recorder.requests[1].user
    check("pairwise", recorder.requests[:1])


def test_recommend(recorded) -> None:
    recorder, templates, _ = recorded
    RecommendationService(recorder, templates).build_summary(session("nano_banana"))
    check("recommend", recorder.requests)


# A Russian goal: the person reads Russian, the image provider gets an English prompt ------------

GOAL_RU = "Две рыжие лисы спят на свежем снегу под сосной, табличка «СЕВЕР» в углу, без людей"
FEEDBACK_RU = "свет теплее, и табличку должно быть легко прочитать"


def session_ru(provider: str) -> Session:
    """The same mid-run session, written by a Russian-speaking person."""
    s = session(provider)
    questions = [
        "Ровно две рыжие лисы?",
        "Лисы спят на снегу?",
        "Есть ли табличка с надписью «СЕВЕР»?",
        "На изображении нет людей?",
        "Свет тёплый?",
    ]
    checklist = [
        item.model_copy(update={"question": q})
        for item, q in zip(s.checklist, questions, strict=True)
    ]
    return s.model_copy(
        update={
            "user_goal": GOAL_RU,
            "user_feedback": FEEDBACK_RU,
            "checklist": checklist,
            "language": "ru",
            "prompt_language": "en",
        }
    )


def test_prompt_gen_ru(recorded) -> None:
    recorder, templates, registry = recorded
    PromptService(recorder, templates).generate_initial(
        GOAL_RU, registry.capabilities["openai"], {"aspect_ratio": "3:2"}, "ru", "en"
    )
    check("prompt_gen_openai_ru", recorder.requests)


def test_revise_ru(recorded) -> None:
    recorder, templates, registry = recorded
    s = session_ru("openai")
    PromptService(recorder, templates).revise(s, s.iterations[0], registry.capabilities["openai"])
    check("revise_openai_ru", recorder.requests)


@pytest.mark.parametrize("feedback", [None, FEEDBACK_RU])
def test_checklist_ru(recorded, feedback: str | None) -> None:
    """No language given: the questions follow the goal's language, detected."""
    recorder, templates, _ = recorded
    current = session_ru("demo").checklist if feedback else []
    ChecklistService(recorder, templates, sessions=None).write(  # type: ignore[arg-type]
        GOAL_RU, feedback, current, {}
    )
    check(f"checklist_{'feedback' if feedback else 'goal'}_ru", recorder.requests)


def test_judge_ru(recorded) -> None:
    recorder, templates, registry = recorded
    s = session_ru("openai")
    rendered = PromptService(recorder, templates).render(
        s.prompt_text, registry.capabilities["openai"]
    )
    JudgeService(recorder, templates).evaluate(
        GOAL_RU,
        rendered.text,
        flex_service.parse(s.prompt_text).blocks,
        png(),
        s.checklist,
        {"aspect_ratio": "3:2"},
        language="ru",
    )
    check("judge_ru", recorder.requests)


def test_pairwise_ru(recorded) -> None:
    recorder, templates, _ = recorded
    s = session_ru("grok")
    blocks = flex_service.parse(s.prompt_text).blocks
    JudgeService(recorder, templates).compare(
        GOAL_RU, s.checklist, {}, (png(), "candidate", blocks), (png(), "best", blocks), 0
    )
    check("pairwise_ru", recorder.requests[:1])


def test_recommend_ru(recorded) -> None:
    recorder, templates, _ = recorded
    RecommendationService(recorder, templates).build_summary(session_ru("nano_banana"))
    check("recommend_ru", recorder.requests)


# Reference images and edit mode (issue 19) ----------------------------------------------------

REFERENCES = [
    Reference(
        id="r1",
        role="subject",
        label="red fox",
        file="ref_r1.png",
        width=32,
        height=24,
        mime="image/png",
    ),
    Reference(id="r2", role="style", file="ref_r2.png", width=32, height=24, mime="image/png"),
    Reference(
        id="r3",
        role="composition",
        label="winter card",
        file="ref_r3.png",
        width=24,
        height=32,
        mime="image/png",
    ),
]
REFERENCE_ITEM = {
    "en": "Is the red fox the one in reference 1: shape, markings, colours?",
    "ru": "Совпадает ли рыжая лиса с референсом 1: форма, надписи, цвета?",
}


def with_references(s: Session, language: str = "en") -> Session:
    """The session with three references, a checklist item tied to the first, failed by the base."""
    item = ChecklistItem(
        id="q6", question=REFERENCE_ITEM[language], source="reference", reference="r1"
    )
    base = s.iterations[0].model_copy(deep=True)
    base.checklist_results.append(ChecklistResult(id="q6", answer="no", note="a grey fox"))
    return s.model_copy(
        update={
            "references": REFERENCES,
            "checklist": [*s.checklist, item],
            "iterations": [base, *s.iterations[1:]],
        }
    )


def attached() -> list[tuple[Reference, ImageInput]]:
    return [(ref, png((ref.width, ref.height))) for ref in REFERENCES]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_prompt_gen_references(recorded, language: str) -> None:
    recorder, templates, registry = recorded
    PromptService(recorder, templates).generate_initial(
        GOAL_RU if language == "ru" else GOAL,
        registry.capabilities["openai"],
        {"aspect_ratio": "3:2"},
        language,
        "en",
        references=REFERENCES,
    )
    check(f"prompt_gen_references_{language}", recorder.requests)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_checklist_references(recorded, language: str) -> None:
    recorder, templates, _ = recorded
    items, _ = ChecklistService(recorder, templates, sessions=None).write(  # type: ignore[arg-type]
        GOAL_RU if language == "ru" else GOAL, None, [], {}, language, references=REFERENCES
    )
    check(f"checklist_references_{language}", recorder.requests)
    tied = [(i.source, i.reference) for i in items if i.reference]
    assert tied == [("reference", "r1"), ("reference", "r2"), ("reference", "r3")]


def test_checklist_reference_question(recorded) -> None:
    """The question a reference gets when the checklist writer asked nothing about it: each role,
    with and without a label, in both languages."""
    _, templates, _ = recorded
    lines = [
        f"{language} {role} label={label!r}: "
        + templates.render(
            "checklist_reference_question.jinja2",
            language=language,
            role=role,
            label=label,
            number=2,
        )
        for language in ("en", "ru")
        for role in ("subject", "style", "composition")
        for label in ("the bottle", "")
    ]
    matches_golden("checklist_reference_question", "\n".join(lines))


@pytest.mark.parametrize("language", ["en", "ru"])
def test_judge_references(recorded, language: str) -> None:
    recorder, templates, registry = recorded
    s = with_references(session_ru("openai") if language == "ru" else session("openai"), language)
    rendered = PromptService(recorder, templates).render(
        s.prompt_text, registry.capabilities["openai"]
    )
    verdict = JudgeService(recorder, templates).evaluate(
        s.user_goal,
        rendered.text,
        flex_service.parse(s.prompt_text).blocks,
        png(),
        s.checklist,
        {"aspect_ratio": "3:2"},
        language=language,
        references=attached(),
    )
    check(f"judge_references_{language}", recorder.requests)
    assert [r.answer for r in verdict.checklist_results if r.id == "q6"] == ["unsure"]


def test_pairwise_references(recorded) -> None:
    recorder, templates, _ = recorded
    s = with_references(session("grok"))
    blocks = flex_service.parse(s.prompt_text).blocks
    JudgeService(recorder, templates).compare(
        GOAL,
        s.checklist,
        {},
        (png((32, 24)), "candidate", blocks),
        (png((24, 32)), "best", blocks),
        0,
        references=attached(),
    )
    assert len(recorder.requests) == 2 and recorder.requests[0].user == recorder.requests[1].user
    check("pairwise_references", recorder.requests[:1])


@pytest.mark.parametrize("language", ["en", "ru"])
def test_revise_edit_mode(recorded, language: str) -> None:
    recorder, templates, registry = recorded
    s = with_references(session_ru("openai") if language == "ru" else session("openai"), language)
    revision = PromptService(recorder, templates).revise(
        s, s.iterations[0], registry.capabilities["openai"], edit=True
    )
    check(f"revise_edit_{language}", recorder.requests)
    assert revision.instruction and revision.instruction.startswith("Edit: change only")


def test_an_item_whose_reference_was_removed_is_asked_plainly(recorded) -> None:
    """The checklist still ties q6 to r1, but r1 is gone: no "compare with r1", no "unsure"."""
    recorder, templates, _ = recorded
    s = with_references(session("openai"))
    verdict = JudgeService(recorder, templates).evaluate(
        GOAL,
        "prompt",
        flex_service.parse(s.prompt_text).blocks,
        png(),
        s.checklist,
        {},
        references=attached()[1:],
    )
    assert "(compare with r1)" not in recorder.requests[0].user
    assert "(compare with r2)" not in recorder.requests[0].user  # nothing ties to r2
    note = next(r.note for r in verdict.checklist_results if r.id == "q6")
    assert note != "the offline judge cannot compare with a reference"
