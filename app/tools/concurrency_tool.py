"""Process-wide limits on calls in flight, per image provider and to the text model.

K parallel candidates (and several sessions running at once) share these slots, so they never
send a provider more concurrent calls than its setting allows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.models.provider_models import LLMRequest, LLMResult, TextModel

DEFAULT_SLOTS = 4


class Slots:
    """One bounded semaphore per name."""

    def __init__(self, limits: dict[str, int], default: int = DEFAULT_SLOTS) -> None:
        self.limits = dict(limits)
        self.default = default
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._guard = threading.Lock()

    def limit(self, name: str) -> int:
        return max(1, self.limits.get(name, self.default))

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            semaphore = self._semaphores.setdefault(
                name, threading.BoundedSemaphore(self.limit(name))
            )
        with semaphore:
            yield


class LimitedTextModel:
    """A text model whose `complete` calls wait for one of `limit` slots."""

    def __init__(self, inner: TextModel, limit: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.models = inner.models
        self._slots = Slots({inner.name: limit})

    def complete(self, request: LLMRequest) -> LLMResult:
        with self._slots.hold(self.name):
            return self.inner.complete(request)

    def close(self) -> None:
        self.inner.close()
