"""Rounds that don't wait for stragglers (issue 18): the run-level state of an optimize run and
the rule that closes a round.

A round of K candidates used to wait for its slowest image, so with realistic latency a K=4 round
took about 1.16x a K=1 round. Now a round closes once its first judged candidate is in and a
grace has passed (a fraction of that candidate's latency, never less than a small minimum), or
when all of its candidates are in, whichever comes first. The last round of a run waits for all.

Nothing paid for is dropped: a candidate still in flight when its round closes keeps running on
the run's executor, is judged and saved as usual (its iteration index was reserved when it was
submitted), and joins the next round's pool, where the strongest of the pool is the one compared
with the best. Before a run ends every late candidate is waited for, and if one was never in a
comparison the strongest of them gets a closing two-order pairwise against the best.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from app.models.domain_models import Iteration, RunMode
from app.models.provider_models import ProviderCapabilities
from app.services.cost_service import Budget, Prices

Candidate = Future[Iteration | None]


@dataclass
class RunPlan:
    """What one optimize run was asked for (importable from optimize_service too)."""

    rounds: int
    target: int
    candidates: int = 1
    plateau_rounds: int = 0
    budget_usd: float | None = None
    mode: RunMode = "generate"  # "edit": each candidate edits the incumbent's image


@dataclass(frozen=True)
class ClosePolicy:
    """When a round may close without its slowest candidates.

    `grace_ratio` of the first judged candidate's latency, at least `grace_min_s`: siblings that
    run about as fast still make it (the minimum keeps instant demo steps together), a straggler
    far behind the rest does not hold the round up. A tenth, chosen with `make bench`
    (bench_rounds, CV 0.3, 3-round runs on a busy machine): a quarter gave K=4/K=1 1.12x, a tenth
    1.01-1.05x, and 1.00x against 1.18x for rounds waiting for all with the runs taking turns; a
    late candidate loses nothing but the next revision's sight of its outcome.
    """

    grace_ratio: float = 0.1
    grace_min_s: float = 0.1
    close_early: bool = True  # False: every round waits for all its candidates (as before)

    def grace(self, first_s: float) -> float:
        return max(self.grace_min_s, self.grace_ratio * first_s)


DEFAULT_CLOSE = ClosePolicy()
WAIT_FOR_ALL = ClosePolicy(close_early=False)  # the old rule, kept for `bench_rounds` to compare


@dataclass
class RunState:
    """Shared by every round of one optimize run: the executor its candidates run on (so a late
    one outlives its round), the iteration indices and round numbers handed out, the prompts
    already claimed, the late candidates not yet in a comparison, and the budget."""

    plan: RunPlan
    caps: ProviderCapabilities
    prices: Prices
    budget: Budget
    pool: ThreadPoolExecutor
    next_index: int
    next_round: int
    claimed: set[str] = field(default_factory=set)
    claim_lock: threading.Lock = field(default_factory=threading.Lock)
    late: list[Candidate] = field(default_factory=list)
    held: float = 0.0  # budget held for a closing comparison while late candidates exist

    def take_index(self) -> int:
        """The next iteration index, reserved now (never `max(saved) + 1`, which a late
        candidate saving after the next round started would collide with)."""
        index, self.next_index = self.next_index, self.next_index + 1
        return index

    def take_round(self) -> int:
        number, self.next_round = self.next_round, self.next_round + 1
        return number

    def hold_closing(self) -> bool:
        """Holds the price of one closing comparison (once) so a late candidate can always be
        compared; False when the budget cannot, and then the round waits for all."""
        if self.held:
            return True
        price = 2 * self.prices.of("pairwise")
        if not self.budget.reserve(price):
            return False
        self.held = price or 1e-12  # a free comparison still counts as held
        return True

    def release_closing(self, actual: float = 0.0) -> None:
        if self.held:
            self.budget.settle(self.held, actual)
            self.held = 0.0

    def arrived(self) -> list[Iteration]:
        """Late candidates that have finished since, taken out of the late list."""
        done = [f for f in self.late if f.done()]
        self.late = [f for f in self.late if not f.done()]
        return [it for f in done if (it := f.result()) is not None]

    def drain(self) -> list[Iteration]:
        """Waits for every late candidate; all of them, taken out of the late list."""
        wait(self.late)
        return self.arrived()


def gather(
    futures: Iterable[Candidate],
    policy: ClosePolicy,
    wait_all: bool,
    judged: Callable[[Iteration], bool],
) -> tuple[list[Iteration], list[Candidate]]:
    """Waits until the round may close: (its finished candidates, those still in flight).

    The grace starts with the first judged candidate (a quick failure does not start it).
    """
    started, first_at = time.monotonic(), None
    pending, done = set(futures), []
    while pending:
        timeout = None
        if first_at is not None and not wait_all:
            timeout = max(0.0, first_at + policy.grace(first_at - started) - time.monotonic())
        finished, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        if not finished:
            break  # the grace is over
        done += [it for f in finished if (it := f.result()) is not None]
        if first_at is None and any(judged(it) for it in done):
            first_at = time.monotonic()
    return done, list(pending)
