"""The pipeline's runs: the baseline image, the optimize loop and accepting a result.

The loop is a protocol (see README "How the loop decides"):
- Every image is judged against the session's checklist and goal with one rubric. Before a run the
  incumbent best is judged again if the checklist changed since it was judged.
- A round writes K distinct revisions of the incumbent (one strategy each), generates and judges
  them concurrently and saves each as its own iteration (`round`, `candidate`).
- A round does not wait for its stragglers (`optimize_rounds`): it closes once its first judged
  candidate plus a grace is in; a late candidate is still judged and saved, and joins the next
  round's pool (or a closing comparison before the run ends).
- The pool's strongest candidate (checklist pass, then score) is compared with the incumbent in an
  order-swapped pairwise call; only a win (both orders agree) makes it the new best.
- The run stops after N rounds, when the best reaches the target score, after `plateau_rounds`
  rounds without a win, or before a round the budget cannot pay for.
- Every iteration is saved, even a worse or failed one; recommendations are written after the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from app.errors import AppError, Conflict, StorageFailed, ValidationFailed
from app.models.domain_models import (
    CurrentStep,
    ErrorInfo,
    Iteration,
    Judgement,
    Reference,
    RunInfo,
    RunMode,
    Session,
    SessionStatus,
    StopReason,
    Usage,
)
from app.models.llm_models import JudgeOutput, RecommendOutput
from app.models.paths import media_url
from app.models.provider_models import (
    GeneratedImage,
    ImageInput,
    ProviderCapabilities,
    RenderedPrompt,
    SourceImage,
)
from app.services import flex_service
from app.services.checklist_service import ChecklistService, apply_rewrite
from app.services.cost_service import Budget, CostService, Prices, charge_image, charge_text
from app.services.image_service import ImageService, check_sources
from app.services.judge_service import Comparison, JudgeService, Shown, Verdict
from app.services.optimize_rounds import DEFAULT_CLOSE, Candidate, ClosePolicy, RunState, gather
from app.services.optimize_rounds import RunPlan as RunPlan  # the doors import it from here
from app.services.prompt_service import PromptService, Revision
from app.services.recommendation_service import RecommendationService
from app.services.run_service import RunControl, RunService
from app.services.session_edits import apply_feedback, ensure_idle
from app.services.session_service import INTERRUPTED, SessionService
from app.tools.log_tool import get_logger, log_context
from app.utils.cancellation import closing_call
from app.utils.time_utils import Stopwatch, utc_now

if TYPE_CHECKING:
    from app.services.reference_service import ReferenceService

log = get_logger("optimize")
T = TypeVar("T")
# Failures worth moving past: the next revision may avoid what the provider refused, and a
# candidate that changed nothing cost no image.
RECOVERABLE_CODES = {"content_blocked", "no_change"}
Outcome = tuple[StopReason, ErrorInfo | None]


@dataclass
class _Round:
    """Shared by the candidates of one round: prompts already claimed (by the whole run, so no two
    are the same), and what its comparison spent."""

    number: int
    incumbent: Iteration
    session: Session
    caps: ProviderCapabilities
    prices: Prices
    mode: RunMode = "generate"
    claimed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    spent_comparing: float = 0.0

    def claim(self, prompt_text: str) -> bool:
        with self.lock:
            if prompt_text in self.claimed:
                return False
            self.claimed.add(prompt_text)
            return True


class OptimizeService:
    def __init__(
        self,
        sessions: SessionService,
        runs: RunService,
        prompts: PromptService,
        images: ImageService,
        judge: JudgeService,
        recommendations: RecommendationService,
        checklists: ChecklistService,
        costs: CostService,
        references: ReferenceService | None = None,
        close_policy: ClosePolicy = DEFAULT_CLOSE,
    ) -> None:
        self.sessions = sessions
        self.runs = runs
        self.prompts = prompts
        self.images = images
        self.judge = judge
        self.recommendations = recommendations
        self.checklists = checklists
        self.costs = costs
        # The sessions' reference images (issue 19): sent, judged against, edited with.
        self.references = references
        self.close_policy = close_policy  # when a round stops waiting for its stragglers

    # Starting runs ------------------------------------------------------------------------------

    def start_generate(
        self,
        session_id: str,
        wait: bool,
        edit_from: int | None = None,
        instruction: str | None = None,
    ) -> Session:
        """Generates and judges iteration 0 from the current prompt (replacing an earlier baseline);
        with `edit_from`, edits that iteration's image instead (`start_edit`)."""
        if edit_from is not None:
            return self.start_edit(session_id, edit_from, instruction, wait)

        def check(session: Session) -> None:
            _not_optimized(session)
            self._check_inputs(session, "generate")

        self._start(session_id, RunInfo(kind="generate"), self._baseline, wait, check)
        return self.sessions.get(session_id)

    def start_edit(
        self, session_id: str, edit_from: int, instruction: str | None, wait: bool
    ) -> Session:
        """A new iteration that edits iteration `edit_from`'s image (issue 19), as the person's
        `instruction` (or the working prompt's changes) says."""
        self._start(
            session_id,
            RunInfo(kind="generate", mode="edit"),
            lambda ctl: self._edit(ctl, edit_from, instruction),
            wait,
            lambda session: self._check_edit(session, edit_from),
        )
        return self.sessions.get(session_id)

    def _check_inputs(self, session: Session, mode: RunMode) -> None:
        """A model that cannot take what each image call of `mode` sends (the references, and
        the image to edit) is refused now, with `unsupported_param`, before any call is paid."""
        caps = self.images.capabilities(session.image_provider)
        check_sources(caps, session.image_params, _inputs_per_image(session, mode))

    def _check_edit(self, session: Session, index: int) -> None:
        """The image to edit exists, and the model takes it (with the references)."""
        it = session.chosen_iteration(index, "edit_from")
        if not it.image_path or self.references is None:
            raise Conflict(
                f"Iteration {index} has no image to edit.",
                code="image_missing",
                details={"field": "edit_from", "iteration": index},
            )
        self._check_inputs(session, "edit")

    def check_optimizable(self, session: Session) -> Iteration:
        best = session.best()
        if best is None:
            raise Conflict(
                "Generate and judge the first image before optimizing.", code="invalid_state"
            )
        free = set(flex_service.parse(best.prompt_text).blocks) - set(session.locked_blocks)
        if not free:
            raise ValidationFailed(
                "Every block is locked (or the prompt has no FLEX blocks): nothing can be revised.",
                code="nothing_to_optimize",
            )
        return best

    def estimate(self, session_id: str, plan: RunPlan) -> dict[str, Any]:
        """What the run would cost, from the price table and this session's recorded costs."""
        session = self.sessions.get(session_id)
        best = self.check_optimizable(session)
        return self.costs.estimate(
            session,
            self._image_model(session),
            plan.rounds,
            plan.candidates,
            plan.budget_usd,
            rejudge=best.checklist_version != session.checklist_version,
            sources=_inputs_per_image(session, plan.mode),
        )

    def start_optimize(self, session_id: str, plan: RunPlan, wait: bool) -> Session:
        session = self.sessions.get(session_id)
        self.check_optimizable(session)
        run = RunInfo(
            kind="optimize",
            requested_iterations=plan.rounds,
            target_score=plan.target,
            candidates=plan.candidates,
            plateau_rounds=plan.plateau_rounds,
            budget_usd=plan.budget_usd,
            estimate_usd=self.estimate(session_id, plan)["usd"],
            mode=plan.mode,
        )

        def check(s: Session) -> None:
            self.check_optimizable(s)
            self._check_inputs(s, plan.mode)

        self._start(session_id, run, lambda ctl: self._optimize(ctl, plan), wait, check)
        return self.sessions.get(session_id)

    def accept(self, session_id: str, feedback: str | None = None) -> Session:
        """Accepts the best image so far: the session is done, with recommendations. `feedback`
        (when given) is stored in the same checked change that starts the acceptance, so a refused
        accept stores nothing."""

        def check(session: Session) -> None:
            if session.best() is None:
                raise Conflict("There is no judged image to accept yet.", code="invalid_state")
            if feedback is not None:
                apply_feedback(session, feedback)

        self._start(session_id, RunInfo(kind="accept"), self._accept, True, check)
        return self.sessions.get(session_id)

    def cancel(self, session_id: str) -> Session:
        """Stops the session's run; checked and applied under its lock, so a run that saved its
        ending a moment ago is `not_running`, never cancelled after the fact."""
        with self.sessions.locked(session_id):
            if not self.runs.cancel(session_id):
                raise Conflict("Nothing is running for this session.", code="not_running")
            # Memory only: the run's next save (at the latest its ending) writes it along.
            return self.sessions.mark(session_id, _mark_cancel_requested)

    def _start(
        self,
        session_id: str,
        run: RunInfo,
        job: Callable[[RunControl], None],
        wait: bool,
        check: Callable[[Session], Any] = lambda session: None,
    ) -> None:
        """Checks the session, reserves it and marks it running in one step under its lock, then
        starts the worker. Of two racing starts one runs and the other is a 409 that changed
        nothing. `check` sees (and may change) the session copy that is marked running."""
        if run.kind != "accept":  # a key removed since the session began: say so now, not mid-run
            self.images.registry.get(self.sessions.get(session_id).image_provider)
        with self.sessions.locked(session_id):
            control = self.runs.reserve(session_id)
            try:
                self.sessions.update(session_id, lambda s: _checked_start(s, run, check))
            except BaseException:
                self.runs.release(control)
                raise
        self.runs.launch(control, lambda ctl: self._guarded(ctl, job), wait)

    def _guarded(self, ctl: RunControl, job: Callable[[RunControl], None]) -> None:
        """Runs a job; a bug inside it still leaves the session in an honest, failed state."""
        with log_context(session_id=ctl.session_id):
            try:
                job(ctl)
            except StorageFailed as exc:  # a full disk: the run ends failed with what it kept
                log.warning("run stopped by storage", extra={"code": exc.code})
                self._finish(ctl, "error", _error(exc), recommend=False)
            except Exception as exc:
                log.exception("run failed unexpectedly")
                self._finish(ctl, "error", _unexpected(exc), recommend=False)

    def _image_model(self, session: Session) -> str | None:
        caps = self.images.capabilities(session.image_provider)
        return self.costs.image_model(session, caps.defaults, caps.models)

    # Jobs ---------------------------------------------------------------------------------------

    def _baseline(self, ctl: RunControl) -> None:
        session = self.sessions.get(ctl.session_id)
        caps = self.images.capabilities(session.image_provider)
        prices = self.costs.prices(session, self._image_model(session))
        it = Iteration(
            index=0,
            prompt_text=session.prompt_text,
            prompt_diff="baseline",
            user_feedback=session.user_feedback,
            provider=session.image_provider,
        )
        it = self._produce(ctl, session, it, caps, prices)
        self.sessions.update(ctl.session_id, lambda s: _set_best(s, 0 if _judged(it) else None))
        if it.status == "failed":
            self._finish(ctl, "error", it.error, recommend=False, status_ok="draft")
        else:
            self._finish(ctl, "completed", None, recommend=False, status_ok="draft")

    def _edit(self, ctl: RunControl, edit_from: int, wish: str | None) -> None:
        """A new iteration that edits iteration `edit_from`'s image; judged, then compared with
        the best (both orders), whose place it takes only on a win."""
        session = self.sessions.get(ctl.session_id)
        caps = self.images.capabilities(session.image_provider)
        prices = self.costs.prices(
            session, self._image_model(session), _inputs_per_image(session, "edit")
        )
        base = session.iteration(edit_from)
        assert base is not None  # checked at the start
        it = Iteration(
            index=max(x.index for x in session.iterations) + 1,
            prompt_text=session.prompt_text,
            prompt_diff=f"edit of iteration {edit_from}",
            based_on=edit_from,
            edited_from=edit_from,
            user_feedback=session.user_feedback,
            provider=session.image_provider,
        )
        told = self.prompts.edit_instruction(base.prompt_text, session.prompt_text, caps, wish)
        it = self._produce(ctl, session, it, caps, prices, edit=told)
        error = it.error if it.status == "failed" else None
        if error is None:
            error = self._compete(ctl, session, it, caps)
        status: SessionStatus = "done" if session.optimized() else "draft"
        self._finish(ctl, "error" if error else "completed", error, False, status)

    def _compete(
        self, ctl: RunControl, session: Session, it: Iteration, caps: ProviderCapabilities
    ) -> ErrorInfo | None:
        """An edited image against the best (pairwise, both orders); the best with no best yet."""
        best = self.sessions.get(ctl.session_id).best()
        if best is None:
            self.sessions.update(ctl.session_id, lambda s: _set_best(s, it.index))
            return None
        try:
            comparison = self._pairwise(ctl, session, it, best, caps)
        except AppError as exc:
            return _error(exc)
        self._record_comparison(ctl, it, comparison, None)
        return None

    def _optimize(self, ctl: RunControl, plan: RunPlan) -> None:
        session = self.sessions.get(ctl.session_id)
        budget = Budget(plan.budget_usd)
        prices = self.costs.prices(
            session, self._image_model(session), _inputs_per_image(session, plan.mode)
        )
        caps = self.images.capabilities(session.image_provider)
        try:
            self._current_checklist(ctl, session)
            if not self._rejudge_incumbent(ctl, caps, prices, budget):
                return self._finish(ctl, "budget", None)
        except AppError as exc:
            return self._finish(ctl, "error", _error(exc))
        # Late candidates outlive their round: the executor belongs to the run, and every one of
        # them is done (judged and saved) before the run's ending is written.
        workers = 3 * max(1, plan.candidates)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="candidate") as pool:
            first_index = max(it.index for it in session.iterations) + 1
            run = RunState(plan, caps, prices, budget, pool, first_index, session.next_round())
            run.claimed.update(it.prompt_text for it in session.iterations)
            reason, error = self._rounds(ctl, run)
            reason, error = self._wrap_up(ctl, run, reason, error)
        return self._finish(ctl, reason, error)

    def _rounds(self, ctl: RunControl, run: RunState) -> Outcome:
        """The plan's rounds, until one of them or a stop rule ends the run: how it ends."""
        for n in range(run.plan.rounds):
            if ctl.cancelled:
                return self._cancel_outcome(ctl)
            session = self.sessions.get(ctl.session_id)
            if session.best() is None:  # the re-judgement failed: nothing to compare with
                return "error", session.error
            k = run.budget.affordable(run.prices, run.plan.candidates)
            if k == 0:
                return "budget", None
            outcome = self._paid_round(ctl, run, session, k, last=n == run.plan.rounds - 1)
            if outcome is not None:
                return outcome
            reason = stop_after_round(self.sessions.get(ctl.session_id), run.plan)
            if reason is not None:
                return reason, None
        return "completed", None

    def _paid_round(
        self, ctl: RunControl, run: RunState, session: Session, k: int, last: bool
    ) -> Outcome | None:
        """One round of `k` candidates. Each candidate's price is reserved when it is submitted
        and settled when it finishes (on time or late); the comparison's when it is made."""
        incumbent = session.best()
        assert incumbent is not None  # checked by the caller
        mode = session.run.mode if session.run else "generate"
        rnd = _Round(run.take_round(), incumbent, session, run.caps, run.prices, mode)
        rnd.claimed, rnd.lock = run.claimed, run.claim_lock
        reserved = 2 * run.prices.of("pairwise")
        run.budget.reserve(reserved)
        try:
            futures = [self._submit(ctl, run, rnd, c) for c in range(k)]
            # The last round, a single candidate, or no money held for a closing comparison:
            # the round waits for all its candidates (and the last for every late one).
            early = self.close_policy.close_early and not last and k > 1
            wait_all = not (early and run.hold_closing())
            made, late = gather(futures, self.close_policy, wait_all, _judged)
            made += run.drain() if last else run.arrived()
            run.late += late
            log.info("round closed", extra={"round": rnd.number, "late": len(late)})
            return self._round(ctl, rnd, made)
        finally:
            run.budget.settle(reserved, rnd.spent_comparing)
            if not run.late:
                run.release_closing()

    def _submit(self, ctl: RunControl, run: RunState, rnd: _Round, c: int) -> Candidate:
        """Starts candidate `c` on the run's executor with its own index, reserved now."""
        index, reserved = run.take_index(), run.prices.candidate()
        run.budget.reserve(reserved)
        work = copy_context().run
        return run.pool.submit(work, self._paid_candidate, ctl, run, rnd, c, index, reserved)

    def _paid_candidate(
        self, ctl: RunControl, run: RunState, rnd: _Round, c: int, index: int, reserved: float
    ) -> Iteration | None:
        it: Iteration | None = None
        try:
            it = self._candidate(ctl, rnd, c, index)
            return it
        finally:
            run.budget.settle(reserved, run.prices.spent_on(it) if it is not None else 0.0)

    def _wrap_up(
        self, ctl: RunControl, run: RunState, reason: StopReason, error: ErrorInfo | None
    ) -> Outcome:
        """Before the run ends: waits for every late candidate (each judged and saved by its own
        thread), and gives the strongest one never compared a closing pairwise against the best,
        so a late winner can still win. Its price was held when its round closed without it."""
        arrived = [it for it in run.drain() if _judged(it)]
        session = self.sessions.get(ctl.session_id)
        best = session.best()
        if not arrived or best is None or error is not None or ctl.cancelled:
            run.release_closing()
            return reason, error
        strongest = max(arrived, key=_strength)
        try:
            comparison = self._pairwise(ctl, session, strongest, best, run.caps)
        except AppError as exc:
            run.release_closing()
            return "error", _error(exc)
        run.release_closing(_usd(comparison, run.held))
        self._record_comparison(ctl, strongest, comparison, None)
        return reason, None

    def _accept(self, ctl: RunControl) -> None:
        self.sessions.update(ctl.session_id, _mark_accepted)
        self._finish(ctl, "accepted", None)

    # Rounds -------------------------------------------------------------------------------------

    def _round(self, ctl: RunControl, rnd: _Round, made: list[Iteration]) -> Outcome | None:
        """The round's pool (its candidates that are in, and late ones that arrived since): the
        strongest against the incumbent. A stop, or None."""
        if ctl.cancelled:
            return self._cancel_outcome(ctl)
        judged = [it for it in made if _judged(it)]
        hard = [it for it in made if it.error and it.error.code not in RECOVERABLE_CODES]
        if not judged:
            self.sessions.update(ctl.session_id, lambda s: _count_round(s, won=False))
            if hard:
                return "error", hard[0].error
            return None
        strongest = max(judged, key=_strength)
        try:
            comparison = self._pairwise(ctl, rnd.session, strongest, rnd.incumbent, rnd.caps)
        except AppError as exc:
            self.sessions.update(ctl.session_id, lambda s: _count_round(s, won=False))
            return "error", _error(exc)
        rnd.spent_comparing = _usd(comparison, 2 * rnd.prices.of("pairwise"))
        self._record_comparison(ctl, strongest, comparison, rnd.number)
        return None

    def _pairwise(
        self,
        ctl: RunControl,
        session: Session,
        candidate: Iteration,
        incumbent: Iteration,
        caps: ProviderCapabilities,
    ) -> Comparison:
        return self._step(
            ctl, candidate, "pairwise", lambda: self.compare(session, candidate, incumbent, caps)
        )

    def _record_comparison(
        self, ctl: RunControl, strongest: Iteration, comparison: Comparison, number: int | None
    ) -> None:
        """Stores a comparison on its candidate; a win moves the best. `number`: the round it
        decides (counted for the plateau rule), None for the run's closing comparison."""
        won = comparison.pairwise.result == "win"

        def record(s: Session) -> None:
            it = s.iteration(strongest.index)
            if it is not None:
                it.pairwise = comparison.pairwise
                it.cost.text = it.cost.text.plus(comparison.usage)
                it.timings.pairwise_ms = strongest.timings.pairwise_ms
            charge_text(s, "pairwise", comparison.usage)
            if won:
                _set_best(s, strongest.index)
            if number is not None:
                _count_round(s, won)

        self.sessions.update(ctl.session_id, record)
        log.info(
            "round compared",
            extra={
                "round": number if number is not None else "closing",
                "candidate": strongest.index,
                "late": strongest.round != number,
                "result": comparison.pairwise.result,
            },
        )

    def _candidate(self, ctl: RunControl, rnd: _Round, c: int, index: int) -> Iteration | None:
        """Revise -> generate -> judge for candidate `c`; the saved iteration, or None if skipped."""
        if ctl.cancelled:
            return None
        it = Iteration(
            index=index,
            round=rnd.number,
            candidate=c,
            prompt_text=rnd.incumbent.prompt_text,
            based_on=rnd.incumbent.index,
            user_feedback=rnd.session.user_feedback,
            provider=rnd.session.image_provider,
        )
        try:
            revision = self._step(ctl, it, "revise", lambda: self._revise(rnd, c))
        except AppError as exc:
            it.status, it.error, it.prompt_diff = "failed", _error(exc), "revision failed"
            self._save(ctl, it)
            return it
        it.prompt_text, it.prompt_diff = revision.prompt_text, revision.summary
        it.changed_blocks, it.strategy = revision.changed, revision.strategy
        it.text_model = revision.result.model if revision.result else None
        it.cost.text = revision.usage
        self.sessions.update(ctl.session_id, lambda s: charge_text(s, "revise", revision.usage))
        if revision.result is None:  # changed nothing, twice: no image is paid for
            it.status = "failed"
            it.error = ErrorInfo(
                code="no_change",
                message="The revision changed nothing after the merge, even when asked again; "
                "no image was generated.",
                details={"strategy": revision.strategy},
            )
            self._save(ctl, it)
            return it
        if ctl.cancelled:
            return None
        told = self._as_edit(rnd, revision, it) if rnd.mode == "edit" else None
        return self._produce(ctl, rnd.session, it, rnd.caps, rnd.prices, edit=told)

    def _as_edit(self, rnd: _Round, revision: Revision, it: Iteration) -> RenderedPrompt:
        """Edit mode: the candidate edits the incumbent's image, told by the reviser's edit
        instruction (or, without one, the blocks it changed)."""
        it.edited_from = rnd.incumbent.index
        if revision.instruction:
            return RenderedPrompt(text=revision.instruction)
        base = rnd.incumbent.prompt_text
        return self.prompts.edit_instruction(base, revision.prompt_text, rnd.caps, None)

    def _revise(self, rnd: _Round, c: int) -> Revision:
        """One revision; asked once more when it changes nothing or repeats a tried prompt.

        Returns a Revision whose `result` is None when the second answer changed nothing either.
        """
        edit = rnd.mode == "edit"
        first = self.prompts.revise(rnd.session, rnd.incumbent, rnd.caps, c, edit=edit)
        if first.changed and rnd.claim(first.prompt_text):
            return first
        note = (
            "it repeats a prompt already tried in this session (or by another candidate of this "
            "round); write a different revision."
            if first.changed
            else "after the merge it changed nothing (locked blocks and identical texts are "
            "ignored); change at least one unlocked block."
        )
        second = self.prompts.revise(
            rnd.session, rnd.incumbent, rnd.caps, c, retry_note=note, edit=edit
        )
        usage = first.usage.plus(second.usage)
        if second.changed and rnd.claim(second.prompt_text):
            second.usage = usage
            return second
        return Revision(
            rnd.incumbent.prompt_text,
            f"no change ({second.strategy})",
            [],
            None,
            second.strategy,
            usage,
        )

    # Steps --------------------------------------------------------------------------------------

    def _produce(
        self,
        ctl: RunControl,
        session: Session,
        it: Iteration,
        caps: ProviderCapabilities,
        prices: Prices,
        edit: RenderedPrompt | None = None,
    ) -> Iteration:
        """Generates and judges one prompt, saves the iteration (failed or not) and returns it;
        `edit` (an edit instruction) is sent instead of the prompt, with `it.edited_from`'s image.

        An image already paid for stays with its iteration even when judging fails; such an
        iteration is `failed`, never `ok` without a score.
        """
        try:
            rendered = edit or self.prompts.render(it.prompt_text, caps)
            it.rendered_prompt, it.rendered_negative = rendered.text, rendered.negative
            image, name = self._step(
                ctl, it, "generate", lambda: self._generate(session, it, rendered)
            )
            _record_image(it, session.session_id, name, image, prices)
            self.sessions.update(ctl.session_id, lambda s: charge_image(s, it.cost.image_cost_usd))
            self._save(ctl, it)  # the picture shows (and is kept) before judging
            self._judge_new(ctl, session, it, rendered.text)
        except AppError as exc:
            it.status, it.error = "failed", _error(exc)
            log.warning("iteration failed", extra={"iteration": it.index, "code": exc.code})
        self._save(ctl, it)
        return it

    def _generate(
        self, session: Session, it: Iteration, rendered: RenderedPrompt
    ) -> tuple[GeneratedImage, str]:
        """The paid image call: the rendered prompt with the session's references (and, for an
        edit, the image being edited) as the model's input images."""
        return self.images.generate(
            session.session_id,
            it.index,
            session.image_provider,
            rendered,
            session.image_params,
            sources=self._sources(session, it.edited_from),
        )

    def _judge_new(self, ctl: RunControl, session: Session, it: Iteration, rendered: str) -> None:
        """Judges a just-made image and records the verdict on its iteration (saved by the caller)."""
        verdict = self._step(ctl, it, "judge", lambda: self._evaluate(session, rendered, it))
        _record_verdict(it, verdict)
        self.sessions.update(
            ctl.session_id, lambda s: charge_text(s, "judge", verdict.result.usage)
        )

    def _evaluate(self, session: Session, rendered: str, it: Iteration) -> Verdict:
        """Judges a stored image (its once-made judge copy) under the session's current checklist."""
        current = self.sessions.get(session.session_id)
        verdict = self.judge.evaluate(
            current.user_goal,
            rendered,
            flex_service.parse(it.prompt_text).blocks,
            self._judge_image(session.session_id, it),
            current.checklist,
            current.image_params,
            language=current.language,
            references=self._judge_references(current),
        )
        verdict.checklist_version = current.checklist_version  # the rubric it was judged with
        return verdict

    def _judge_image(self, session_id: str, it: Iteration) -> ImageInput:
        if not it.image_path or self.images.storage.media_path(session_id, it.image_path) is None:
            raise Conflict(
                f"The image of iteration {it.index} is missing from storage.",
                code="image_missing",
                details={"iteration": it.index},
            )
        return self.images.judge_input(session_id, it.image_path)

    def compare(
        self,
        session: Session,
        candidate: Iteration,
        incumbent: Iteration,
        caps: ProviderCapabilities,
    ) -> Comparison:
        """The order-swapped pairwise judgement of two stored iterations of a session, each as the
        judge sees it (its compact judge copy, the prompt as sent, its blocks): a round's
        strongest candidate against the incumbent, or a batch goal's best image against its
        first. Reasons come in the person's language."""
        return self.judge.compare(
            session.user_goal,
            session.checklist,
            session.image_params,
            self._judge_view(session.session_id, candidate, caps),
            self._judge_view(session.session_id, incumbent, caps),
            incumbent.index,
            language=session.language,
            references=self._judge_references(session),
        )

    def _judge_references(self, session: Session) -> list[tuple[Reference, ImageInput]]:
        """The session's references as the judge sees them (compact copies), attached first."""
        if self.references is None or not session.references:
            return []
        return self.references.judge_inputs(session)

    def _sources(self, session: Session, edited_from: int | None) -> list[SourceImage]:
        """What the image provider gets with the prompt: the image being edited first (edit
        mode), then the session's references in order."""
        if self.references is None:
            return []
        edited = (
            [] if edited_from is None else [self.references.iteration_source(session, edited_from)]
        )
        return edited + (self.references.sources(session) if session.references else [])

    def _judge_view(self, session_id: str, it: Iteration, caps: ProviderCapabilities) -> Shown:
        """An iteration as the pairwise judge sees it: its image, the prompt it was sent with and
        its blocks."""
        rendered = it.rendered_prompt or self.prompts.render(it.prompt_text, caps).text
        blocks = flex_service.parse(it.prompt_text).blocks
        return self._judge_image(session_id, it), rendered, blocks

    def _current_checklist(self, ctl: RunControl, session: Session) -> None:
        """Writes the checklist again first when the feedback changed since it was written."""
        if not self.checklists.is_stale(session):
            return
        marker = Iteration(index=max(it.index for it in session.iterations) + 1, prompt_text="")
        items, result = self._step(
            ctl, marker, "checklist", lambda: self.checklists.rewrite(session)
        )
        self.sessions.update(
            ctl.session_id, lambda s: apply_rewrite(s, items, result, session.user_feedback)
        )

    def _rejudge_incumbent(
        self, ctl: RunControl, caps: ProviderCapabilities, prices: Prices, budget: Budget
    ) -> bool:
        """Judges the incumbent again under the current checklist; False when the budget says no."""
        session = self.sessions.get(ctl.session_id)
        best = session.best()
        if best is None or best.checklist_version == session.checklist_version:
            return True
        if not budget.reserve(prices.of("judge")):
            return False
        # as it was sent: an edited image's instruction, not its prompt
        rendered = best.rendered_prompt or self.prompts.render(best.prompt_text, caps).text
        verdict = self._step(ctl, best, "rejudge", lambda: self._evaluate(session, rendered, best))
        budget.settle(prices.of("judge"), verdict.result.usage.cost_usd or prices.of("judge"))

        def change(s: Session) -> None:
            it = s.iteration(best.index)
            if it is None:
                return
            it.earlier_judgements.append(
                Judgement(
                    judge_score=it.judge_score,
                    checklist_pass=it.checklist_pass,
                    checklist_version=it.checklist_version,
                )
            )
            _record_verdict(it, verdict)
            charge_text(s, "judge", verdict.result.usage)

        self.sessions.update(ctl.session_id, change)
        return True

    def _step(self, ctl: RunControl, it: Iteration, step: str, work: Callable[[], T]) -> T:
        """Runs one step with the session's steps in flight updated (listeners get the snapshot).

        The `step` start/end events are for in-process followers (the CLI's progress bar); the
        web app's stream carries session snapshots only.
        """
        where = {"iteration": it.index, "round": it.round, "candidate": it.candidate}
        self.sessions.mark(ctl.session_id, lambda s: _set_step(s, it, step))
        ctl.publish("step", {**where, "step": step, "phase": "start"})
        watch, ok = Stopwatch(), False
        try:
            with log_context(step=step, iteration=it.index):
                result = work()
            ok = True
            return result
        finally:
            ms = watch.stop()
            if hasattr(it.timings, f"{step}_ms"):
                setattr(it.timings, f"{step}_ms", ms)
            log.info(
                "step", extra={"step": step, "iteration": it.index, "ok": ok, "latency_ms": ms}
            )
            ctl.publish(
                "step", {**where, "step": step, "phase": "end", "ok": ok, "duration_ms": ms}
            )

    def _save(self, ctl: RunControl, it: Iteration) -> None:
        """Stores the iteration (replacing one with the same index); listeners get the snapshot."""
        self.sessions.update(ctl.session_id, lambda s: _put_iteration(s, it))

    # Endings ------------------------------------------------------------------------------------

    def _cancel_outcome(self, ctl: RunControl) -> tuple[StopReason, ErrorInfo | None]:
        if getattr(ctl, "reason", "cancelled") == "interrupted":
            return "interrupted", INTERRUPTED
        return "cancelled", None

    def _finish(
        self,
        ctl: RunControl,
        reason: StopReason,
        error: ErrorInfo | None,
        recommend: bool = True,
        status_ok: SessionStatus = "done",
    ) -> None:
        """Records how the run ended; recommendations follow off the critical path."""
        if ctl.cancelled and (error is None or error.code in ("cancelled", "interrupted")):
            # A call stopped by a cancel or a shutdown ends the run as such, not as an error.
            reason, error = ctl.reason, INTERRUPTED if ctl.reason == "interrupted" else None
            recommend = recommend and ctl.reason != "interrupted"
        recommend = recommend and error is None

        def finish(s: Session) -> None:
            s.status = "failed" if error else status_ok
            s.error = error
            s.current_step, s.in_flight = None, []
            s.run = s.run or RunInfo(kind="optimize")
            s.run.finished_at, s.run.stop_reason = utc_now(), reason
            _refresh_final(s)
            if recommend:
                s.recommendations_status = "pending"

        session = self._end(ctl, finish)
        log.info(
            "run finished", extra={"stop_reason": reason, "error": error.code if error else None}
        )
        if recommend and session.run and session.status != "failed":
            self._recommend_later(ctl, session.run.started_at)

    def _end(self, ctl: RunControl, finish: Callable[[Session], None]) -> Session:
        """Saves the run's ending and lets go of the session in one step under its lock, so a
        client that sees the ending may start again at once. When the save fails (a full disk), the
        session still ends in memory, failed with the storage error, and is released: cancel and
        feedback answer as for any failed run, and the next save writes the ending along."""
        with self.sessions.locked(ctl.session_id):
            try:
                return self.sessions.update(ctl.session_id, finish)
            except Exception as exc:
                if not isinstance(exc, StorageFailed):
                    log.exception("run ending not saved")
                failure = _error(exc) if isinstance(exc, AppError) else _unexpected(exc)

                def failed(s: Session) -> None:
                    finish(s)
                    s.status, s.error = "failed", failure
                    s.recommendations_status = "none"

                return self.sessions.keep_unsaved(ctl.session_id, failed)
            finally:
                self.runs.release(ctl)

    def _recommend_later(self, ctl: RunControl, run_started: datetime) -> None:
        """Writes the recommendations in their own thread; the run is already done."""
        thread = threading.Thread(
            target=copy_context().run,
            args=(self._recommend, ctl, run_started),
            name=f"recommend-{ctl.session_id[:8]}",
            daemon=True,
        )
        self.runs.start_followup(ctl.session_id, thread)

    def _recommend(self, ctl: RunControl, run_started: datetime) -> None:
        session = self.sessions.get(ctl.session_id)
        error: ErrorInfo | None = None
        recs: list[str] = []
        usage = Usage()
        with log_context(session_id=ctl.session_id, step="recommend"), closing_call():
            try:
                result = self.recommendations.build_summary(session)
                recs, usage = list(result.answer(RecommendOutput).recommendations), result.usage
            except AppError as exc:
                message = f"The run finished but recommendations could not be built: {exc.message}"
                error = ErrorInfo(code=exc.code, message=message, details=exc.details)
            except Exception as exc:  # last line of defence: never leave "pending" behind
                log.exception("recommendations failed unexpectedly")
                error = ErrorInfo(code="internal_error", message=type(exc).__name__)

        def store(s: Session) -> None:
            charge_text(s, "recommend", usage)
            if s.run is None or s.run.started_at != run_started or s.status == "running":
                return  # a newer run owns the session now
            s.recommendations = recs
            s.recommendations_status = "failed" if error else "ready"
            if error:
                s.error = error

        try:
            self.sessions.update(ctl.session_id, store)
        except StorageFailed as exc:  # never leave "pending" behind, in memory at least
            failure = _error(exc)

            def unsaved(s: Session) -> None:
                store(s)
                if s.recommendations_status != "none" and s.status != "running":
                    s.recommendations_status, s.error = "failed", failure

            self.sessions.keep_unsaved(ctl.session_id, unsaved)


