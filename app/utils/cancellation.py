"""The stop signal of the run the current thread works for.

`RunService` binds its run's control here while the job runs; worker threads started from the run
thread see it too when they copy the context (`contextvars.copy_context().run(...)`). The outside-call
layer (`http_tool`) reads it, so a cancel or a shutdown interrupts a provider call in flight without
any signature in between having to carry it.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Protocol


class StopSignal(Protocol):
    """What a run exposes: an event set when it must stop, and why (`cancelled` | `interrupted`)."""

    cancel_event: threading.Event

    @property
    def reason(self) -> str: ...


_CURRENT: contextvars.ContextVar[StopSignal | None] = contextvars.ContextVar(
    "run_stop_signal", default=None
)


def bind_stop(signal: StopSignal | None) -> contextvars.Token[StopSignal | None]:
    return _CURRENT.set(signal)


def unbind_stop(token: contextvars.Token[StopSignal | None]) -> None:
    _CURRENT.reset(token)


def current_stop() -> StopSignal | None:
    """The stop signal of the run this thread works for, or None outside a run."""
    return _CURRENT.get()


_CLOSING: contextvars.ContextVar[bool] = contextvars.ContextVar("run_closing_call", default=False)


@contextlib.contextmanager
def closing_call() -> Iterator[None]:
    """Marks the calls made inside as the run's deliberate closing calls (its recommendations,
    written after the run ended, cancelled or not): a plain cancel does not stop them, a shutdown
    still does. Every other call of a run is stopped by a cancel, whenever it started."""
    token = _CLOSING.set(True)
    try:
        yield
    finally:
        _CLOSING.reset(token)


def is_closing_call() -> bool:
    return _CLOSING.get()
