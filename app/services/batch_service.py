"""Batch runs: many goals, at most J at a time, each through the goal runner (app/services/
goal_runner.py), which `sfumato run` uses for its one goal too. A batch writes its report after
each finished goal (so a stopped batch keeps what finished) and skips the goals already done when
it is started again on the same folder. Provider calls stay bounded process-wide by the image
service's and text model's own slots. Goals files are parsed by app/services/goal_parser.py.

Batches are durable: after every change a batch's whole state (`BatchRecord`: options, goals,
per-goal status and session id, report, status) is written atomically to
`<batches_dir>/<batch_id>/batch.json`, beside or apart from its report files (`out_dir`, the same
folder unless the CLI's `--out` named another). At start-up every batch is loaded back; one that
was `running` when the process died becomes `interrupted` (its running goals too; pending ones stay
pending) and can be resumed: done and failed goals are kept, pending ones start, and an interrupted
goal continues its own session from its last saved iteration, so nothing finished is paid twice.
"""

from __future__ import annotations

import builtins
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import __version__
from app.errors import AppError, Conflict, NotFound
from app.models.batch_models import (
    BatchOptions,
    BatchRecord,
    BatchReport,
    BatchRequest,
    BatchStatus,
    GoalResult,
    GoalSpec,
)
from app.models.domain_models import Session
from app.models.provider_models import TextModel
from app.services.cost_service import CostService
from app.services.goal_parser import (
    check_options,
    check_specs,
    parse_goals,
    with_line,
)
from app.services.goal_runner import (  # noqa: F401  (callers import them from here)
    FINISHED_REASONS,
    RECIPE_VERSION,
    EventSink,
    GoalRunner,
)
from app.services.image_service import ImageService, normalize_params
from app.services.run_service import Event, RunService
from app.settings import Settings
from app.tools import report_tool
from app.tools.log_tool import get_logger
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import is_session_id
from app.utils.string_utils import new_session_id
from app.utils.time_utils import utc_now

log = get_logger("batch")


# Batches --------------------------------------------------------------------------------------


@dataclass
class Batch:
    """A batch in progress (or finished): its report, kept current under `lock`."""

    batch_id: str
    out_dir: Path
    options: BatchOptions
    specs: list[GoalSpec]
    report: BatchReport
    status: BatchStatus = "running"
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    earlier_seconds: float = 0.0
    skipped: int = 0
    thread: threading.Thread | None = None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            data = self.report.model_dump(mode="json")
        return {"batch_id": self.batch_id, "status": self.status, "skipped": self.skipped, **data}


