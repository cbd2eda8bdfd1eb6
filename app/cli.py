"""`sfumato`: the command line. Headless runs, batch runs with a report, recipes, and `serve`.

Every command builds the same container the web app builds (`build_container`) and calls the same
services the API controller calls, so a session run here is an ordinary session: it appears in the
web app's history. Exit codes: 0 done, 1 failed, 2 bad usage, 3 stopped by the budget,
130 interrupted (Ctrl+C stops after the steps in flight and keeps what finished).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx

from app import __version__
from app.container import Container, build_container
from app.errors import AppError
from app.models.batch_models import BatchOptions, GoalResult, GoalSpec
from app.services.batch_service import Batch, BatchService, parse_goals
from app.settings import Settings
from app.tools.log_tool import configure_logging

EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
POLL_S = 0.1


class Runtime:
    """What the commands share: settings, and the transport tests fake the network with."""

    def __init__(
        self, settings: Settings | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._settings = settings
        self.transport = transport
        self.verbose = False
        self._container: Container | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    def container(self) -> Container:
        if self._container is None:
            s = self.settings
            configure_logging(s.log_level if self.verbose else "WARNING", s.secret_values())
            self._container = build_container(s, self.transport)
        return self._container

    def batches(self) -> BatchService:
        service = self.container().batches
        assert service is not None
        return service

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class _Group(click.Group):
    """Ctrl+C anywhere outside a run's own handling still exits 130, not Click's 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sfumato")
