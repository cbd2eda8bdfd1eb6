"""Time helpers: timezone-aware UTC timestamps and a millisecond stopwatch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


class Stopwatch:
    """Measures elapsed wall time in milliseconds."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.ms = 0

    def stop(self) -> int:
        self.ms = int((time.perf_counter() - self.started) * 1000)
        return self.ms


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    try:
        yield watch
    finally:
        watch.stop()
