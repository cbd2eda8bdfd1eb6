"""The rule that closes a round (`optimize_rounds.gather`), on real threads and futures: the grace
starts with the first *judged* candidate, and a held candidate is left in flight, not dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.models.domain_models import Iteration
from app.services.optimize_rounds import ClosePolicy, gather

NO_GRACE = ClosePolicy(grace_ratio=0.0, grace_min_s=0.0)


def judged(it: Iteration) -> bool:
    return it.status == "ok" and it.judge_score is not None


def made(index: int, score: int | None) -> Iteration:
    status = "ok" if score is not None else "failed"
    return Iteration(index=index, prompt_text=f"p{index}", status=status, judge_score=score)


@pytest.mark.race
def test_a_round_closes_without_a_held_candidate_and_leaves_it_running() -> None:
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        quick = pool.submit(made, 1, 60)
        held = pool.submit(lambda: (release.wait(10), made(2, 90))[1])
        done, pending = gather([quick, held], NO_GRACE, False, judged)
        assert [it.index for it in done] == [1] and pending == [held]
        assert not held.done()  # still in flight, not cancelled
        release.set()
        assert held.result().judge_score == 90


def releasing(release: threading.Event) -> Callable[[Iteration], bool]:
    """`judged`, which first lets the held candidate finish: gather asks it once it has taken in
    the candidates already done, so the held one finishes only after gather is waiting on."""

    def judged_then_release(it: Iteration) -> bool:
        release.set()
        return judged(it)

    return judged_then_release


@pytest.mark.race
@pytest.mark.parametrize(
    ("first_score", "last_round"),
    [
        # A failure is in at once; were the grace started by it, the round would close with
        # nothing judged.
        pytest.param(None, False, id="a_quick_failure_does_not_start_the_grace"),
        # The last round waits for every candidate, however long the grace has run.
        pytest.param(60, True, id="the_last_round_waits_for_every_candidate"),
    ],
)
def test_the_round_takes_in_the_held_candidate(first_score: int | None, last_round: bool) -> None:
    """The first candidate is in at once; the held one finishes only after gather has taken the
    first in (see `releasing`), so only the rule under test can leave it out."""
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(made, 1, first_score)
        held = pool.submit(lambda: (release.wait(10), made(2, 90))[1])
        first.result()
        done, pending = gather([first, held], NO_GRACE, last_round, releasing(release))
    assert sorted(it.index for it in done) == [1, 2] and pending == []