@click.option("-v", "--verbose", is_flag=True, help="Write the app's JSON logs to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """SFUMATO: better image prompts, from the command line."""
    runtime = ctx.ensure_object(Runtime)
    runtime.verbose = verbose
    ctx.call_on_close(runtime.close)


@main.command()
def serve() -> None:
    """Serve the web app (what `make run` serves)."""
    from app.main import run

    run()


# run ------------------------------------------------------------------------------------------


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--provider",
            "-p",
            envvar="SFUMATO_PROVIDER",
            default=None,
            help="Image provider: demo, openai, grok, nano_banana (env SFUMATO_PROVIDER).",
        ),
        click.option(
            "--iterations", "-n", type=click.IntRange(0, 50), help="Optimize rounds (0: none)."
        ),
        click.option(
            "--candidates", "-k", type=click.IntRange(1, 4), help="Candidates per round (1-4)."
        ),
        click.option(
            "--budget-usd",
            type=click.FloatRange(min=0),
            help="Stop before a step the budget cannot pay for (whole session; per goal).",
        ),
        click.option("--target", type=click.IntRange(1, 100), help="Stop at this score."),
        click.option(
            "--plateau",
            type=click.IntRange(0, 20),
            help="Stop after this many rounds without a win (0: never).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable results."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@click.argument("goal", required=False)
@_run_options
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="An image setting, e.g. aspect_ratio=16:9 (repeatable).",
)
@click.option("--feedback", help="What to change, as you would type it in the web app.")
@click.option("--lock", "locks", multiple=True, metavar="BLOCK", help="Keep a block (repeatable).")
@click.option(
    "--from",
    "recipe_file",
    type=click.File("r", encoding="utf-8"),
    help="Run a recipe written by `sfumato export`.",
)
@click.pass_obj
def run(
    rt: Runtime,
    goal: str | None,
    provider: str | None,
    iterations: int | None,
    candidates: int | None,
    budget_usd: float | None,
    target: int | None,
    plateau: int | None,
    as_json: bool,
    params: tuple[str, ...],
    feedback: str | None,
    locks: tuple[str, ...],
    recipe_file: Any,
) -> None:
    """Run one GOAL end to end: prompt, first image, optimize rounds, best image."""
    if bool(goal) == bool(recipe_file):
        raise click.UsageError("Give a GOAL or --from recipe.json (one of them).")
    recipe: dict[str, Any] = {}
    if recipe_file:
        try:
            recipe = json.load(recipe_file)
            spec = BatchService.spec_from_recipe(recipe)
        except (ValueError, AppError) as exc:
            raise click.UsageError(f"Not a usable recipe: {exc}") from None
    else:
        spec = GoalSpec(id="run", goal=goal or "")
    spec = spec.model_copy(
        update={
            "provider": provider or spec.provider or "demo",
            "image_params": {**spec.image_params, **_params(params)},
            "feedback": feedback or spec.feedback,
            "locked_blocks": list(locks) or spec.locked_blocks,
        }
    )
    settings = rt.settings
    options = BatchOptions(
        provider=spec.provider or "demo",
        iterations=(
            iterations
            if iterations is not None
            else int(recipe.get("iterations") or settings.max_iterations_default)
        ),
        candidates=candidates or recipe.get("candidates"),
        budget_usd=budget_usd,
        target_score=target,
        plateau_rounds=plateau,
    )
    service = rt.batches()
    _precheck(service, [spec], options)
    result = _run_with_progress(service, spec, options, quiet=as_json)
    code = _goal_exit(result)
    if as_json:
        click.echo(json.dumps({**_goal_json(rt, result), "exit_code": code}, indent=2))
    else:
        _print_goal(rt, result)
    sys.exit(code)


def _run_with_progress(
    service: BatchService, spec: GoalSpec, options: BatchOptions, quiet: bool
) -> GoalResult:
    """Runs the goal in a worker; this thread shows progress and turns Ctrl+C into a clean stop."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()
    box: dict[str, GoalResult] = {}
    candidates = options.candidates or service.c.settings.candidates_default
    total = 2 + options.iterations * (3 * candidates + 1) + 1
    worker = threading.Thread(
        target=lambda: box.update(
            result=service.run_goal(spec, options, lambda k, d: events.put((k, d)), stop)
        ),
        name="sfumato-run",
        daemon=True,
    )
    err = sys.stderr
    with click.progressbar(
        length=total, label="starting", file=err if not quiet else _Null(), show_pos=True
    ) as bar:
        worker.start()
        try:
            while worker.is_alive() or not events.empty():
                _drain(events, bar, total)
        except KeyboardInterrupt:
            stop.set()
            click.echo("\nStopping after the step in flight (Ctrl+C again to quit now)…", err=True)
            _wait(lambda: not worker.is_alive())
    return box.get("result") or GoalResult(id=spec.id, goal=spec.goal, status="interrupted")


def _drain(events: queue.Queue[tuple[str, Any]], bar: Any, total: int) -> None:
    try:
        kind, data = events.get(timeout=POLL_S)
    except queue.Empty:
        return
    if kind == "step" and isinstance(data, dict):
        where = f"round {data['round']} #{data['candidate']} " if data.get("round") else ""
        bar.label = f"{where}{data.get('step')}"
        if data.get("phase") == "end" and bar.pos < total:
            bar.update(1)
        elif data.get("step") == "best_vs_first":
            bar.update(max(0, total - bar.pos))
        bar.render_progress()


def _wait(done: Callable[[], bool]) -> None:
    """Waits for a clean stop; a second Ctrl+C leaves at once (still exit code 130)."""
    try:
        while not done():
            threading.Event().wait(POLL_S)
    except KeyboardInterrupt:
        click.echo("Quit without waiting.", err=True)
        sys.exit(EXIT_INTERRUPTED)


class _Null:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _params(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE.", param_hint="--param")
        out[name.strip()] = value.strip()
    return out


def _precheck(
    service: BatchService, specs: list[GoalSpec], options: BatchOptions, need_key: bool = True
) -> None:
    """Unknown provider, missing key, bad setting: bad usage (exit 2) before anything is paid."""
    try:
        service.check(specs, options, need_key)
    except AppError as exc:
        raise click.UsageError(exc.message) from None


def _goal_exit(result: GoalResult) -> int:
    if result.status == "interrupted":
        return EXIT_INTERRUPTED
    if result.status != "done":
        return EXIT_FAILED
    return EXIT_BUDGET if result.stop_reason == "budget" else EXIT_DONE


def _goal_json(rt: Runtime, result: GoalResult) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    data["score_uplift"] = _diff(result.first_score, result.best_score)
    data["checklist_uplift"] = _diff(result.first_checklist_pass, result.best_checklist_pass)
    return data


def _diff(first: float | None, best: float | None) -> float | None:
    return None if first is None or best is None else round(best - first, 4)


def _print_goal(rt: Runtime, result: GoalResult) -> None:
    out = click.echo
    if result.session_id:
        out(f"Session        {result.session_id}  (also in the web app's history)")
    if result.error:
        out(f"Failed         {result.error.code}: {result.error.message}")
    if result.status == "interrupted":
        out("Interrupted    finished steps were kept")
    if result.best_image:
        out(f"Best image     {result.best_image}  (iteration {result.best_index})")
    if result.best_score is not None:
        out(
            f"Score          {result.first_score} -> {result.best_score} "
            f"({_signed(_diff(result.first_score, result.best_score))})"
        )
    if result.best_checklist_pass is not None:
        out(
            f"Checklist      {_pct(result.first_checklist_pass)} -> "
            f"{_pct(result.best_checklist_pass)}"
        )
    if result.best_vs_first:
        out(f"Best vs first  {result.best_vs_first} (order-swapped pairwise)")
    out(f"Cost           ${result.cost_usd:.4f}")
    if result.stop_reason:
        out(f"Stopped        {result.stop_reason}")
    if result.best_prompt:
        out("Prompt the provider received:")
        out("  " + result.best_prompt.replace("\n", "\n  "))


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}".replace(".0", "")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


# batch ----------------------------------------------------------------------------------------


@main.command()
@click.argument("goals_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_run_options
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder; run again with the same folder to resume.",
)
@click.option("--estimate", is_flag=True, help="Print what it would cost, run nothing.")
@click.pass_obj
def batch(
    rt: Runtime,
    goals_file: Path,
    provider: str | None,
    iterations: int | None,
    candidates: int | None,
    budget_usd: float | None,
    target: int | None,
    plateau: int | None,
    as_json: bool,
    jobs: int,
    out_dir: Path,
    estimate: bool,
) -> None:
    """Run every goal of GOALS_FILE (text: one a line; or JSON Lines) and write a report."""
    settings = rt.settings
    try:
        specs = parse_goals(goals_file.read_text(encoding="utf-8"), settings.max_goal_chars)
    except AppError as exc:
        raise click.UsageError(exc.message) from None
    options = BatchOptions(
        provider=provider or "demo",
        iterations=settings.max_iterations_default if iterations is None else iterations,
        candidates=candidates,
        budget_usd=budget_usd,
        target_score=target,
        plateau_rounds=plateau,
        jobs=jobs,
    )
    service = rt.batches()
    _precheck(service, specs, options, need_key=not estimate)  # an estimate runs nothing
    if estimate:
        figures = service.estimate(specs, options)
        if as_json:
            click.echo(json.dumps(figures, indent=2, default=str))
        else:
            click.echo(
                f"{figures['goals']} goals on {options.provider}, {options.iterations} rounds x "
                f"{options.candidates or settings.candidates_default} candidates: about "
                f"${figures['usd']:.2f} (${figures['low']:.2f} - ${figures['high']:.2f}) "
                "by the price table."
            )
        return
    running = service.start(specs, options, out_dir)
    interrupted = _follow_batch(service, running, quiet=as_json)
    snapshot = running.snapshot()
    code = _batch_exit(running, interrupted)
    if as_json:
        click.echo(json.dumps({**snapshot, "exit_code": code}, indent=2, default=str))
    else:
        _print_summary(running, out_dir)
    sys.exit(code)


def _follow_batch(service: BatchService, running: Batch, quiet: bool) -> bool:
    """Shows goals as they finish; Ctrl+C stops the batch cleanly. True when interrupted."""
    finished: queue.Queue[GoalResult] = queue.Queue()
    seen: set[str] = set()
    todo = len(running.specs) - running.skipped
    err = sys.stderr
    if running.skipped and not quiet:
        click.echo(f"Resuming: {running.skipped} goal(s) already done are skipped.", err=True)

    def report_new() -> None:
        with running.lock:
            rows = [
                r
                for r in running.report.goals
                if r.status not in ("pending", "running") and r.id not in seen
            ]
        for row in rows:
            seen.add(row.id)
            finished.put(row)

    with running.lock:
        seen.update(r.id for r in running.report.goals if r.status == "done")
    with click.progressbar(
        length=max(todo, 1), label="goals", file=err if not quiet else _Null(), show_pos=True
    ) as bar:
        try:
            while True:
                over = running.finished.wait(POLL_S)
                report_new()
                while not finished.empty():
                    row = finished.get()
                    bar.label = f"{row.id} {row.status}"
                    bar.update(1)
                if over:
                    break
        except KeyboardInterrupt:
            service.cancel(running.batch_id)
            click.echo(
                "\nStopping: goals in flight stop after their current step; finished goals "
                "are kept (Ctrl+C again to quit now)…",
                err=True,
            )
            _wait(running.finished.is_set)
            return True
    return False


def _batch_exit(running: Batch, interrupted: bool) -> int:
    if interrupted or running.status == "cancelled":
        return EXIT_INTERRUPTED
    rows = running.report.goals
    if running.status == "failed" or any(r.status != "done" for r in rows):
        return EXIT_FAILED
    return EXIT_BUDGET if any(r.stop_reason == "budget" for r in rows) else EXIT_DONE


def _print_summary(running: Batch, out_dir: Path) -> None:
    s = running.report.summary
    click.echo(
        f"{s.done}/{s.goals} done, {s.failed} failed. Best vs first: win {_pct(s.win_rate)}, "
        f"loss {_pct(s.loss_rate)}, tie {_pct(s.tie_rate)}. Mean uplift: score "
        f"{_signed(s.mean_score_uplift)}, checklist {_signed_pct(s.mean_checklist_uplift)}. "
        f"Cost ${s.cost_usd:.4f}; {s.seconds:.1f} s."
    )
    for row in running.report.goals:
        if row.status != "done":
            why = f": {row.error.code}: {row.error.message}" if row.error else ""
            click.echo(f"  {row.id} {row.status}{why}")
    click.echo(f"Report: {out_dir / 'report.html'} (also report.md, report.json)")


def _signed_pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.0f} pts"


# export ---------------------------------------------------------------------------------------


@main.command()
@click.argument("session_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the recipe here (default: print it).",
)
@click.pass_obj
def export(rt: Runtime, session_id: str, output: Path | None) -> None:
    """Write a re-runnable recipe of SESSION_ID (`sfumato run --from recipe.json` runs it)."""
    try:
        recipe = rt.batches().recipe(session_id)
    except AppError as exc:
        raise click.UsageError(exc.message) from None
    text = json.dumps(recipe, indent=2, ensure_ascii=False, default=str) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Recipe written to {output}", err=True)
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()
