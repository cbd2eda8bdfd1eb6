"""The offline text model behaves sensibly: the judge responds to prompt and image, revisions fix
what was flagged, recommendations come from the real history. Driven through the real services."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.models.domain_models import ChecklistItem, ChecklistResult, Iteration, Pairwise, Session
from app.models.llm_models import JudgeOutput
from app.models.provider_models import ImageInput
from app.services import flex_service
from app.services.checklist_service import ChecklistService
from app.services.judge_service import JudgeService
from app.services.prompt_service import PromptService
from app.services.recommendation_service import RecommendationService
from app.settings import Settings
from app.tools.offline_text_tool import OfflineTextTool
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.template_tool import TemplateTool

GOAL = "a lighthouse on a rocky cliff at night, oil painting"


@pytest.fixture
def tools(settings: Settings):
    model = OfflineTextTool(settings)
    templates = TemplateTool()
    caps = ProviderRegistry(settings).capabilities["demo"]
    return PromptService(model, templates), JudgeService(model, templates), caps, model, templates


def png(size=(64, 64), colour=(30, 30, 60), stripes: bool = True) -> ImageInput:
    image = Image.new("RGB", size, colour)
    if stripes:
        for x in range(0, size[0], 8):
            for y in range(size[1]):
                image.putpixel((x, y), (220, 220, 220))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ImageInput(data=buffer.getvalue(), mime="image/png")


def checklist_for(tools, feedback: str = "") -> list[ChecklistItem]:
    *_, model, templates = tools
    service = ChecklistService(model, templates, sessions=None)  # type: ignore[arg-type]
    return service.write(GOAL, feedback, [], {})[0]


def judge(
    tools, prompt_text: str, image: ImageInput, feedback: str = "", aspect: str = "1:1"
) -> JudgeOutput:
    prompts, judge_service, caps, *_ = tools
    rendered = prompts.render(prompt_text, caps).text
    blocks = flex_service.parse(prompt_text).blocks
    checklist = checklist_for(tools, feedback)
    return judge_service.evaluate(
        GOAL, rendered, blocks, image, checklist, {"aspect_ratio": aspect}
    ).result.data


def test_starting_prompt_has_every_block_and_the_goal(tools) -> None:
    prompts, _, caps, *_ = tools
    text, result = prompts.generate_initial(GOAL + ", no people", caps, {"aspect_ratio": "3:2"})
    blocks = flex_service.parse(text).blocks
    assert list(blocks) == list(flex_service.LABELS)
    assert "lighthouse" in blocks["subject"] and "people" not in blocks["subject"]
    assert "oil painting" in blocks["style"] and "night" in blocks["lighting"]
    assert "people" in blocks["negative_constraints"] and "3:2" in blocks["constraints"]
    assert result.model == "sfumato-offline-rules-1"


def test_judge_score_responds_to_the_prompt(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {"aspect_ratio": "1:1"})
    full = judge(tools, text, png())
    thin = flex_service.merge(
        flex_service.parse(text), {"subject": "a building", "style": "art"}, set()
    )[0]
    worse = judge(tools, thin.serialize(), png())
    assert worse.score < full.score
    assert any("lighthouse" in w for w in worse.weaknesses)


def test_judge_score_responds_to_the_image(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {"aspect_ratio": "1:1"})
    good = judge(tools, text, png())
    blank = judge(tools, text, png(stripes=False))
    wrong_shape = judge(tools, text, png(size=(128, 64)))
    too_bright = judge(tools, text, png(colour=(250, 250, 250), stripes=True))
    broken = judge(tools, text, ImageInput(data=b"not an image", mime="image/png"))
    assert good.score > blank.score and "blank" in " ".join(blank.weaknesses)
    assert good.score > wrong_shape.score and "aspect ratio" in " ".join(wrong_shape.weaknesses)
    assert good.score > too_bright.score
    assert broken.score < blank.score


def test_checklist_has_goal_questions_and_one_per_feedback_point(tools) -> None:
    goal_only = checklist_for(tools)
    assert 4 <= len(goal_only) <= 12 and {i.source for i in goal_only} == {"goal"}
    assert any("lighthouse" in i.question for i in goal_only)
    assert [i.id for i in goal_only] == [f"q{n}" for n in range(1, len(goal_only) + 1)]
    with_feedback = checklist_for(tools, "add seagulls circling the tower, no boats")
    from_feedback = [i.question for i in with_feedback if i.source == "feedback"]
    assert len(from_feedback) == 2
    assert "seagulls" in from_feedback[0] and "free of boats" in from_feedback[1]


def test_judge_checks_the_feedback_through_the_checklist(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    without = judge(tools, text, png(), feedback="")
    unmet = judge(tools, text, png(), feedback="add seagulls circling the tower")
    assert unmet.score < without.score
    answers = {a.answer for a in unmet.checklist}
    assert "no" in answers and any("seagulls" in a.note for a in unmet.checklist)


def session_with(
    prompt_text: str, score: int, weaknesses: list[str], locked: list[str], feedback: str = ""
) -> Session:
    base = Iteration(
        index=0, prompt_text=prompt_text, judge_score=score, judge_weaknesses=weaknesses
    )
    return Session(
        session_id="0" * 32,
        user_goal=GOAL,
        image_provider="demo",
        prompt_text=prompt_text,
        iterations=[base],
        locked_blocks=locked,
        user_feedback=feedback or None,
    )


def test_revision_addresses_feedback_and_judge_notes_but_not_locks(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    session = session_with(
        text, 70, ["camera: vague (6 words)"], ["lighting"], feedback="warmer light, no boats"
    )
    revision = prompts.revise(session, session.iterations[0], caps)
    before, after = flex_service.parse(text), flex_service.parse(revision.prompt_text)
    assert after.frame == before.frame
    assert (
        after.blocks["lighting"] == before.blocks["lighting"]
    )  # locked: feedback routed elsewhere
    assert "boats" in after.blocks["negative_constraints"]
    assert "camera" in revision.changed
    assert "warmer" in revision.prompt_text
    assert set(revision.changed) == set(flex_service.changed_blocks(before, after))


def test_revised_prompt_scores_higher(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    first = judge(tools, text, png(), feedback="warmer light")
    session = session_with(text, first.score, list(first.weaknesses), [], "warmer light")
    revision = prompts.revise(session, session.iterations[0], caps)
    assert judge(tools, revision.prompt_text, png(), feedback="warmer light").score > first.score


def test_recommendations_come_from_the_history(tools) -> None:
    *_, model, templates = tools
    its = [
        Iteration(index=0, prompt_text="p", judge_score=60),
        Iteration(
            index=1,
            prompt_text="p",
            judge_score=72,
            changed_blocks=["lighting"],
            based_on=0,
            pairwise=Pairwise(against=0, verdicts=["candidate", "candidate"], result="win"),
        ),
        Iteration(index=2, prompt_text="p", judge_score=65, changed_blocks=["camera"], based_on=1),
    ]
    session = Session(session_id="0" * 32, user_goal=GOAL, image_provider="demo", iterations=its)
    recs = RecommendationService(model, templates).build_summary(session).data.recommendations
    assert 3 <= len(recs) <= 7
    assert any("lighting" in r and "won" in r and "60 -> 72" in r for r in recs)
    assert any("camera" in r and "worse" in r and "iteration 1" in r for r in recs)
    assert any("iteration 1" in r for r in recs)


def test_revisions_never_repeat_wording_the_block_has(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    for attempt in range(6):
        session = session_with(text, 70, [], locked=[])
        session.iterations += [
            session.iterations[0].model_copy(update={"index": i}) for i in range(1, attempt + 1)
        ]
        text = prompts.revise(session, session.iterations[0], caps).prompt_text
    for name, block in flex_service.parse(text).blocks.items():
        parts = [p.strip().lower() for p in block.split(",")]
        assert len(parts) == len(set(parts)), (name, block)


def test_failed_checks_route_absent_things_to_avoid_and_skip_generic_ones(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    session = session_with(text, 70, [], [])
    session.user_goal = GOAL + ", without seagulls"
    session.checklist = [
        ChecklistItem(id="q1", question="Is the image free of seagulls?"),
        ChecklistItem(id="q2", question="Is the main subject clearly readable at first glance?"),
    ]
    session.iterations[0].checklist_results = [
        ChecklistResult(id="q1", answer="unsure", note="not ruled out"),
        ChecklistResult(id="q2", answer="unsure", note="cannot see"),
    ]
    revision = prompts.revise(session, session.iterations[0], caps)
    blocks = flex_service.parse(revision.prompt_text).blocks
    assert "seagulls" in blocks["negative_constraints"]
    assert "seagulls" not in blocks["subject"] and "glance" not in blocks["subject"]


def test_every_strategy_writes_a_different_revision(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    # Three changes are due whatever the strategy (goal words, feedback, an avoid item), so only
    # the strategy's own change can tell the candidates apart.
    thin = flex_service.merge(flex_service.parse(text), {"subject": "a building"}, set())[0]
    session = session_with(thin.serialize(), 70, [], [], feedback="warmer light, no boats")
    revisions = {
        prompts.revise(session, session.iterations[0], caps, n).prompt_text for n in range(4)
    }
    assert len(revisions) == 4


# A Russian goal: Russian checklist and notes, English prompt wording, Russian rules ----------------

GOAL_RU = "Маяк на скалистом утёсе ночью, картина маслом, табличка «МАЯК» у двери, без людей"


def _cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)


def ru_session(prompt_text: str, feedback: str = "", score: int = 60) -> Session:
    base = Iteration(index=0, prompt_text=prompt_text, judge_score=score)
    return Session(
        session_id="0" * 32,
        user_goal=GOAL_RU,
        image_provider="demo",
        prompt_text=prompt_text,
        iterations=[base],
        user_feedback=feedback or None,
        language="ru",
    )


def ru_judge(tools, prompt_text: str, feedback: str = "") -> JudgeOutput:
    prompts, judge_service, caps, model, templates = tools
    checklist = ChecklistService(model, templates, sessions=None).write(  # type: ignore[arg-type]
        GOAL_RU, feedback, [], {}, "ru"
    )[0]
    rendered = prompts.render(prompt_text, caps).text
    blocks = flex_service.parse(prompt_text).blocks
    return judge_service.evaluate(
        GOAL_RU, rendered, blocks, png(colour=(10, 10, 30)), checklist, {}, language="ru"
    ).result.data


@pytest.mark.parametrize(
    ("goal", "light"),
    [
        (GOAL_RU, "night"),
        ("Ночной город под дождём", "night"),
        ("Улица в полночь, фонари", "night"),
        ("Поле подсолнухов на закате", "sunset"),
        ("Озеро на рассвете, туман", "dawn"),
        ("Кофейня утром", "morning"),
        ("Портрет кота в тёплом свете", "warm"),
    ],
    ids=["ночью", "ночной", "полночь", "закате", "рассвете", "утром", "тёплом"],
)
def test_russian_goal_light_is_read_from_word_stems(tools, goal: str, light: str) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(goal, caps, {"aspect_ratio": "1:1"}, "ru", "en")
    lighting = flex_service.parse(text).blocks["lighting"]
    assert light in lighting and "daylight" not in lighting


@pytest.mark.parametrize("goal", ["Кот внутри дома", "Валун у реки"])
def test_russian_light_stems_start_words(tools, goal: str) -> None:
    """ "утр" is not in "внутри", "лун" not in "валун": no morning or night light for them."""
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(goal, caps, {}, "ru")
    assert flex_service.parse(text).blocks["lighting"] == "soft diffused daylight"


def test_russian_goal_starting_prompt(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL_RU, caps, {"aspect_ratio": "3:2"}, "ru", "en")
    blocks = flex_service.parse(text).blocks
    assert "Маяк" in blocks["subject"] and "без людей" not in blocks["subject"]
    assert "oil painting" in blocks["style"]  # "маслом": the English wording for the provider
    assert "людей" in blocks["negative_constraints"]


def test_russian_checklist_asks_about_the_goal_in_russian(tools) -> None:
    *_, model, templates = tools
    service = ChecklistService(model, templates, sessions=None)  # type: ignore[arg-type]
    items = service.write(GOAL_RU, None, [], {})[0]  # no language given: the goal's, detected
    questions = [i.question for i in items]
    assert 4 <= len(items) <= 12 and all(_cyrillic(q) for q in questions)
    assert any("маяк" in q.lower() and "утёсе" in q for q in questions)
    assert "На изображении есть надпись «МАЯК»?" in questions  # text in the image, exactly
    assert "На изображении нет людей?" in questions
    with_feedback = service.write(GOAL_RU, "без чаек, больше контраста", [], {}, "ru")[0]
    from_feedback = [i.question for i in with_feedback if i.source == "feedback"]
    assert from_feedback == ["На изображении нет чаек?", "Учтено ли пожелание: больше контраста?"]


def test_russian_feedback_is_obeyed_and_explained_in_russian(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL_RU, caps, {}, "ru", "en")
    feedback = "без лодок, больше контраста"
    session = ru_session(text, feedback)
    revision = prompts.revise(session, session.iterations[0], caps)
    after = flex_service.parse(revision.prompt_text).blocks
    assert "лодок" in after["negative_constraints"]
    assert "contrast" in after["lighting"]  # English wording for the image provider
    reasons = [c.reason for c in revision.result.data.changes]
    assert reasons and all(_cyrillic(r) for r in reasons) and _cyrillic(revision.summary)


def test_russian_judge_sees_the_feedback_and_writes_russian_notes(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial(GOAL_RU, caps, {}, "ru", "en")
    feedback = "больше контраста, без лодок"
    before = ru_judge(tools, text, feedback)
    session = ru_session(text, feedback, before.score)
    revised = prompts.revise(session, session.iterations[0], caps).prompt_text
    after = ru_judge(tools, revised, feedback)
    assert after.score > before.score
    assert _cyrillic(before.notes) and _cyrillic(after.notes)
    assert all(_cyrillic(a.note) for a in before.checklist + after.checklist)
    assert all(_cyrillic(w.split(":", 1)[1]) for w in before.weaknesses)
    # the feedback's questions in order: "больше контраста" fails before the revision and passes
    # after it (its English wording is in the prompt); "без лодок" is then kept out by the prompt
    assert [a.answer for a in before.checklist][-2:] == ["no", "unsure"]
    assert [a.answer for a in after.checklist][-2:] == ["yes", "yes"]


def test_russian_recommendations(tools) -> None:
    *_, model, templates = tools
    its = [
        Iteration(index=0, prompt_text="p", judge_score=60),
        Iteration(
            index=1,
            prompt_text="p",
            judge_score=72,
            changed_blocks=["lighting"],
            based_on=0,
            pairwise=Pairwise(against=0, verdicts=["candidate", "candidate"], result="win"),
        ),
    ]
    session = ru_session("p").model_copy(update={"iterations": its, "best_index": 1})
    recs = RecommendationService(model, templates).build_summary(session).data.recommendations
    assert 3 <= len(recs) <= 7 and all(_cyrillic(r) for r in recs)
    assert any("lighting" in r and "60 → 72" in r for r in recs)


def test_russian_feedback_on_an_english_session_is_obeyed(tools) -> None:
    """A Russian speaker with an English goal: the feedback rules still read the Russian."""
    prompts, _, caps, model, templates = tools
    text, _ = prompts.generate_initial(GOAL, caps, {})
    feedback = "без лодок, больше контраста"
    session = session_with(text, 60, [], [], feedback)
    revised = flex_service.parse(prompts.revise(session, session.iterations[0], caps).prompt_text)
    assert "лодок" in revised.blocks["negative_constraints"]
    assert "contrast" in revised.blocks["lighting"]
    service = ChecklistService(model, templates, sessions=None)  # type: ignore[arg-type]
    questions = [i.question for i in service.write(GOAL, feedback, [], {})[0]]
    assert "Is the image free of лодок?" in questions


def test_a_russian_negation_at_the_start_is_kept_out_of_the_subject(tools) -> None:
    prompts, _, caps, *_ = tools
    text, _ = prompts.generate_initial("Без людей: пустая площадь на закате", caps, {}, "ru")
    blocks = flex_service.parse(text).blocks
    assert blocks["subject"] == "пустая площадь на закате"
    assert "людей" in blocks["negative_constraints"] and "sunset" in blocks["lighting"]