# Session changes (applied under the session's lock by SessionService.update) ------------------


def _checked_start(session: Session, run: RunInfo, check: Callable[[Session], Any]) -> None:
    """A start's change: refused (changing nothing) unless the session is idle and `check` passes."""
    ensure_idle(session)
    check(session)
    _mark_running(session, run)


def _not_optimized(session: Session) -> None:
    if session.optimized():
        raise Conflict(
            "This session has been optimized already; the baseline can no longer be replaced.",
            code="invalid_state",
        )


# Stop rules: after each round, the first rule that names a reason ends the run. A rule is a
# small function of the session as the round left it and the plan; add one here to add a stop.
StopRule = Callable[[Session, RunPlan], StopReason | None]


def target_reached(session: Session, plan: RunPlan) -> StopReason | None:
    """The best image scores at least the plan's target."""
    best = session.best()
    reached = best is not None and best.judge_score is not None and best.judge_score >= plan.target
    return "target_reached" if reached else None


def plateau(session: Session, plan: RunPlan) -> StopReason | None:
    """`plateau_rounds` rounds in a row without a pairwise win (0: never)."""
    stalled = session.run.rounds_without_win if session.run else 0
    return "plateau" if plan.plateau_rounds and stalled >= plan.plateau_rounds else None


STOP_RULES: tuple[StopRule, ...] = (target_reached, plateau)


