"""The optimize loop's stop rules: small functions of (session after a round, plan), each tested
alone; `stop_after_round` asks them in order."""

from __future__ import annotations

from app.models.domain_models import Iteration, RunInfo, Session
from app.services.optimize_service import (
    STOP_RULES,
    RunPlan,
    plateau,
    stop_after_round,
    target_reached,
)


def session_after(best_score: int | None, rounds_without_win: int) -> Session:
    session = Session(session_id="0" * 32, user_goal="a fox", image_provider="demo")
    if best_score is not None:
        session.iterations.append(
            Iteration(index=0, prompt_text="x", judge_score=best_score, status="ok")
        )
        session.best_index = 0
    session.run = RunInfo(kind="optimize", rounds_without_win=rounds_without_win)
    return session


def test_target_reached_when_the_best_scores_at_least_the_target() -> None:
    plan = RunPlan(rounds=3, target=80)
    assert target_reached(session_after(80, 0), plan) == "target_reached"
    assert target_reached(session_after(79, 0), plan) is None
    assert target_reached(session_after(None, 0), plan) is None


def test_plateau_after_the_planned_rounds_without_a_win() -> None:
    assert plateau(session_after(50, 2), RunPlan(rounds=5, target=90, plateau_rounds=2)) == (
        "plateau"
    )
    assert plateau(session_after(50, 1), RunPlan(rounds=5, target=90, plateau_rounds=2)) is None
    assert plateau(session_after(50, 9), RunPlan(rounds=5, target=90, plateau_rounds=0)) is None


def test_the_first_rule_that_names_a_reason_wins() -> None:
    assert (target_reached, plateau) == STOP_RULES
    both = session_after(95, 3)
    assert stop_after_round(both, RunPlan(rounds=5, target=90, plateau_rounds=2)) == (
        "target_reached"
    )
    assert stop_after_round(session_after(10, 0), RunPlan(rounds=5, target=90)) is None
