"""RunService's after-run work: a waiter never meets a thread that has not started."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.services.run_service import RunService


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


def test_waiting_for_followup_work_while_it_is_being_started() -> None:
    runs = RunService()
    work = SlowStart(target=time.sleep, args=(0.1,), daemon=True)
    starter = threading.Thread(target=runs.start_followup, args=("s1", work))
    starter.start()
    assert work.starting.wait(5)  # start_followup is inside SlowStart.start now
    runs.wait_followup("s1")  # raised "cannot join thread before it is started" (a CI flake)
    starter.join()
    assert not work.is_alive()
