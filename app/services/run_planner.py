"""Planning an optimize run, once for every door (issue 20): the API's `optimize/run` and
`optimize/estimate`, a batch goal and `sfumato run` all turn their `RunOptions` into a `RunPlan`
here, so a default, a limit or the budget rule is changed in one place.

The budget rule: `budget_usd` covers the whole session. What the session has already spent (its
prompt, checklist, baseline and earlier runs) is taken off, so the run may spend only the rest and
a session never costs more than its budget by the price table. `BUDGET_USD_DEFAULT` applies when
no budget is given; none means no limit.
"""

from __future__ import annotations

from app.models.domain_models import Session
from app.models.run_options import RunOptions
from app.services.optimize_service import RunPlan
from app.settings import Settings


def session_budget(budget_usd: float | None, spent_usd: float) -> float | None:
    """What a run may still spend of a whole-session budget (never below 0); None: no limit."""
    if budget_usd is None:
        return None
    return max(0.0, round(budget_usd - spent_usd, 6))


class RunPlanner:
    """Owns the run defaults (Settings) and the budget rule; knows nothing of doors."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def plan(self, session: Session, options: RunOptions, rounds: int | None = None) -> RunPlan:
        """The plan of the next optimize run on `session`; `rounds` (a resumed batch goal's
        missing rounds) overrides the rounds asked for."""
        s = self.settings
        budget = s.budget_usd_default if options.budget_usd is None else options.budget_usd
        plateau = options.plateau_rounds
        return RunPlan(
            rounds=rounds or options.iterations or session.iterations_count,
            target=options.target_score or session.target_score,
            candidates=options.candidates or s.candidates_default,
            plateau_rounds=s.plateau_rounds_default if plateau is None else plateau,
            budget_usd=session_budget(budget, session.cost_usd),
            mode=options.mode or "generate",
        )
