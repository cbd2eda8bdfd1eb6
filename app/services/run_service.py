"""Background runs and live events: one worker thread per running session, fan-out to SSE listeners.

A run is a callable executed in a worker thread with a `RunControl` it uses to report steps and to
check for cancellation. Listeners get every event published for their session through a queue; the
stream endpoint turns them into Server-Sent Events.

While a job runs, its `RunControl` is bound as the thread's stop signal (`app.utils.cancellation`):
a cancel or a shutdown interrupts the outside call in flight (closing it), and after a shutdown no
new outside call starts. `RunControl.reason` says which: `cancelled` (the person asked) or
`interrupted` (the server is stopping: SIGTERM, Ctrl+C).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.errors import AppError, Conflict
from app.models.domain_models import Session
from app.tools.log_tool import bind_context, current_context, get_logger, unbind_context
from app.utils.cancellation import bind_stop, unbind_stop

log = get_logger("runs")
Event = tuple[str, Any]
StopReason = Literal["cancelled", "interrupted"]


@dataclass
class RunControl:
    """Handed to a running job: publish events, and see whether (and why) it must stop."""

    session_id: str
    publish: Callable[[str, Any], None]
    cancel_event: threading.Event = field(default_factory=threading.Event)
    reason: StopReason = "cancelled"
    # Set once the run lets go of its session (its ending saved, or its worker gone).
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def stop(self, reason: StopReason = "cancelled") -> None:
        """Asks the run to stop; an interruption (shutdown) wins over a plain cancel."""
        if reason == "interrupted" or not self.cancel_event.is_set():
            self.reason = reason
        self.cancel_event.set()


class RunService:
    """Starts runs (at most one per session), fans events out, and cancels on request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunControl] = {}  # the run that holds each session
        self._listeners: dict[str, list[queue.Queue[Event]]] = {}
        self._followups: dict[str, threading.Thread] = {}
        self._closing = False

    def start(
        self,
        session_id: str,
        job: Callable[[RunControl], None],
        wait: bool,
        prepare: Callable[[], None] | None = None,
    ) -> None:
        """Runs `job` in a worker thread; with `wait`, returns when it is done.

        `prepare` runs once the session is reserved and before the worker starts (to mark the session
        running); if it raises, the reservation is released and nothing runs.
        """
        control = self.reserve(session_id)
        try:
            if prepare:
                prepare()
        except BaseException:
            self.release(control)
            raise
        self.launch(control, job, wait)

    def reserve(self, session_id: str) -> RunControl:
        """Claims the session for one run: a second claim is a 409 until `release`.

        Callers check the session and mark it running under the session's lock after this, so a
        refused start changes nothing and two racing starts give one run and one 409.
        """
        control = RunControl(session_id, lambda kind, data: self.publish(session_id, kind, data))
        with self._lock:
            if self._closing:
                raise AppError(
                    "The server is stopping; start the run again once it is back.",
                    code="server_stopping",
                    status=503,
                )
            if session_id in self._runs:
                raise Conflict(
                    "A run is already in progress for this session.", code="run_in_progress"
                )
            self._runs[session_id] = control
        return control

    def launch(self, control: RunControl, job: Callable[[RunControl], None], wait: bool) -> None:
        """Starts the reserved run's worker; with `wait`, returns when the worker is done."""
        thread = threading.Thread(
            target=self._work,
            args=(job, control, current_context()),
            name=f"run-{control.session_id[:8]}",
            daemon=True,
        )
        try:
            thread.start()
        except BaseException:
            self.release(control)
            raise
        if wait:
            thread.join()

    def release(self, control: RunControl) -> bool:
        """Lets go of the session (a new run may start at once) and tells listeners it is done.

        A job calls it in the same locked change that saves how it ended, so a client that sees the
        ending can start again without a 409; the worker calls it again on its way out (a no-op).
        Returns whether this call released it.
        """
        with self._lock:
            if control.released.is_set():
                return False
            control.released.set()
            if self._runs.get(control.session_id) is control:
                del self._runs[control.session_id]
        self.publish(control.session_id, "done", None)
        return True

    def _work(
        self, job: Callable[[RunControl], None], control: RunControl, context: dict[str, Any]
    ) -> None:
        token = bind_context(context)
        stop_token = bind_stop(control)
        try:
            job(control)
        except Exception:  # the job records its own errors; this is the last line of defence
            log.exception("run crashed")
        finally:
            unbind_stop(stop_token)
            self.release(control)
            unbind_context(token)

    def start_followup(self, session_id: str, thread: threading.Thread) -> None:
        """Starts work that goes on after a run (its recommendations) and remembers it for
        `wait_followup`; both under the lock, so a waiter never sees a thread not started yet."""
        with self._lock:
            self._followups[session_id] = thread
            thread.start()

    def wait_followup(self, session_id: str, timeout_s: float = 30.0) -> None:
        """Waits for a session's after-run work to finish (tests, the CLI, shutdown)."""
        with self._lock:
            thread = self._followups.get(session_id)
        if thread is not None:
            thread.join(timeout_s)
            with self._lock:
                if self._followups.get(session_id) is thread and not thread.is_alive():
                    self._followups.pop(session_id, None)

    def is_running(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._runs

    def cancel(self, session_id: str) -> bool:
        """Asks a run to stop (the outside call in flight is interrupted); False when nothing runs."""
        with self._lock:
            control = self._runs.get(session_id)
        if control:
            control.stop("cancelled")
        return control is not None

    def subscribe(self, session_id: str) -> queue.Queue[Event]:
        listener: queue.Queue[Event] = queue.Queue()
        with self._lock:
            self._listeners.setdefault(session_id, []).append(listener)
        return listener

    def unsubscribe(self, session_id: str, listener: queue.Queue[Event]) -> None:
        with self._lock:
            listeners = self._listeners.get(session_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(session_id, None)

    def publish_state(self, session: Session) -> None:
        """Sends a session snapshot to its listeners; costs nothing when nobody listens."""
        with self._lock:
            listening = bool(self._listeners.get(session.session_id))
        if listening:
            self.publish(session.session_id, "state", session.model_dump(mode="json"))

    def publish(self, session_id: str, kind: str, data: Any) -> None:
        with self._lock:
            listeners = list(self._listeners.get(session_id, ()))
        for listener in listeners:
            listener.put((kind, data))

    def shutdown(self, timeout_s: float = 5.0) -> list[str]:
        """Interrupts every run (server stopping) and waits for the workers to record how they ended.

        Calls in flight are closed and no new outside call starts, so the jobs end within moments;
        one still going after `timeout_s` is marked failed by the next start's recovery. Returns the
        ids of the sessions that were running.
        """
        with self._lock:
            self._closing = True
            entries = list(self._runs.values())
        for control in entries:
            control.stop("interrupted")
        deadline = time.monotonic() + timeout_s
        for control in entries:
            control.released.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            followups = list(self._followups.values())
        for thread in followups:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [control.session_id for control in entries]
