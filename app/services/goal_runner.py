"""One goal end to end, headless: what `sfumato run` does and what a batch does for each goal.

`run_goal` creates the session (prompt and checklist, as `POST /api/sessions` does), applies a
recipe's prompt, locks, checklist and feedback, generates and judges the baseline
(`start_generate`), runs the optimize loop (both started and followed by `RunLauncher`, planned by `RunPlanner`), waits for
the recommendations, and finally asks the judge for a fresh order-swapped pairwise comparison of
the best image against the first (`OptimizeService.compare`). With the session id of a goal an
earlier run left interrupted, it continues that session: only the rounds still missing are run.
`recipe` is what it takes to run a session again. The batch service (app/services/batch_service.py)
runs many goals through one GoalRunner; each collaborator is given to the constructor.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app import __version__
from app.errors import AppError, NotFound
from app.models.batch_models import BatchOptions, GoalError, GoalResult, GoalSpec
from app.models.domain_models import Iteration, PairwiseResult, Session
from app.models.provider_models import TextModel
from app.services.checklist_service import ChecklistService
from app.services.image_service import ImageService
from app.services.optimize_service import OptimizeService, RunPlan
from app.services.reference_service import ReferenceUpload
from app.services.run_launcher import EventSink as EventSink  # re-exported to batch_service
from app.services.run_launcher import RunLauncher
from app.services.run_service import RunService
from app.services.session_edits import SessionEdits
from app.services.session_export import recipe_references
from app.services.session_service import SessionService
from app.services.start_service import SessionSpec, StartService
from app.settings import Settings
from app.tools.log_tool import get_logger, log_context
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool

log = get_logger("batch")
RECIPE_VERSION = 1
# A run that ended for one of these reasons finished its plan: a resumed goal runs no more rounds.
FINISHED_REASONS = ("completed", "target_reached", "plateau", "budget", "accepted")


@dataclass(eq=False)
class GoalRunner:
    """Runs one goal at a time (many threads may call it); knows nothing of batches."""

    settings: Settings
    sessions: SessionService
    starts: StartService
    checklists: ChecklistService
    images: ImageService
    registry: ProviderRegistry
    optimize: OptimizeService
    runs: RunService
    storage: StorageTool
    text_model: TextModel
    launcher: RunLauncher
    edits: SessionEdits
    # Set once the process is stopping: no goal starts and no session is created after it.
    _closing: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    @property
    def closing(self) -> threading.Event:
        """Set once shutdown began (or a run was interrupted by the process stopping)."""
        return self._closing

    def stopping(self, stop: threading.Event) -> bool:
        """True once `stop` is set or the process is stopping."""
        return self._stopping(stop)

    # One goal -----------------------------------------------------------------------------------

    def run_goal(
        self,
        spec: GoalSpec,
        options: BatchOptions,
        on_event: EventSink | None = None,
        stop: threading.Event | None = None,
        session_id: str | None = None,
    ) -> GoalResult:
        """One goal end to end; never raises for a failure of the goal itself (see `status`).

        With `session_id` (a goal an earlier run left interrupted) it continues that session: a
        judged baseline is kept and only the optimize rounds still missing are run.
        """
        stop = stop or threading.Event()
        started = time.perf_counter()
        result = GoalResult(
            id=spec.id,
            goal=spec.goal,
            category=spec.category,
            provider=spec.provider or options.provider,
            status="running",
        )
        try:
            with log_context(goal_id=spec.id):
                self._run(result, spec, options, stop, on_event, session_id)
        except AppError as exc:
            result.status, result.error = "failed", GoalError(code=exc.code, message=exc.message)
            if exc.code == "server_stopping":  # the process is stopping: resume continues it
                self._closing.set()
                result.status, result.error = "interrupted", None
        except Exception as exc:  # a bug must not take the other goals of a batch down
            log.exception("goal crashed")
            result.status = "failed"
            result.error = GoalError(code="internal_error", message=type(exc).__name__)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _run(
        self,
        result: GoalResult,
        spec: GoalSpec,
        options: BatchOptions,
        stop: threading.Event,
        on_event: EventSink | None,
        session_id: str | None,
    ) -> None:
        """`run_goal`'s work: find or open the session, run what is missing, fill in `result`."""
        session = self._existing(session_id)
        if session is None and self._stopping(stop):
            result.status = "pending"  # stopped before it began: nothing was created
            return
        session = session or self._prepare(spec, options)
        result.session_id = session.session_id
        if on_event:
            on_event("session", {"session_id": session.session_id})
        session, ran = self._advance(session, options, stop, on_event)
        self._conclude(result, session, stop, on_event, ran)

    def _existing(self, session_id: str | None) -> Session | None:
        """The session an interrupted goal had, or None (none yet, or deleted since)."""
        if not session_id:
            return None
        try:
            return self.sessions.get(session_id)
        except NotFound:
            return None

    def _stopping(self, stop: threading.Event) -> bool:
        return stop.is_set() or self._closing.is_set()

    def _advance(
        self,
        session: Session,
        options: BatchOptions,
        stop: threading.Event,
        on_event: EventSink | None,
    ) -> tuple[Session, bool]:
        """Baseline (unless one is judged already), then the optimize rounds still missing.

        Returns the session and whether an optimize or generate run was started by this call.
        """
        sid = session.session_id
        ran = False
        if not _baseline_judged(session) and not self._stopping(stop):
            start = lambda: self.launcher.start_generate(sid, wait=False)  # noqa: E731
            self.launcher.follow(sid, start, stop, on_event, self._closing)
            session, ran = self.sessions.get(sid), True
        rounds = self.remaining_rounds(session, options)
        if _baseline_judged(session) and rounds > 0 and not self._stopping(stop):
            run = options.run_options()
            start = lambda: self.launcher.start_optimize(sid, run, False, rounds)  # noqa: E731
            self.launcher.follow(sid, start, stop, on_event, self._closing)
            self.runs.wait_followup(sid)
            ran = True
        session = self.sessions.get(sid)
        if ran and session.run and session.run.stop_reason == "interrupted":
            self._closing.set()  # the run service is stopping (SIGTERM): start no further goal
        return session, ran

    def remaining_rounds(self, session: Session, options: BatchOptions) -> int:
        """The optimize rounds a goal still needs: the rounds planned minus the rounds this session
        already has (a round counts once any of its candidates was saved, since it was paid for);
        none once an optimize run ended on its own (completed, target, plateau, budget)."""
        run = session.run
        if run and run.kind == "optimize" and run.stop_reason in FINISHED_REASONS:
            return 0
        done = len({it.round for it in session.iterations if it.round >= 1})
        return max(0, options.iterations - done)

    def plan(self, session: Session, options: BatchOptions, rounds: int | None = None) -> RunPlan:
        """The optimize plan the controller builds too (app.services.run_planner)."""
        return self.launcher.planner.plan(session, options.run_options(), rounds)

    def _prepare(self, spec: GoalSpec, options: BatchOptions) -> Session:
        """Creates the session as `POST /api/sessions` does, then applies the recipe's parts."""
        session = self.starts.open(
            SessionSpec(
                goal=spec.goal.strip(),
                provider=spec.provider or options.provider,
                image_params=spec.image_params,
                iterations_count=max(1, options.iterations),
                target_score=options.target_score,
                references=tuple(ReferenceUpload(**r.model_dump()) for r in spec.references),
            )
        )
        sid = session.session_id
        if spec.prompt_text or spec.locked_blocks:
            session = self.edits.edit_prompt(
                sid, spec.prompt_text or session.prompt_text, spec.locked_blocks
            )
        if spec.feedback:
            session = self.edits.set_feedback(sid, spec.feedback)
            if spec.checklist is None:
                session = self.checklists.refresh_for_feedback(sid)
        if spec.checklist is not None:
            self.checklists.replace(sid, [item.model_dump() for item in spec.checklist])
            # The recipe's checklist already answers its feedback: do not write it again.
            session = self.sessions.update(sid, _checklist_matches_feedback)
        return session

    def _conclude(
        self,
        result: GoalResult,
        session: Session,
        stop: threading.Event,
        on_event: EventSink | None,
        ran: bool = True,
    ) -> None:
        first, best = session.iteration(0), session.best()
        reason = session.run.stop_reason if session.run else None
        self._figures(result, session, first, best)
        if self._stopping(stop) or (ran and reason in ("cancelled", "interrupted")):
            result.status = "interrupted"
            return
        # A session an earlier run left interrupted, with nothing more to run, is complete.
        kept = session.error is not None and session.error.code == "interrupted" and not ran
        if (session.status == "failed" and not kept) or best is None or first is None:
            error = session.error or (first.error if first else None)
            result.status = "failed"
            result.error = GoalError(
                code=error.code if error else "no_image",
                message=error.message if error else "No judged image was produced.",
            )
            return
        if on_event:
            on_event("step", {"step": "best_vs_first", "phase": "start"})
        result.best_vs_first, usd = self.best_vs_first(session, first, best)
        result.cost_usd = round(result.cost_usd + usd, 6)
        result.status = "done"

    def _figures(
        self, result: GoalResult, session: Session, first: Iteration | None, best: Iteration | None
    ) -> None:
        """Copies the session's figures into the goal's row: cost, checklist, first and best."""
        result.stop_reason = session.run.stop_reason if session.run else None
        result.demo = session.demo
        result.cost_usd = round(session.cost_usd, 6)
        # validate_assignment turns these dicts into fresh ChecklistItem copies (the row must not
        # share the session's objects); mypy sees only the field's declared type.
        result.checklist = [i.model_dump() for i in session.checklist]  # type: ignore[misc]
        if first is not None:
            result.first_score, result.first_checklist_pass = (
                first.judge_score,
                first.checklist_pass,
            )
            result.first_image = self._image_path(session, first)
        if best is not None:
            result.best_index, result.best_score = best.index, best.judge_score
            result.best_checklist_pass = best.checklist_pass
            result.best_image = self._image_path(session, best)
            result.best_prompt = session.final_prompt_rendered or best.rendered_prompt
            result.best_negative = best.rendered_negative

    def best_vs_first(
        self, session: Session, first: Iteration, best: Iteration
    ) -> tuple[PairwiseResult, float]:
        """A fresh order-swapped pairwise judgement of the best image against the first.

        When the best is the first image there is nothing to compare: a tie, at no cost.
        """
        if best.index == first.index:
            return "tie", 0.0
        caps = self.images.capabilities(session.image_provider)
        comparison = self.optimize.compare(session, best, first, caps)
        return comparison.pairwise.result, comparison.usage.cost_usd or 0.0

    def _image_path(self, session: Session, it: Iteration) -> str | None:
        path = self.storage.media_path(session.session_id, it.image_path or "")
        return str(path) if path else None

    # Recipes ------------------------------------------------------------------------------------

    def recipe(self, session_id: str) -> dict[str, Any]:
        """What it takes to run a session again: goal, provider, model, params, locks, checklist,
        feedback, the final prompt (FLEX text and as the provider received it), the version."""
        s = self.sessions.get(session_id)
        caps = self.images.capabilities(s.image_provider)
        best = s.best()
        return {
            "sfumato_version": __version__,
            "recipe_version": RECIPE_VERSION,
            "source_session_id": s.session_id,
            "goal": s.user_goal,
            "provider": s.image_provider,
            "model": (best.image_model if best else None)
            or self.optimize.costs.image_model(s, caps.defaults, caps.models),
            "text_models": dict(self.text_model.models),
            "image_params": s.image_params,
            "locked_blocks": s.locked_blocks,
            "checklist": [i.model_dump() for i in s.checklist],
            "feedback": s.user_feedback,
            "final_prompt": s.final_prompt_text or s.prompt_text,
            "final_prompt_rendered": s.final_prompt_rendered,
            "final_prompt_negative": best.rendered_negative if best else None,
            "demo": s.demo,
            "iterations": s.run.requested_iterations if s.run else s.iterations_count,
            "candidates": s.run.candidates if s.run else None,
            "target_score": s.target_score,
            "best_score": best.judge_score if best else None,
            # The reference images themselves (data URLs): a recipe reproduces the session.
            "references": recipe_references(self.storage, s),
        }


def _baseline_judged(session: Session) -> bool:
    first = session.iteration(0)
    return first is not None and first.status == "ok" and first.judge_score is not None


def _checklist_matches_feedback(session: Session) -> None:
    session.checklist_feedback = session.user_feedback
