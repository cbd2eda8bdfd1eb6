"""RunService: one run per session (a second start is a clean 409, never a join of a thread not
started yet), a run released by its job can be followed at once, and after-run work a waiter
never meets unstarted."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from app.errors import Conflict
from app.services.run_service import RunControl, RunService

WAIT_S = 30


class SlowStart(threading.Thread):
    """A thread whose start takes a while, so a waiter can arrive in between; `starting` is set
    once `start` has been entered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.starting = threading.Event()

    def start(self) -> None:
        self.starting.set()
        time.sleep(0.2)
        super().start()


@pytest.mark.race
def test_waiting_for_followup_work_while_it_is_being_started() -> None:
    runs = RunService()
    work = SlowStart(target=time.sleep, args=(0.1,), daemon=True)
    starter = threading.Thread(target=runs.start_followup, args=("s1", work))
    starter.start()
    assert work.starting.wait(5)  # start_followup is inside SlowStart.start now
    runs.wait_followup("s1")  # raised "cannot join thread before it is started" (a CI flake)
    starter.join()
    assert not work.is_alive()


@pytest.mark.race
def test_a_start_while_another_is_being_prepared_is_a_409() -> None:
    """The old start joined the reserved run's thread before it was started: RuntimeError (500)."""
    runs = RunService()
    preparing, go = threading.Event(), threading.Event()

    def prepare() -> None:
        preparing.set()
        assert go.wait(WAIT_S)

    winner = threading.Thread(target=runs.start, args=("s1", lambda ctl: None, False, prepare))
    winner.start()
    assert preparing.wait(WAIT_S)
    with pytest.raises(Conflict) as refused:
        runs.start("s1", lambda ctl: None, False)
    assert refused.value.code == "run_in_progress"
    go.set()
    winner.join(WAIT_S)


@pytest.mark.race
def test_racing_starts_give_one_run_and_409s_only() -> None:
    runs = RunService()
    hold = threading.Event()
    barrier = threading.Barrier(6, timeout=WAIT_S)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            runs.start("s1", lambda ctl: hold.wait(WAIT_S), False)
            outcomes.append("started")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    hold.set()
    assert sorted(outcomes) == ["run_in_progress"] * 5 + ["started"]


def test_a_run_released_by_its_job_can_be_followed_before_its_worker_exits() -> None:
    runs = RunService()
    released, leave, second_holds = threading.Event(), threading.Event(), threading.Event()
    worker: list[threading.Thread] = []

    def first(ctl: RunControl) -> None:
        runs.release(ctl)  # what a job does with the save of its ending
        worker.append(threading.current_thread())
        released.set()
        assert leave.wait(WAIT_S)

    runs.start("s1", first, False)
    assert released.wait(WAIT_S)
    runs.start("s1", lambda ctl: second_holds.wait(WAIT_S), False)  # no 409, no wait
    leave.set()  # the first worker exits now: it must not let go of the second run
    worker[0].join(WAIT_S)
    assert not worker[0].is_alive()
    follower = runs.subscribe("s1")
    assert runs.is_running("s1")
    second_holds.set()
    assert follower.get(timeout=WAIT_S) == ("done", None)
    assert not runs.is_running("s1")
