"""Starting and following a run, once for every door (issue 20).

The API's `optimize/run` and a batch goal (and so `sfumato run`) start an optimize run here: the
plan comes from `RunPlanner`, the run from `OptimizeService`. `follow` is how a headless caller
(the goal runner) waits for a background run: it subscribes before the start (so no event is
missed), relays the run's events, and cancels the run once its `stop` is set. The web app follows
a run through the SSE stream instead (`ApiController.events`), over the same RunService events.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import Conflict
from app.models.domain_models import Session
from app.models.run_options import RunOptions
from app.services.optimize_service import OptimizeService, RunPlan
from app.services.run_planner import RunPlanner
from app.services.run_service import RunService
from app.services.session_service import SessionService

EventSink = Callable[[str, Any], None]
POLL_S = 0.1  # how often `follow` looks at `stop` while the run is quiet


@dataclass(eq=False)
class RunLauncher:
    """Plans and starts runs, and follows one to its end; holds no state of its own."""

    sessions: SessionService
    optimize: OptimizeService
    runs: RunService
    planner: RunPlanner

    def plan(self, session_id: str, options: RunOptions, rounds: int | None = None) -> RunPlan:
        """The plan of the next optimize run on the session (404 when there is none)."""
        return self.planner.plan(self.sessions.get(session_id), options, rounds)

    def start_optimize(
        self, session_id: str, options: RunOptions, wait: bool, rounds: int | None = None
    ) -> Session:
        """Plans and starts an optimize run; with `wait`, returns once its last iteration is saved."""
        return self.optimize.start_optimize(
            session_id, self.plan(session_id, options, rounds), wait
        )

    def start_generate(self, session_id: str, wait: bool) -> Session:
        """Generates and judges the session's current prompt (the baseline, or a new try)."""
        return self.optimize.start_generate(session_id, wait=wait)

    def follow(
        self,
        session_id: str,
        start: Callable[[], Any],
        stop: threading.Event,
        on_event: EventSink | None,
        closing: threading.Event,
    ) -> None:
        """Starts a background run and relays its events until it is done; `stop` cancels it,
        unless `closing` is set too (on shutdown the run service interrupts the run instead)."""
        listener = self.runs.subscribe(session_id)
        cancelled = False
        try:
            start()
            while True:
                if stop.is_set() and not cancelled and not closing.is_set():
                    cancelled = True
                    with contextlib.suppress(Conflict):  # finished meanwhile
                        self.optimize.cancel(session_id)
                try:
                    kind, data = listener.get(timeout=POLL_S)
                except queue.Empty:
                    if not self.runs.is_running(session_id):
                        return
                    continue
                if kind == "done":
                    return
                if on_event:
                    on_event(kind, data)
        finally:
            self.runs.unsubscribe(session_id, listener)