def stop_after_round(session: Session, plan: RunPlan) -> StopReason | None:
    return next((r for rule in STOP_RULES if (r := rule(session, plan)) is not None), None)


def _mark_running(session: Session, run: RunInfo) -> None:
    session.status = "running"
    session.error = None
    session.run = run
    run.started_at = utc_now()  # when it really starts, not when the request was read
    if run.kind != "accept":  # new images make an earlier acceptance and summary stale
        session.accepted = False
        session.recommendations = []
        session.recommendations_status = "none"


def _mark_cancel_requested(session: Session) -> None:
    if session.run:
        session.run.cancel_requested = True


def _mark_accepted(session: Session) -> None:
    session.accepted = True


def _set_step(session: Session, it: Iteration, step: str) -> None:
    now = CurrentStep(iteration=it.index, step=step, round=it.round, candidate=it.candidate)
    session.current_step = now
    session.in_flight = [s for s in session.in_flight if s.iteration != it.index] + [now]


def _set_best(session: Session, index: int | None) -> None:
    session.best_index = index
    _refresh_final(session)


def _count_round(session: Session, won: bool) -> None:
    if session.run:
        session.run.rounds_done += 1
        session.run.rounds_without_win = 0 if won else session.run.rounds_without_win + 1


def _put_iteration(session: Session, it: Iteration) -> None:
    session.in_flight = [s for s in session.in_flight if s.iteration != it.index]
    session.iterations = [x for x in session.iterations if x.index != it.index] + [
        it.model_copy(deep=True)
    ]
    session.iterations.sort(key=lambda x: x.index)