@dataclass(eq=False)
class BatchService:
    """Starts, resumes, saves, lists, cancels and estimates batches; shuts them down cleanly."""

    runner: GoalRunner
    settings: Settings
    images: ImageService
    registry: ProviderRegistry
    costs: CostService
    text_model: TextModel
    runs: RunService
    batches_dir: Path
    _batches: dict[str, Batch] = field(default_factory=dict, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        """Loads every batch back (those a stopped process left running become interrupted)."""
        self.batches_dir = Path(self.batches_dir)
        # The goal runner's: set once the process is stopping (no goal starts after it).
        self._closing = self.runner.closing
        self.recover()

    # One goal, and recipes: the goal runner's (kept here for the CLI and the controller) ---------

    @property
    def run_goal(self) -> Callable[..., GoalResult]:
        """`GoalRunner.run_goal`: one goal end to end (what `sfumato run` does)."""
        return self.runner.run_goal

    def recipe(self, session_id: str) -> dict[str, Any]:
        """`GoalRunner.recipe`: what it takes to run a session again."""
        return self.runner.recipe(session_id)

    # Batches ------------------------------------------------------------------------------------

    def start(
        self,
        specs: list[GoalSpec],
        options: BatchOptions,
        out_dir: Path | None = None,
        on_goal: Callable[[GoalResult], None] | None = None,
    ) -> Batch:
        """Starts a batch in a background thread. Run again on the same `out_dir`, the goals
        already done there are skipped and interrupted ones continue their own sessions; the
        folder's earlier batch, when known, is taken over under its id (one batch per folder)."""
        self._refuse_when_closing()
        batch_id = self._folder_batch_id(out_dir) if out_dir else new_session_id()
        out = Path(out_dir) if out_dir else self.batches_dir / batch_id
        out.mkdir(parents=True, exist_ok=True)
        earlier = report_tool.load_report(out)
        kept = _kept_goals(earlier, specs)
        done = {k: g for k, g in kept.items() if g.status == "done"}
        report = self._report(options, specs, kept, earlier)
        batch = Batch(batch_id, out, options, specs, report, skipped=len(done))
        batch.earlier_seconds = earlier.summary.seconds if earlier and kept else 0.0
        todo = [spec for spec in specs if spec.id not in done]
        report.summary = report_tool.summarize(report.goals, batch.earlier_seconds)
        report_tool.keep_references(self.batches_dir / batch_id, todo)  # the goals to run
        self._save(batch)
        with self._guard:
            self._batches[batch_id] = batch
        self._launch(batch, todo, on_goal)
        return batch

    def _report(
        self,
        options: BatchOptions,
        specs: list[GoalSpec],
        kept: dict[str, GoalResult],
        earlier: BatchReport | None,
    ) -> BatchReport:
        """A batch's first report: a row per goal (the kept ones as they were, the rest new)."""
        rows = [
            kept.get(spec.id)
            or GoalResult(
                id=spec.id,
                goal=spec.goal,
                category=spec.category,
                provider=spec.provider or options.provider,
            )
            for spec in specs
        ]
        return BatchReport(
            provider=options.provider,
            models=self._models(options.provider),
            settings=self._settings(options),
            started_at=earlier.started_at if earlier and kept else utc_now(),
            goals=rows,
        )

    def _folder_batch_id(self, out_dir: Path) -> str:
        """The id of the batch that last wrote to `out_dir` (409 while it runs), or a new one."""
        previous = self.for_out_dir(out_dir)
        if previous is None:
            return new_session_id()
        if previous.status == "running":
            raise Conflict(
                "A batch is running on this folder already.",
                details={"batch_id": previous.batch_id},
            )
        return previous.batch_id

    def resume(self, batch_id: str, on_goal: Callable[[GoalResult], None] | None = None) -> Batch:
        """Runs a stopped batch on: done and failed goals are kept, pending goals start, and an
        interrupted goal continues its own session (only its missing rounds are run)."""
        self._refuse_when_closing()
        batch = self.get(batch_id)
        with self._guard:
            if batch.status == "running":
                raise Conflict(
                    "This batch is running; cancel it or wait for it to end before resuming.",
                    details={"batch_id": batch_id, "status": batch.status},
                )
            batch.status = "running"
            batch.stop, batch.finished = threading.Event(), threading.Event()
        with batch.lock:
            rows = {r.id: r for r in batch.report.goals}
            todo = [s for s in batch.specs if rows[s.id].status in ("pending", "interrupted")]
            batch.skipped = len(batch.specs) - len(todo)
            batch.earlier_seconds = batch.report.summary.seconds
            batch.report.finished_at = None
        self._save(batch)
        self._launch(batch, todo, on_goal)
        return batch

    def _refuse_when_closing(self) -> None:
        if self._closing.is_set():
            raise AppError(
                "The server is stopping; start the batch again once it is back.",
                code="server_stopping",
                status=503,
            )

    def _launch(
        self, batch: Batch, todo: list[GoalSpec], on_goal: Callable[[GoalResult], None] | None
    ) -> None:
        batch.thread = threading.Thread(
            target=copy_context().run,
            args=(self._run_batch, batch, todo, on_goal),
            name=f"batch-{batch.batch_id[:8]}",
            daemon=True,
        )
        batch.thread.start()

    def _run_batch(
        self, batch: Batch, todo: list[GoalSpec], on_goal: Callable[[GoalResult], None] | None
    ) -> None:
        started = time.perf_counter()
        finished = batch.finished  # a resume after the end below brings a new event
        try:
            with ThreadPoolExecutor(
                max_workers=batch.options.jobs, thread_name_prefix="goal"
            ) as pool:
                goals = [pool.submit(copy_context().run, self._one, batch, s, started, on_goal)
                         for s in todo]  # fmt: skip
                for future in goals:
                    future.result()
            status: BatchStatus = (
                "interrupted"
                if self._closing.is_set()
                else "cancelled" if batch.stop.is_set() else "done"
            )
        except Exception:
            log.exception("batch crashed")
            status = "failed"

        def end(report: BatchReport) -> None:
            report.finished_at = utc_now()
            batch.status = status
            if status == "done":  # every goal ran: none needs its kept references again
                for spec in batch.specs:
                    spec.kept_references = []

        self._put(batch, end, started)
        if status == "done":  # the state no longer names them: the files go
            report_tool.drop_references(self.batches_dir / batch.batch_id)
        finished.set()

    def _one(
        self,
        batch: Batch,
        spec: GoalSpec,
        started: float,
        on_goal: Callable[[GoalResult], None] | None,
    ) -> None:
        """One goal of a batch: none starts once the batch is stopped or the process stopping."""
        if self.runner.stopping(batch.stop):
            return
        with batch.lock:
            row = next(r for r in batch.report.goals if r.id == spec.id)
            earlier = row.model_copy() if row.status == "interrupted" else None
        self._put(batch, lambda rep: _set_row(rep, spec.id, status="running"), started)

        def on_event(kind: str, data: Any) -> None:
            if kind == "session":  # recorded at once: a kill from here on resumes this session
                sid = data["session_id"]
                change = lambda rep: _set_row(rep, spec.id, session_id=sid)  # noqa: E731
                self._put(batch, change, started, reports=False)  # the state file is enough

        sid = earlier.session_id if earlier else None
        result = self.runner.run_goal(spec, batch.options, on_event, batch.stop, sid)
        if earlier is not None:
            result.seconds = round(result.seconds + earlier.seconds, 3)
        try:
            report_tool.copy_images(batch.out_dir, result)
        except OSError as exc:
            log.warning("report images not copied", extra={"error": str(exc)[:200]})
        self._put(batch, lambda rep: _set_row(rep, spec.id, result=result), started)
        if on_goal:
            on_goal(result)

    def _put(
        self,
        batch: Batch,
        change: Callable[[BatchReport], None],
        started: float,
        reports: bool = True,
    ) -> None:
        """Changes the report and writes the state (and report) files, under the batch's lock."""
        with batch.lock:
            change(batch.report)
            seconds = batch.earlier_seconds + (time.perf_counter() - started)
            batch.report.summary = report_tool.summarize(batch.report.goals, seconds)
            self._write(batch, reports)
        self._publish(batch)

    def _save(self, batch: Batch) -> None:
        with batch.lock:
            self._write(batch)
        self._publish(batch)

    # Live events: the run service's listeners, keyed apart from sessions ------------------------

    def subscribe(self, batch_id: str) -> queue.Queue[Event]:
        """A queue that gets a `state` snapshot after every change the batch saves."""
        return self.runs.subscribe(_events_key(batch_id))

    def unsubscribe(self, batch_id: str, listener: queue.Queue[Event]) -> None:
        self.runs.unsubscribe(_events_key(batch_id), listener)

    def _publish(self, batch: Batch) -> None:
        """Sends the saved snapshot to the batch's listeners (the web app's batch page)."""
        self.runs.publish(_events_key(batch.batch_id), "state", batch.snapshot())

    def _write(self, batch: Batch, reports: bool = True) -> None:
        """The state file first (what a restart reads), then the report files; caller holds
        the batch's lock."""
        record = BatchRecord(
            batch_id=batch.batch_id,
            status=batch.status,
            out_dir=str(batch.out_dir),
            options=batch.options,
            specs=batch.specs,
            skipped=batch.skipped,
            report=batch.report,
        )
        report_tool.write_state(self.batches_dir / batch.batch_id, record)
        if reports:
            report_tool.write_reports(batch.out_dir, batch.report)

    def recover(self) -> int:
        """Loads every batch saved under `batches_dir`; one that was running when the process
        died is `interrupted` (its running goals too) and its files are rewritten to say so.
        Temporary files of interrupted writes are removed. Returns the number of batches loaded.

        Like the sessions' recovery, this belongs to the process that owns the store: a second
        process would mark batches another one is running as interrupted (until its next write).
        """
        for record in report_tool.load_states(self.batches_dir, is_session_id):
            batch = Batch(
                record.batch_id,
                Path(record.out_dir),
                record.options,
                record.specs,
                record.report,
                status=record.status,
                skipped=record.skipped,
            )
            batch.finished.set()
            report_tool.restore_references(self.batches_dir / batch.batch_id, batch.specs)
            report_tool.remove_temp_files(batch.out_dir)
            if batch.status == "running":
                _mark_interrupted(batch)
                try:
                    self._save(batch)
                except OSError as exc:
                    log.warning("batch state not rewritten", extra={"error": str(exc)[:200]})
            with self._guard:
                self._batches[batch.batch_id] = batch
        return len(self._batches)

    def for_out_dir(self, out_dir: Path) -> Batch | None:
        """The newest batch whose report folder is `out_dir` (for a CLI run again with `--out`)."""
        target = Path(out_dir).resolve()
        with self._guard:
            found = [b for b in self._batches.values() if b.out_dir.resolve() == target]
        return max(found, key=lambda b: b.report.started_at, default=None)

    def cancel(self, batch_id: str) -> Batch:
        batch = self.get(batch_id)
        batch.stop.set()
        return batch

    def get(self, batch_id: str) -> Batch:
        with self._guard:
            batch = self._batches.get(batch_id)
        if batch is None:
            raise NotFound(f"No batch '{batch_id[:64]}'.", details={"batch_id": batch_id[:64]})
        return batch

    def list(self) -> list[dict[str, Any]]:
        with self._guard:
            batches = list(self._batches.values())
        rows = []
        for b in sorted(batches, key=lambda b: b.report.started_at, reverse=True):
            with b.lock:
                rows.append(
                    {
                        "batch_id": b.batch_id,
                        "status": b.status,
                        "provider": b.report.provider,
                        "started_at": b.report.started_at.isoformat(),
                        "summary": b.report.summary.model_dump(mode="json"),
                    }
                )
        return rows

    @property
    def closing(self) -> threading.Event:
        """Set once shutdown began (or a run was interrupted by the process stopping)."""
        return self._closing

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """The process is stopping: no goal starts and no session is created from here on; the
        runs in flight are interrupted by the run service (their sessions say so), goals not yet
        started stay `pending`, and each running batch is saved `interrupted`, ready to resume."""
        self._closing.set()
        with self._guard:
            batches = list(self._batches.values())
        for b in batches:
            b.stop.set()
        self.runs.shutdown()
        for b in batches:
            if b.thread is not None:
                b.thread.join(timeout_s)
            if b.status == "running":  # a goal still stuck after the wait: saved as interrupted
                with b.lock:
                    _mark_interrupted(b)
                    self._write(b)

    # Cost ---------------------------------------------------------------------------------------

    # `builtins.list`: in this class `list` names the method `list`, not the type.
    def take_request(
        self, req: BatchRequest, need_key: bool = True
    ) -> tuple[builtins.list[GoalSpec], BatchOptions]:
        """A web app batch's goals and options, its defaults filled in and checked (`check`):
        the rounds default to MAX_ITERATIONS_DEFAULT; the rest stay None for the run planner."""
        s = self.settings
        specs = parse_goals(req.goals, s.max_goal_chars)
        options = BatchOptions(
            provider=req.provider,
            iterations=s.max_iterations_default if req.iterations is None else req.iterations,
            candidates=req.candidates,
            budget_usd=req.budget_usd,
            target_score=req.target_score,
            plateau_rounds=req.plateau_rounds,
            mode=req.mode,
            jobs=req.jobs,
        )
        self.check(specs, options, need_key)
        return specs, options

    def check(
        self, specs: builtins.list[GoalSpec], options: BatchOptions, need_key: bool = True
    ) -> None:
        """Refuses a batch before anything is paid: more rounds than allowed, an unknown provider,
        a missing key (an estimate runs nothing, so it needs none), a setting a provider lacks."""
        check_options(options, self.settings)
        check_specs(specs, self.settings)
        checked: set[str] = set()
        for spec in specs:
            provider = spec.provider or options.provider
            caps = self.images.capabilities(provider)
            if need_key and provider not in checked:
                self.registry.get(provider)
                checked.add(provider)
            try:
                normalize_params(caps, spec.image_params)
            except AppError as exc:
                raise with_line(exc, spec) from None

    def estimate(self, specs: builtins.list[GoalSpec], options: BatchOptions) -> dict[str, Any]:
        """What the batch would cost by the price table: per goal, the start (prompt and
        checklist), the baseline (image and judge), the optimize run and the best-vs-first call."""
        total = {"usd": 0.0, "low": 0.0, "high": 0.0}
        basis: dict[str, Any] = {}
        for spec in specs:
            provider = spec.provider or options.provider
            caps = self.images.capabilities(provider)
            params = normalize_params(caps, spec.image_params)
            blank = Session(session_id="estimate", user_goal=spec.goal, image_provider=provider)
            blank.image_params = params
            costs = self.costs
            model = costs.image_model(blank, caps.defaults, caps.models)
            # The first image sends the goal's references; each round's image in edit mode
            # sends the image it edits as well (as a session's own estimate counts them).
            refs = len(spec.references)
            prices = costs.prices(blank, model, refs)
            p = prices.per_call
            fixed = p["prompt_gen"] + p["checklist"] + prices.of("generate") + p["judge"]
            fixed += 2 * p["pairwise"]  # best vs first
            rounds = options.iterations
            candidates = options.candidates or self.settings.candidates_default
            per_round = refs + (1 if options.mode == "edit" else 0)
            run = (
                costs.estimate(blank, model, rounds, candidates, None, rejudge=False,
                               sources=per_round)
                if rounds
                else {"usd": 0.0, "low": 0.0, "high": 0.0}
            )  # fmt: skip
            for key in total:
                usd = fixed + run[key]
                if options.budget_usd is not None:
                    usd = min(usd, options.budget_usd)
                total[key] += usd
            basis[provider] = prices.basis
        return {
            **{k: round(v, 4) for k, v in total.items()},
            "goals": len(specs),
            "basis": basis,
        }

    def _models(self, provider: str) -> dict[str, Any]:
        try:
            caps = self.images.capabilities(provider)
            image = caps.defaults.get("model") or (caps.models[0] if caps.models else None)
        except AppError:
            image = None
        return {"image": image, "text": dict(self.text_model.models)}

    def _settings(self, options: BatchOptions) -> dict[str, Any]:
        s = self.settings
        return {
            "iterations": options.iterations,
            "candidates": options.candidates or s.candidates_default,
            "budget_usd": options.budget_usd,
            "target_score": options.target_score or s.target_score_default,
            "plateau_rounds": (
                s.plateau_rounds_default
                if options.plateau_rounds is None
                else options.plateau_rounds
            ),
            "jobs": options.jobs,
            "text_mode": s.text_mode,
            "sfumato_version": __version__,
        }


def _events_key(batch_id: str) -> str:
    """Batch ids look like session ids: the prefix keeps their listeners apart."""
    return f"batch:{batch_id}"


def _mark_interrupted(batch: Batch) -> None:
    """A batch the process stopped under: running goals are interrupted, pending stay pending."""
    batch.status = "interrupted"
    for n, row in enumerate(batch.report.goals):
        if row.status == "running":
            batch.report.goals[n] = row.model_copy(update={"status": "interrupted"})


def _set_row(
    report: BatchReport,
    goal_id: str,
    result: GoalResult | None = None,
    status: str | None = None,
    session_id: str | None = None,
) -> None:
    for n, row in enumerate(report.goals):
        if row.id == goal_id:
            if result is not None:
                report.goals[n] = result
            elif status is not None:
                report.goals[n] = row.model_copy(update={"status": status})
            elif session_id is not None:
                report.goals[n] = row.model_copy(update={"session_id": session_id})


def _kept_goals(earlier: BatchReport | None, specs: list[GoalSpec]) -> dict[str, GoalResult]:
    """The goals an earlier batch in the folder finished or left interrupted that are still
    asked for (same id, same goal): done ones are skipped, interrupted ones continue."""
    return {
        g.id: g
        for g in (earlier.goals if earlier else [])
        if g.status in ("done", "interrupted")
        and any(s.id == g.id and s.goal == g.goal for s in specs)
    }
