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
def test_a_quick_failure_does_not_start_the_grace() -> None:
    # The failure is in at once; the judged candidate finishes only after gather has taken the
    # failure in. Were the grace started by the failure, the round would close with nothing judged.
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        failure = pool.submit(made, 1, None)
        slower = pool.submit(lambda: (release.wait(10), made(2, 70))[1])
        failure.result()
        done, pending = gather([failure, slower], NO_GRACE, False, releasing(release))
    assert sorted(it.index for it in done) == [1, 2] and pending == []


@pytest.mark.race
def test_the_last_round_waits_for_every_candidate() -> None:
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        quick = pool.submit(made, 1, 60)
        slower = pool.submit(lambda: (release.wait(10), made(2, 90))[1])
        quick.result()
        done, pending = gather([quick, slower], NO_GRACE, True, releasing(release))
    assert sorted(it.index for it in done) == [1, 2] and pending == []