def _refresh_final(session: Session) -> None:
    best = session.best()
    session.final_prompt_text = best.prompt_text if best else None
    session.final_prompt_rendered = best.rendered_prompt if best else None


def _inputs_per_image(session: Session, mode: RunMode) -> int:
    """Input images each image call sends: the references, and in edit mode the image edited."""
    return len(session.references) + (1 if mode == "edit" else 0)


def _judged(it: Iteration) -> bool:
    return it.status == "ok" and it.judge_score is not None


def _strength(it: Iteration) -> tuple[float, int, int]:
    """How a pool ranks its candidates: checklist pass, then score, then the earlier one."""
    return (it.checklist_pass or 0.0, it.judge_score or 0, -it.index)


def _usd(comparison: Comparison, priced: float) -> float:
    """What a comparison cost: its reported figure, else the price it was reserved at."""
    cost = comparison.usage.cost_usd
    return priced if cost is None else cost


def _record_image(
    it: Iteration, session_id: str, name: str, image: GeneratedImage, prices: Prices
) -> None:
    it.image_path, it.image_url = name, media_url(session_id, name)
    it.image_mime, it.image_model = image.mime, image.model
    it.revised_prompt = image.revised_prompt
    it.cost.image_usage = image.usage
    if image.cost_usd is not None:
        it.cost.image_cost_usd = image.cost_usd
    else:
        it.cost.image_cost_usd, it.cost.image_cost_estimated = prices.of("generate"), True


def _record_verdict(it: Iteration, verdict: Verdict) -> None:
    data = verdict.result.answer(JudgeOutput)
    it.status, it.error = "ok", None
    it.judge_score, it.judge_notes = data.score, data.notes
    it.judge_strengths, it.judge_weaknesses = list(data.strengths), list(data.weaknesses)
    it.checklist_results = verdict.checklist_results
    it.checklist_pass = verdict.checklist_pass
    it.checklist_version = verdict.checklist_version
    it.cost.text = it.cost.text.plus(verdict.result.usage)
    it.text_model = it.text_model or verdict.result.model


def _error(exc: AppError) -> ErrorInfo:
    return ErrorInfo(code=exc.code, message=exc.message, details=exc.details)


def _unexpected(exc: BaseException) -> ErrorInfo:
    return ErrorInfo(code="internal_error", message=f"Unexpected error: {type(exc).__name__}")
