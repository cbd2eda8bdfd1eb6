"""The pipeline's runs: the baseline image, the optimize loop and accepting a result.

Loop semantics (DESIGN.md 2.4): iteration 0 is judged as the baseline; each revision starts from the
best-scoring iteration so far and sees the history of attempts; the loop stops after N iterations or
when a target score is reached; every iteration is saved, even a worse or failed one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from app.errors import AppError, Conflict, ValidationFailed
from app.models.domain_models import (
    CurrentStep,
    ErrorInfo,
    Iteration,
    IterationCost,
    RunInfo,
    Session,
    StepTimings,
    StopReason,
    Usage,
)
from app.models.provider_models import ImageInput
from app.services import flex_service
from app.services.image_service import ImageService
from app.services.judge_service import JudgeService
from app.services.prompt_service import PromptService, Revision
from app.services.recommendation_service import RecommendationService
from app.services.run_service import RunControl, RunService
from app.services.session_service import INTERRUPTED, SessionService
from app.tools.log_tool import get_logger, log_context
from app.utils.time_utils import Stopwatch, utc_now

log = get_logger("optimize")
T = TypeVar("T")
# Failures worth moving past: the next revision may avoid what the provider refused.
RECOVERABLE_CODES = {"content_blocked"}


class OptimizeService:
    def __init__(
        self,
        sessions: SessionService,
        runs: RunService,
        prompts: PromptService,
        images: ImageService,
        judge: JudgeService,
        recommendations: RecommendationService,
    ) -> None:
        self.sessions = sessions
        self.runs = runs
        self.prompts = prompts
        self.images = images
        self.judge = judge
        self.recommendations = recommendations

    # Starting runs ------------------------------------------------------------------------------

    def start_generate(self, session_id: str, wait: bool) -> Session:
        """Generates and judges iteration 0 from the current prompt (replacing an earlier baseline)."""
        session = self.sessions.get(session_id)
        if session.optimized():
            raise Conflict(
                "This session has been optimized already; the baseline can no longer be replaced.",
                code="invalid_state",
            )
        self._start(session_id, RunInfo(kind="generate"), self._baseline, wait)
        return self.sessions.get(session_id)

    def start_optimize(self, session_id: str, iterations: int, target: int, wait: bool) -> Session:
        session = self.sessions.get(session_id)
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
        run = RunInfo(kind="optimize", requested_iterations=iterations, target_score=target)
        job = lambda ctl: self._optimize(ctl, iterations, target)  # noqa: E731
        self._start(session_id, run, job, wait)
        return self.sessions.get(session_id)

    def accept(self, session_id: str) -> Session:
        """Accepts the best image so far: the session is done, with recommendations."""
        if self.sessions.get(session_id).best() is None:
            raise Conflict("There is no judged image to accept yet.", code="invalid_state")
        self._start(session_id, RunInfo(kind="accept"), self._accept, wait=True)
        return self.sessions.get(session_id)

    def cancel(self, session_id: str) -> Session:
        self.sessions.get(session_id)
        if not self.runs.cancel(session_id):
            raise Conflict("Nothing is running for this session.", code="not_running")
        return self.sessions.update(session_id, _mark_cancel_requested)

    def _start(
        self, session_id: str, run: RunInfo, job: Callable[[RunControl], None], wait: bool
    ) -> None:
        if run.kind != "accept":  # a key removed since the session began: say so now, not mid-run
            self.images.registry.get(self.sessions.get(session_id).image_provider)

        def prepare() -> None:
            self.sessions.update(session_id, lambda s: _mark_running(s, run))

        self.runs.start(session_id, lambda ctl: self._guarded(ctl, job), wait, prepare)

    def _guarded(self, ctl: RunControl, job: Callable[[RunControl], None]) -> None:
        """Runs a job; a bug inside it still leaves the session in an honest, failed state."""
        with log_context(session_id=ctl.session_id):
            try:
                job(ctl)
            except Exception as exc:
                log.exception("run failed unexpectedly")
                error = ErrorInfo(
                    code="internal_error", message=f"Unexpected error: {type(exc).__name__}"
                )
                self._finish(ctl, "error", error, recommend=False)

    # Jobs ---------------------------------------------------------------------------------------

    def _baseline(self, ctl: RunControl) -> None:
        session = self.sessions.get(ctl.session_id)
        it = self._produce(ctl, session, 0, Revision(session.prompt_text, "baseline", [], None))
        if it.status == "failed":
            self._finish(ctl, "error", it.error, recommend=False, status_ok="draft")
        else:
            self._finish(ctl, "completed", None, recommend=False, status_ok="draft")

    def _optimize(self, ctl: RunControl, iterations: int, target: int) -> None:
        for _ in range(iterations):
            if ctl.cancelled:
                return self._finish(ctl, "cancelled", None)
            session = self.sessions.get(ctl.session_id)
            base = session.best()
            index, timings = len(session.iterations), StepTimings()
            try:
                revision = self._step(
                    ctl, index, "revise", lambda s=session, b=base: self._revise(s, b), timings
                )
            except AppError as exc:
                self._save(ctl, _failed_revision(session, base, index, exc))
                return self._finish(ctl, "error", _error(exc))
            if ctl.cancelled:
                usage = revision.result.usage if revision.result else Usage()
                self.sessions.update(ctl.session_id, lambda s, u=usage: _add_cost(s, u))
                return self._finish(ctl, "cancelled", None)
            it = self._produce(ctl, session, index, revision, base.index, timings)
            if it.status == "failed" and it.error and it.error.code not in RECOVERABLE_CODES:
                return self._finish(ctl, "error", it.error)
            if it.judge_score is not None and it.judge_score >= target:
                return self._finish(ctl, "target_reached", None)
        return self._finish(ctl, "completed", None)

    def _accept(self, ctl: RunControl) -> None:
        self.sessions.update(ctl.session_id, _mark_accepted)
        self._finish(ctl, "accepted", None)

    # Steps --------------------------------------------------------------------------------------

    def _revise(self, session: Session, base: Iteration) -> Revision:
        caps = self.images.capabilities(session.image_provider)
        return self.prompts.revise(session, base, session.user_feedback, caps)

    def _produce(
        self,
        ctl: RunControl,
        session: Session,
        index: int,
        revision: Revision,
        based_on: int | None = None,
        timings: StepTimings | None = None,
    ) -> Iteration:
        """Generates and judges one prompt, saves the iteration (failed or not) and returns it."""
        prompt_text = revision.prompt_text
        it = _new_iteration(session, index, revision, based_on, timings or StepTimings())
        caps = self.images.capabilities(session.image_provider)
        try:
            rendered = self.prompts.render(prompt_text, caps)
            image, name = self._step(
                ctl,
                index,
                "generate",
                lambda: self.images.generate(
                    session.session_id,
                    index,
                    session.image_provider,
                    rendered,
                    session.image_params,
                ),
                it.timings,
            )
            _record_image(it, session.session_id, name, image)
            self._save(ctl, it, final=False)  # the picture shows (and is kept) before judging
            verdict = self._step(
                ctl,
                index,
                "judge",
                lambda: self.judge.evaluate(
                    session.user_goal,
                    rendered.text,
                    flex_service.parse(prompt_text).blocks,
                    ImageInput(data=image.data, mime=image.mime),
                    session.user_feedback,
                    session.image_params,
                ),
                it.timings,
            )
            _record_verdict(it, verdict)
        except AppError as exc:
            it.status, it.error = "failed", _error(exc)
            log.warning("iteration failed", extra={"iteration": index, "code": exc.code})
        self._save(ctl, it)
        return it

    def _step(
        self,
        ctl: RunControl,
        index: int,
        step: str,
        work: Callable[[], T],
        timings: StepTimings | None = None,
    ) -> T:
        """Runs one step with the session's current step set and start/end events published."""
        self.sessions.update(ctl.session_id, lambda s: _set_step(s, index, step))
        ctl.publish("step", {"iteration": index, "step": step, "phase": "start"})
        watch, ok = Stopwatch(), False
        try:
            with log_context(step=step, iteration=index):
                result = work()
            ok = True
            return result
        finally:
            ms = watch.stop()
            if timings is not None:
                setattr(timings, f"{step}_ms", ms)
            log.info("step", extra={"step": step, "iteration": index, "ok": ok, "latency_ms": ms})
            ctl.publish(
                "step",
                {"iteration": index, "step": step, "phase": "end", "ok": ok, "duration_ms": ms},
            )

    def _save(self, ctl: RunControl, it: Iteration, final: bool = True) -> None:
        """Stores the iteration (replacing one with the same index) and announces it.

        Only the final save of an iteration adds its cost to the session's total.
        """
        self.sessions.update(ctl.session_id, lambda s: _put_iteration(s, it, final))
        ctl.publish("iteration", it.model_dump(mode="json"))

    def _finish(
        self,
        ctl: RunControl,
        reason: StopReason,
        error: ErrorInfo | None,
        recommend: bool = True,
        status_ok: str = "done",
    ) -> None:
        if ctl.cancelled and (error is None or error.code in ("cancelled", "interrupted")):
            # Issue 8: a call stopped by a cancel or a shutdown ends the run as such, not as an error.
            reason, error = ctl.reason, INTERRUPTED if ctl.reason == "interrupted" else None
            recommend = recommend and ctl.reason != "interrupted"
        recs, rec_error, usage = (
            self._recommend(ctl) if recommend and not error else ([], None, Usage())
        )

        def finish(s: Session) -> None:
            s.status = "failed" if error else status_ok  # type: ignore[assignment]
            s.error = error or rec_error
            s.current_step = None
            s.run = s.run or RunInfo(kind="optimize")
            s.run.finished_at, s.run.stop_reason = utc_now(), reason
            _refresh_best(s)
            if recommend and not error:
                s.recommendations = recs
            s.total_cost = s.total_cost.plus(usage)

        self.sessions.update(ctl.session_id, finish)
        log.info(
            "run finished", extra={"stop_reason": reason, "error": error.code if error else None}
        )

    def _recommend(self, ctl: RunControl) -> tuple[list[str], ErrorInfo | None, Usage]:
        session = self.sessions.get(ctl.session_id)
        index = len(session.iterations)
        try:
            result = self._step(
                ctl, index, "recommend", lambda: self.recommendations.build_summary(session)
            )
        except AppError as exc:
            message = f"The run finished but recommendations could not be built: {exc.message}"
            return [], ErrorInfo(code=exc.code, message=message, details=exc.details), Usage()
        return list(result.data.recommendations), None, result.usage


