"""Run options (issue 20): what an optimize run may be asked for, with each bound written once.

Three doors ask for a run: the API (`OptimizeRequest`, wire name `iterations_count`), batches
(`BatchOptions`, `BatchRequest`, wire name `iterations`) and the CLI (which builds `BatchOptions`).
Their wire names stay as they are; they share these field types (so a bound is written here only)
and each turns itself into one `RunOptions`, the only thing `RunPlanner.plan` reads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.limits import MAX_BUDGET_USD, MAX_CANDIDATES, MAX_PLATEAU_ROUNDS
from app.models.domain_models import RunMode
from app.models.shared_fields import shared_fields

# The score a run stops at, candidates per round, rounds without a win, dollars for the session.
TargetScore = Annotated[int, Field(ge=1, le=100)]
Candidates = Annotated[int, Field(ge=1, le=MAX_CANDIDATES)]
PlateauRounds = Annotated[int, Field(ge=0, le=MAX_PLATEAU_ROUNDS)]
BudgetUsd = Annotated[float, Field(ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False)]


class RunOptions(BaseModel):
    """One run's options as a door received them; None everywhere means "the default"
    (the session's own rounds and target, the Settings' candidates, plateau and budget)."""

    iterations: int | None = Field(None, ge=0)
    target_score: TargetScore | None = None
    candidates: Candidates | None = None
    plateau_rounds: PlateauRounds | None = None
    budget_usd: BudgetUsd | None = None
    # "edit": each candidate edits the current best image (issue 19); None means "generate".
    mode: RunMode | None = None

    @classmethod
    def of(cls, body: BaseModel, iterations: int | None) -> RunOptions:
        """A door's body as run options: its rounds (each door names them its own way) and every
        field it shares with RunOptions by name, so a new option reaches each door it is added to
        with no line here."""
        return cls(iterations=iterations, **shared_fields(body, cls, skip=["iterations"]))