# Session changes (applied under the session's lock by SessionService.update) ------------------


def _mark_running(session: Session, run: RunInfo) -> None:
    session.status = "running"
    session.error = None
    session.run = run
    if run.kind != "accept":  # new images make an earlier acceptance and summary stale
        session.accepted = False
        session.recommendations = []


def _mark_cancel_requested(session: Session) -> None:
    if session.run:
        session.run.cancel_requested = True


def _mark_accepted(session: Session) -> None:
    session.accepted = True


def _set_step(session: Session, index: int, step: str) -> None:
    session.current_step = CurrentStep(iteration=index, step=step)  # type: ignore[arg-type]


def _add_cost(session: Session, usage: Usage) -> None:
    session.total_cost = session.total_cost.plus(usage)


def _put_iteration(session: Session, it: Iteration, final: bool) -> None:
    session.iterations = [x for x in session.iterations if x.index != it.index] + [
        it.model_copy(deep=True)
    ]
    session.iterations.sort(key=lambda x: x.index)
    if final:
        session.total_cost = session.total_cost.plus(it.cost.text)
    _refresh_best(session)


def _refresh_best(session: Session) -> None:
    best = session.best()
    session.best_index = best.index if best else None
    session.final_prompt_text = best.prompt_text if best else None


def _new_iteration(
    session: Session, index: int, revision: Revision, based_on: int | None, timings: StepTimings
) -> Iteration:
    usage = revision.result.usage if revision.result else Usage()
    return Iteration(
        index=index,
        prompt_text=revision.prompt_text,
        prompt_diff=revision.summary,
        changed_blocks=revision.changed,
        based_on=based_on,
        user_feedback=session.user_feedback,
        provider=session.image_provider,
        text_model=revision.result.model if revision.result else None,
        timings=timings,
        cost=IterationCost(text=usage),
    )


def _failed_revision(session: Session, base: Iteration, index: int, exc: AppError) -> Iteration:
    return Iteration(
        index=index,
        prompt_text=base.prompt_text,
        prompt_diff="revision failed",
        based_on=base.index,
        user_feedback=session.user_feedback,
        provider=session.image_provider,
        status="failed",
        error=_error(exc),
    )


def _record_image(it: Iteration, session_id: str, name: str, image: Any) -> None:
    it.image_path, it.image_url = name, f"/media/{session_id}/{name}"
    it.image_mime, it.image_model = image.mime, image.model
    it.revised_prompt = image.revised_prompt
    it.cost.image_usage, it.cost.image_cost_usd = image.usage, image.cost_usd


def _record_verdict(it: Iteration, verdict: Any) -> None:
    data = verdict.data
    it.judge_score, it.judge_notes = data.score, data.notes
    it.judge_strengths, it.judge_weaknesses = list(data.strengths), list(data.weaknesses)
    it.cost.text = it.cost.text.plus(verdict.usage)
    it.text_model = it.text_model or verdict.model


def _error(exc: AppError) -> ErrorInfo:
    return ErrorInfo(code=exc.code, message=exc.message, details=exc.details)
