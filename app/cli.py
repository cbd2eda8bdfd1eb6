"""`sfumato`: the command line. Headless runs, batch runs with a report, recipes, and `serve`.

One owner per store (docs/store.md): when a SFUMATO server owns STORAGE_DIR, `run`, `batch` and
`export` do their work through that server's HTTP API, so their sessions are in the web app at once
and the server's live runs are never touched. When no server owns it, the command takes the store's
lock for its own length and builds the same container the web app builds, calling the same services
(another `sfumato` command holding it: exit 2, try again when it is done).

Exit codes: 0 done, 1 failed (or an unexpected error: one line, the traceback only with -v),
2 bad usage (nothing is created), 3 stopped by the budget, 130 interrupted: Ctrl+C or SIGTERM stops
after the steps in flight (the call in flight is closed), records the session interrupted, keeps
what finished and leaves the batch report consistent.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import queue
import re
import signal
import sys
import threading
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, cast

import click
from pydantic import ValidationError

from app import __version__
from app.container import Container, build_container
from app.errors import AppError, field_problems, problems_line
from app.limits import (
    MAX_BATCH_JOBS,
    MAX_BUDGET_USD,
    MAX_CANDIDATES,
    MAX_PLATEAU_ROUNDS,
    MAX_WEB_BATCH_JOBS,
)
from app.models.batch_models import BatchOptions, BatchState, GoalResult, GoalSpec
from app.models.request_models import CreateSessionRequest, ReferenceIn
from app.services import flex_service
from app.services.batch_service import Batch, BatchService
from app.services.goal_parser import parse_goals, spec_from_recipe
from app.settings import Settings
from app.tools import reference_image_tool
from app.tools.api_client_tool import ApiClient
from app.tools.http_tool import Transport
from app.tools.log_tool import configure_logging
from app.tools.provider_registry_tool import PROVIDER_CLASSES, settings_models
from app.tools.store_lock_tool import StoreBusy

EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
POLL_S = 0.1
BATCH_POLL_S = 0.5
SERVER_WAIT_S = 5.0  # how long a server that holds the store may take to answer its health check
SERVER_MAX_JOBS = 8  # what `POST /api/batches` takes (BatchRequest.jobs); more is capped to it
BATCH_RECORD = ".sfumato-batch.json"  # in --out: the server's batch id, so a re-run resumes it
REPORT_FILE = re.compile(r"^(report\.(json|md|html)|images/[A-Za-z0-9_.-]+\.(png|jpe?g|webp))$")
EPILOG = (
    "Exit codes: 0 done, 1 failed, 2 bad usage, 3 stopped by the budget, 130 interrupted "
    "(Ctrl+C or SIGTERM: stops after the step in flight and keeps what finished). With a SFUMATO "
    "server up on the same STORAGE_DIR the work goes through that server (docs/store.md)."
)

# Terminal escaping -------------------------------------------------------------------------------

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def term_safe(text: Any) -> str:
    """Text from a goal, a provider or a file, safe to print: C0 controls other than newline and
    tab, DEL, C1 controls and bidi controls are shown as visible `\\uXXXX` escapes, so a goals
    file cannot move the cursor, recolour the terminal or reorder what is shown."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(text))


class Failure(click.ClickException):
    """One clear line on stderr and an exit code (2 for bad usage unless told otherwise)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(term_safe(message))
        # click reads `exit_code` from the instance; its stub declares a class-wide default only.
        self.exit_code = exit_code  # type: ignore[misc]


def _validation_line(exc: ValidationError) -> str:
    return problems_line(field_problems(exc, "value"))


@dataclass(eq=False)
class Runtime:
    """What the commands share: settings, the transport tests fake the network with, and the way
    to the store: its owning server's API (`connect`) or a container of the command's own.
    `given` is the settings a test passes; None: read from the environment when first needed."""

    given: Settings | None = None
    transport: Transport = None
    api_transport: Transport = None
    verbose: bool = False
    server_wait_s: float = SERVER_WAIT_S
    _container: Container | None = field(default=None, init=False, repr=False)
    _client: ApiClient | None = field(default=None, init=False, repr=False)

    @property
    def settings(self) -> Settings:
        if self.given is None:
            self.given = Settings()
        return self.given

    def _logging(self) -> None:
        s = self.settings
        configure_logging(
            s.log_level if self.verbose else "WARNING", s.secret_values(settings_models())
        )

    def container(self) -> Container:
        """The command's own container; it takes the store's lock (StoreBusy when held)."""
        if self._container is None:
            self._logging()
            self._container = build_container(self.settings, self.transport, owner="cli")
        return self._container

    def connect(self) -> ApiClient | None:
        """The API of the server that owns the store; None once this command owns the store.

        Another `sfumato` command holding the store, or a server that does not answer: exit 2.
        """
        if self._client is not None or self._container is not None:
            return self._client
        deadline = threading.Event()
        timer = threading.Timer(self.server_wait_s, deadline.set)
        timer.start()
        try:
            while True:
                try:
                    self.container()
                    return None
                except StoreBusy as exc:
                    self._client = self._server_of(exc, deadline)
                if self._client is not None:
                    return self._client
                deadline.wait(POLL_S)
        finally:
            timer.cancel()

    def _server_of(self, busy: StoreBusy, deadline: threading.Event) -> ApiClient | None:
        """The owner's client when it is a server that answers; None to try again shortly."""
        owner = busy.details.get("owner") or {}
        if owner and owner.get("kind") != "server":
            raise Failure(f"{busy.message} Try again when it has finished.")
        if owner.get("url"):
            client = ApiClient(str(owner["url"]), self.api_transport)
            if client.healthy():
                self._logging()
                return client
            client.close()
        if deadline.is_set():
            where = f" at {owner['url']}/api/health" if owner.get("url") else ""
            raise Failure(f"{busy.message} It does not answer{where}; is it still starting?")
        return None

    def batches(self) -> BatchService:
        service = self.container().batches
        assert service is not None
        return service

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        if self._client is not None:
            self._client.close()
            self._client = None


class _Group(click.Group):
    """The boundary: no traceback reaches the user. Bad input exits 2 with one clear line, Ctrl+C
    exits 130, anything unexpected one line and 1 (its traceback only with -v)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except AppError as exc:
            raise Failure(exc.message, EXIT_USAGE if exc.status < 500 else EXIT_FAILED) from None
        except ValidationError as exc:
            raise Failure(f"Invalid input: {_validation_line(exc)}") from None
        except UnicodeDecodeError as exc:
            raise Failure(f"Not UTF-8 text: {exc.reason} at byte {exc.start}.") from None
        except ValueError as exc:
            raise Failure(f"Invalid input: {exc}") from None
        except Exception as exc:
            runtime = ctx.find_object(Runtime)
            if runtime and runtime.verbose:
                traceback.print_exc()
            raise Failure(
                f"internal error: {type(exc).__name__}: {exc}; run with -v for details", EXIT_FAILED
            ) from None


class _SettingsHelp(click.Option):
    """An option whose help names limits from Settings (`{max_iterations}`), read when shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        runtime = ctx.find_object(Runtime)
        if record is None or runtime is None:
            return record
        limit: int | str
        try:
            limit = runtime.settings.max_iterations
        except ValidationError:
            limit = "MAX_ITERATIONS"
        text = record[1].replace("{max_iterations}", str(limit))
        return record[0], text.replace("[x>=0]", f"[0<=x<={limit}]")


def _sigterm_is_ctrl_c(ctx: click.Context) -> None:
    """SIGTERM stops `run` and `batch` as Ctrl+C does (same clean stop, exit 130)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
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


def _check_rounds(ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    """-n stays within MAX_ITERATIONS, the limit the API and the batches enforce."""
    limit = ctx.ensure_object(Runtime).settings.max_iterations
    if value is not None and value > limit:
        raise click.BadParameter(f"{value} is more than {limit} (MAX_ITERATIONS).")
    return value


def _check_finite(_ctx: click.Context, _param: click.Parameter, value: float | None) -> Any:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of dollars.")
    return value


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([*_provider_and_rounds(), *_stops_and_mode()]):
        func = option(func)
    return func


def _provider_and_rounds() -> list[Callable[[Any], Any]]:
    """`run` and `batch`: the provider, the rounds and the candidates per round."""
    return [
        click.option(
            "--provider",
            "-p",
            envvar="SFUMATO_PROVIDER",
            default=None,
            help=f"Image provider: {', '.join(PROVIDER_CLASSES)} (env SFUMATO_PROVIDER).",
        ),
        click.option(
            "--iterations",
            "-n",
            cls=_SettingsHelp,
            type=click.IntRange(min=0),
            callback=_check_rounds,
            help="Optimize rounds, 0..{max_iterations} (MAX_ITERATIONS; 0: none).",
        ),
        click.option(
            "--candidates",
            "-k",
            type=click.IntRange(1, MAX_CANDIDATES),
            help=f"Candidates per round, 1..{MAX_CANDIDATES}.",
        ),
    ]


def _stops_and_mode() -> list[Callable[[Any], Any]]:
    """`run` and `batch`: when a run stops, how candidates are made, and the output format."""
    return [
        click.option(
            "--budget-usd",
            type=click.FloatRange(min=0, max=MAX_BUDGET_USD),
            callback=_check_finite,
            help=f"Stop before a step the budget cannot pay for, 0..{MAX_BUDGET_USD} (whole session; per goal).",
        ),
        click.option("--target", type=click.IntRange(1, 100), help="Stop at this score, 1..100."),
        click.option(
            "--plateau",
            type=click.IntRange(0, MAX_PLATEAU_ROUNDS),
            help=f"Stop after this many rounds without a win, 0..{MAX_PLATEAU_ROUNDS} (0: never).",
        ),
        click.option(
            "--mode",
            type=click.Choice(["generate", "edit"]),
            help="generate (default): each candidate is drawn from its prompt; edit: each "
            "candidate edits the best image so far.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable results."),
    ]


@main.command(epilog=EPILOG)
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
    "--ref",
    "refs",
    multiple=True,
    metavar="PATH[:ROLE[:LABEL]]",
    help="A reference image: ROLE subject (default), style or composition; a short LABEL "
    "(repeatable; replaces a recipe's references).",
)
@click.option(
    "--from",
    "recipe_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run a recipe written by `sfumato export`.",
)
@click.pass_context
def run(ctx: click.Context, /, goal: str | None, as_json: bool, **given: Any) -> None:
    """Run one GOAL end to end: prompt, first image, optimize rounds, best image."""
    _sigterm_is_ctrl_c(ctx)
    rt: Runtime = ctx.obj
    spec, options = _run_inputs(rt, goal, given)
    client = rt.connect()
    total = _run_steps(options, options.candidates or rt.settings.candidates_default)
    if client is None:
        service = rt.batches()
        _precheck(service, [spec], options)
        result = _run_with_progress(service, spec, options, total, quiet=as_json)
    else:
        result = _remote_run(client, spec, options, total, quiet=as_json)
    code = _goal_exit(result)
    if as_json:
        click.echo(json.dumps({**_goal_json(result), "exit_code": code}, indent=2))
    else:
        _print_goal(result)
    sys.exit(code)


def _run_inputs(
    rt: Runtime, goal: str | None, given: dict[str, Any]
) -> tuple[GoalSpec, BatchOptions]:
    """The goal and options of `run`, checked as the API and the goals files check them."""
    recipe, spec = _run_spec(goal, given)
    settings = rt.settings
    CreateSessionRequest.model_validate(  # the goal as `POST /api/sessions` checks it
        {"goal": spec.goal, "provider": spec.provider, "image_params": spec.image_params},
        context={"settings": settings},
    )
    _check_locks(spec)
    iterations = given["iterations"]
    if iterations is None:
        iterations = recipe.get("iterations") or settings.max_iterations_default
    options = BatchOptions.model_validate(
        {
            "provider": spec.provider or "demo",
            "iterations": iterations,
            "candidates": given["candidates"] or recipe.get("candidates"),
            "budget_usd": given["budget_usd"],
            "target_score": given["target"],
            "plateau_rounds": given["plateau"],
            "mode": given["mode"],
        }
    )
    if options.iterations > settings.max_iterations:
        raise Failure(f"iterations: {options.iterations} is more than {settings.max_iterations}.")
    return spec, options


def _run_spec(goal: str | None, given: dict[str, Any]) -> tuple[dict[str, Any], GoalSpec]:
    """`run`'s recipe (if any) and its goal: the recipe's fields, then the options over them."""
    if bool(goal) == bool(given["recipe_file"]):
        raise click.UsageError("Give a GOAL or --from recipe.json (one of them).")
    recipe = _read_recipe(given["recipe_file"]) if given["recipe_file"] else {}
    base = spec_from_recipe(recipe) if recipe else GoalSpec(id="run", goal=goal or "")
    fields = {
        **base.model_dump(mode="json", exclude_none=True),
        "provider": given["provider"] or base.provider or "demo",
        "image_params": {**base.image_params, **_params(given["params"])},
        "feedback": given["feedback"] or base.feedback,
        "locked_blocks": list(given["locks"]) or base.locked_blocks,
    }
    spec = parse_goals(json.dumps({k: v for k, v in fields.items() if v is not None}))[0]
    refs = [_reference(value) for value in given.get("refs", ())] or base.references
    return recipe, spec.model_copy(update={"references": refs})


def _reference(value: str) -> ReferenceIn:
    """`--ref PATH[:ROLE[:LABEL]]`: the file read, checked and cleaned here (a bad one stops the
    command before anything is created) and sent as a data URL. A path may hold colons: a ROLE is
    read only where a known role name follows a colon, from the right, and the rest is an
    existing file."""
    path, role, label = _split_reference(value)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Failure(f"--ref {value}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        clean = reference_image_tool.clean(data, f"--ref {path.name}")
        ref = ReferenceIn(
            image=reference_image_tool.data_url(clean.data, clean.mime), role=role, label=label
        )
    except AppError as exc:
        raise Failure(exc.message) from None
    except ValidationError as exc:
        raise Failure(f"--ref {value}: {_validation_line(exc)}") from None
    return ref


def _split_reference(value: str) -> tuple[Path, Any, str]:
    """(path, role, label) of a `--ref` value; the whole value is the path when it is a file."""
    if Path(value).is_file():
        return Path(value), "subject", ""
    for end in range(len(value), 0, -1):
        for role in ("subject", "style", "composition"):
            head = value[:end]
            if head.endswith(f":{role}") and Path(head[: -len(role) - 1]).is_file():
                rest = value[end:]
                if rest == "" or rest.startswith(":"):
                    return Path(head[: -len(role) - 1]), role, rest[1:]
    raise Failure(
        f"--ref {value}: no such file (write PATH, PATH:ROLE or PATH:ROLE:LABEL; ROLE is subject, "
        "style or composition)."
    )


def _read_recipe(path: Path) -> dict[str, Any]:
    try:
        recipe = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # not JSON, or not UTF-8
        raise Failure(f"Not a usable recipe: {exc}") from None
    if not isinstance(recipe, dict):
        raise Failure("Not a usable recipe: it must be a JSON object.")
    try:
        spec_from_recipe(recipe)
    except (AppError, ValidationError) as exc:
        why = _validation_line(exc) if isinstance(exc, ValidationError) else exc.message
        raise Failure(f"Not a usable recipe: {why}") from None
    return recipe


def _check_locks(spec: GoalSpec) -> None:
    """An unknown block to lock is refused before anything is created (the session would fail)."""
    blocks = (
        flex_service.parse(spec.prompt_text).blocks if spec.prompt_text else flex_service.LABELS
    )
    unknown = [name for name in spec.locked_blocks if name not in blocks]
    if unknown:
        raise Failure(
            f"Cannot lock {', '.join(unknown)}: the prompt has no such block "
            f"(blocks: {', '.join(blocks)})."
        )


def _run_steps(options: BatchOptions, candidates: int) -> int:
    """Steps of a run for the progress bar: the baseline's two, each round's, best vs first."""
    return 2 + options.iterations * (3 * candidates + 1) + 1


def _run_with_progress(
    service: BatchService, spec: GoalSpec, options: BatchOptions, total: int, quiet: bool
) -> GoalResult:
    """Runs the goal in a worker; this thread shows progress and turns Ctrl+C into a clean stop."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()
    box: dict[str, GoalResult] = {}
    worker = threading.Thread(
        target=lambda: box.update(
            result=service.run_goal(spec, options, lambda k, d: events.put((k, d)), stop)
        ),
        name="sfumato-run",
        daemon=True,
    )
    with _bar(total, "starting", quiet) as bar:
        worker.start()
        try:
            while worker.is_alive() or not events.empty():
                _drain(events, bar, total)
        except KeyboardInterrupt:
            stop.set()
            _say_stopping()
            _wait(lambda: not worker.is_alive())
    return box.get("result") or GoalResult(id=spec.id, goal=spec.goal, status="interrupted")


def _bar(total: int, label: str, quiet: bool) -> Any:
    return click.progressbar(
        length=max(total, 1),
        label=label,
        # _Null has the three methods the bar calls (write, flush, isatty); it is no TextIO.
        file=sys.stderr if not quiet else cast(TextIO, _Null()),
        show_pos=True,
    )


def _say_stopping() -> None:
    click.echo("\nStopping after the step in flight (Ctrl+C again to quit now)…", err=True)


def _drain(events: queue.Queue[tuple[str, Any]], bar: Any, total: int) -> None:
    try:
        kind, data = events.get(timeout=POLL_S)
    except queue.Empty:
        return
    if kind == "step" and isinstance(data, dict):
        where = f"round {data['round']} #{data['candidate']} " if data.get("round") else ""
        bar.label = term_safe(f"{where}{data.get('step')}")
        if data.get("phase") == "end" and bar.pos < total:
            bar.update(1)
        elif data.get("step") == "best_vs_first":
            bar.update(max(0, total - bar.pos))
        bar.render_progress()


def _wait(done: Callable[[], bool], every_s: float = POLL_S) -> None:
    """Waits for a clean stop; a second Ctrl+C (or SIGTERM) leaves at once (still exit 130)."""
    try:
        while not done():
            threading.Event().wait(every_s)
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
            raise click.BadParameter(
                f"'{term_safe(pair)}' is not NAME=VALUE.", param_hint="--param"
            )
        out[name.strip()] = value.strip()
    return out


def _precheck(
    service: BatchService, specs: list[GoalSpec], options: BatchOptions, need_key: bool = True
) -> None:
    """Unknown provider, missing key, bad setting: bad usage (exit 2) before anything is paid."""
    try:
        service.check(specs, options, need_key)
    except AppError as exc:
        raise click.UsageError(term_safe(exc.message)) from None


def _remote_run(
    client: ApiClient, spec: GoalSpec, options: BatchOptions, total: int, quiet: bool
) -> GoalResult:
    """`run` through the server: a one-goal batch (the same `run_goal` pipeline), its progress
    fed by the session's event stream; Ctrl+C or SIGTERM cancels the batch and its run."""
    line = spec.model_dump(mode="json", exclude_none=True)
    if spec.references:  # left out of a spec's dump (app.models.batch_models): sent here
        line["references"] = [r.model_dump() for r in spec.references]
    goal_line = json.dumps(line)
    state = client.start_batch(_batch_body(options, goal_line, jobs=1))
    batch_id = state["batch_id"]
    interrupted = False
    with _bar(total, "starting", quiet) as bar:
        try:
            state = _follow_remote_goal(client, state, spec, bar, total)
        except KeyboardInterrupt:
            interrupted = True
            _say_stopping()
            _cancel_remote(client, batch_id, _goal_session(client, state, spec))
            _wait(lambda: client.batch(batch_id)["status"] != "running")
            state = client.batch(batch_id)
    result = GoalResult.model_validate(state["goals"][0])
    if interrupted and result.status in ("pending", "running"):
        result.status = "interrupted"
    return result


def _batch_body(options: BatchOptions, goals: str, jobs: int) -> dict[str, Any]:
    """`POST /api/batches`: the goals file's text and the options (unset ones left out)."""
    return {**options.model_dump(exclude_none=True), "goals": goals, "jobs": jobs}


def _follow_remote_goal(
    client: ApiClient, state: dict[str, Any], spec: GoalSpec, bar: Any, total: int
) -> dict[str, Any]:
    """Shows the goal's session snapshots until its batch ends; returns the batch's last state."""
    session_id: str | None = None
    while state["status"] == "running":
        session_id = session_id or _goal_session(client, state, spec)
        if session_id:
            for _kind, snapshot in client.events(session_id):
                _show_snapshot(bar, total, snapshot)
        threading.Event().wait(POLL_S)
        state = client.batch(state["batch_id"])
    bar.update(max(0, total - bar.pos))
    return state


def _goal_session(client: ApiClient, state: dict[str, Any], spec: GoalSpec) -> str | None:
    """The session the server made for the goal: from its report row when the row names it, else
    the newest session with the goal's text made since the batch started."""
    row = state["goals"][0]
    if row.get("session_id"):
        return str(row["session_id"])
    started = datetime.fromisoformat(state["started_at"])
    for summary in client.sessions(limit=20):
        made = datetime.fromisoformat(summary["created_at"])
        if summary["user_goal"] == spec.goal.strip() and made >= started:
            return str(summary["session_id"])
    return None


def _show_snapshot(bar: Any, total: int, snapshot: dict[str, Any]) -> None:
    """The progress bar from a session snapshot: its step in flight and the steps finished."""
    step = snapshot.get("current_step") or {}
    if step.get("step"):
        where = f"round {step['round']} #{step['candidate']} " if step.get("round") else ""
        bar.label = term_safe(f"{where}{step['step']}")
    finished = [
        it
        for it in snapshot.get("iterations") or []
        if it.get("judge_score") is not None or it.get("status") == "failed"
    ]
    done = sum(2 if it.get("index") == 0 else 3 for it in finished)
    run = snapshot.get("run") or {}
    if run.get("kind") == "optimize":
        done += int(run.get("rounds_done") or 0)
    if min(done, total - 1) > bar.pos:
        bar.update(min(done, total - 1) - bar.pos)
    bar.render_progress()


def _cancel_remote(client: ApiClient, batch_id: str, session_id: str | None) -> None:
    """Stops the batch (goals in flight stop after their step) and the session's run at once."""
    client.cancel_batch(batch_id)
    if session_id:
        with contextlib.suppress(AppError):  # not running (any more): nothing to stop
            client.cancel_session(session_id)


# What a result made by the offline stand-ins says, on screen and in `--json` ("demo": true).
DEMO_NOTICE = (
    "offline demo: the images were drawn locally and the prompts, judging and comparisons came "
    "from a rule-based stand-in, not from Grok or an image provider. These figures are not real "
    "results; set the keys in .env for real ones."
)


def is_demo(state: BatchState) -> bool:
    """A batch run by the offline stand-ins: the demo provider or the offline text model."""
    return (
        state.provider == "demo"
        or state.settings.get("text_mode") == "offline"
        or any(g.demo for g in state.goals)
    )


def _goal_exit(result: GoalResult) -> int:
    if result.status == "interrupted":
        return EXIT_INTERRUPTED
    if result.status != "done":
        return EXIT_FAILED
    return EXIT_BUDGET if result.stop_reason == "budget" else EXIT_DONE


def _goal_json(result: GoalResult) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    data["score_uplift"] = _diff(result.first_score, result.best_score)
    data["checklist_uplift"] = _diff(result.first_checklist_pass, result.best_checklist_pass)
    return data


def _diff(first: float | None, best: float | None) -> float | None:
    return None if first is None or best is None else round(best - first, 4)


def _print_goal(result: GoalResult) -> None:
    def out(text: str) -> None:
        click.echo(term_safe(text))

    if result.demo:
        out(f"Demo           {DEMO_NOTICE}")
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
    if result.best_negative:
        out("Negative prompt it received apart:")
        out("  " + result.best_negative.replace("\n", "\n  "))


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}".replace(".0", "")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


# batch ----------------------------------------------------------------------------------------


@main.command(epilog=EPILOG)
@click.argument("goals_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_run_options
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, MAX_BATCH_JOBS),
    default=1,
    show_default=True,
    help=f"Goals at once, 1..{MAX_BATCH_JOBS} (1..{MAX_WEB_BATCH_JOBS} through a server).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder; run again with the same folder to resume.",
)
@click.option("--estimate", is_flag=True, help="Print what it would cost, run nothing.")
@click.pass_context
def batch(
    ctx: click.Context,
    /,
    goals_file: Path,
    as_json: bool,
    jobs: int,
    out_dir: Path,
    estimate: bool,
    **given: Any,
) -> None:
    """Run every goal of GOALS_FILE (text: one a line; or JSON Lines) and write a report."""
    _sigterm_is_ctrl_c(ctx)
    rt: Runtime = ctx.obj
    text = goals_file.read_text(encoding="utf-8")  # not UTF-8: exit 2 at the boundary
    specs = parse_goals(text, rt.settings.max_goal_chars)  # a bad line: exit 2, nothing runs
    options = _batch_options(rt.settings, given, jobs)
    client = rt.connect()
    if estimate:
        _print_estimate(rt, client, specs, text, options, as_json)
        return
    if client is None:
        state, interrupted = _local_batch(rt, specs, options, out_dir, as_json)
    else:
        state, interrupted = _remote_batch(client, text, options, out_dir, as_json)
    report = BatchState.model_validate(state)
    code = _batch_exit(report, interrupted)
    if as_json:
        body = {**state, "demo": is_demo(report), "exit_code": code}
        click.echo(json.dumps(body, indent=2, default=str))
    else:
        _print_summary(report, out_dir)
    sys.exit(code)


def _batch_options(settings: Settings, given: dict[str, Any], jobs: int) -> BatchOptions:
    """The batch's options from the command's run options (the settings' default rounds)."""
    iterations = given["iterations"]
    return BatchOptions(
        provider=given["provider"] or "demo",
        iterations=settings.max_iterations_default if iterations is None else iterations,
        candidates=given["candidates"],
        budget_usd=given["budget_usd"],
        target_score=given["target"],
        plateau_rounds=given["plateau"],
        mode=given["mode"],
        jobs=jobs,
    )


def _print_estimate(
    rt: Runtime,
    client: ApiClient | None,
    specs: list[GoalSpec],
    text: str,
    options: BatchOptions,
    as_json: bool,
) -> None:
    """What the batch would cost by the price table (the server's, when one owns the store)."""
    if client is None:
        service = rt.batches()
        _precheck(service, specs, options, need_key=False)  # an estimate runs nothing
        figures = service.estimate(specs, options)
    else:
        figures = client.estimate_batch(_batch_body(options, text, SERVER_MAX_JOBS))
    if as_json:
        click.echo(json.dumps(figures, indent=2, default=str))
        return
    click.echo(
        term_safe(f"{figures['goals']} goals on {options.provider}, ")
        + f"{options.iterations} rounds x "
        f"{options.candidates or rt.settings.candidates_default} candidates: about "
        f"${figures['usd']:.2f} (${figures['low']:.2f} - ${figures['high']:.2f}) "
        "by the price table."
    )


def _local_batch(
    rt: Runtime, specs: list[GoalSpec], options: BatchOptions, out_dir: Path, quiet: bool
) -> tuple[dict[str, Any], bool]:
    service = rt.batches()
    _precheck(service, specs, options)
    running = service.start(specs, options, out_dir)
    interrupted = _follow_batch(service, running, quiet=quiet)
    return running.snapshot(), interrupted


def _follow_batch(service: BatchService, running: Batch, quiet: bool) -> bool:
    """Shows goals as they finish; Ctrl+C stops the batch cleanly. True when interrupted."""
    finished: queue.Queue[GoalResult] = queue.Queue()
    seen: set[str] = set()
    todo = len(running.specs) - running.skipped
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
    with _bar(todo, "goals", quiet) as bar:
        try:
            while True:
                over = running.finished.wait(POLL_S)
                report_new()
                while not finished.empty():
                    row = finished.get()
                    bar.label = term_safe(f"{row.id} {row.status}")
                    bar.update(1)
                if over:
                    break
        except KeyboardInterrupt:
            service.cancel(running.batch_id)
            _say_batch_stopping()
            _wait(running.finished.is_set)
            return True
    return False


def _say_batch_stopping() -> None:
    click.echo(
        "\nStopping: goals in flight stop after their current step; finished goals "
        "are kept (Ctrl+C again to quit now)…",
        err=True,
    )


def _remote_batch(
    client: ApiClient, text: str, options: BatchOptions, out_dir: Path, quiet: bool
) -> tuple[dict[str, Any], bool]:
    """`batch` through the server: start (or resume the batch this --out recorded), follow it,
    then mirror its report files into --out."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = _start_or_resume(client, text, options, out_dir)
    batch_id = state["batch_id"]
    (out_dir / BATCH_RECORD).write_text(
        json.dumps({"batch_id": batch_id, "server": client.base_url}) + "\n", encoding="utf-8"
    )
    interrupted = False
    with _bar(len(state["goals"]), "goals", quiet) as bar:
        try:
            state = _follow_remote_batch(client, state, bar)
        except KeyboardInterrupt:
            interrupted = True
            client.cancel_batch(batch_id)
            _say_batch_stopping()
            _wait(lambda: client.batch(batch_id)["status"] != "running", BATCH_POLL_S)
            state = client.batch(batch_id)
    _mirror_report(client.download_batch(batch_id), out_dir)
    return state, interrupted


def _start_or_resume(
    client: ApiClient, text: str, options: BatchOptions, out_dir: Path
) -> dict[str, Any]:
    """Resumes the batch recorded in --out when the server knows it; else starts a new one."""
    record = out_dir / BATCH_RECORD
    try:
        batch_id = str(json.loads(record.read_text(encoding="utf-8"))["batch_id"])
    except (OSError, ValueError, KeyError, TypeError):
        batch_id = ""
    if batch_id:
        try:
            return client.resume_batch(batch_id)
        except AppError as exc:
            if exc.status not in (404, 405):
                raise
    return client.start_batch(_batch_body(options, text, min(options.jobs, SERVER_MAX_JOBS)))


def _follow_remote_batch(client: ApiClient, state: dict[str, Any], bar: Any) -> dict[str, Any]:
    """Polls the batch until it ends, advancing the bar as goals finish."""
    shown = 0
    while True:
        over = [g for g in state["goals"] if g["status"] not in ("pending", "running")]
        if len(over) > shown:
            bar.label = term_safe(f"{over[-1]['id']} {over[-1]['status']}")
            bar.update(len(over) - shown)
            shown = len(over)
        if state["status"] != "running":
            return state
        threading.Event().wait(BATCH_POLL_S)
        state = client.batch(state["batch_id"])


def _mirror_report(archive: bytes, out_dir: Path) -> None:
    """The server's report folder (report.json, .md, .html, images) copied into --out."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        for name in zipped.namelist():
            if not REPORT_FILE.match(name):
                continue  # nothing outside the report's own files (no ../, no absolute paths)
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_bytes(zipped.read(name))
            temporary.replace(target)


def _batch_exit(state: BatchState, interrupted: bool) -> int:
    if interrupted or state.status == "cancelled":
        return EXIT_INTERRUPTED
    rows = state.goals
    if state.status == "failed" or any(r.status != "done" for r in rows):
        return EXIT_FAILED
    return EXIT_BUDGET if any(r.stop_reason == "budget" for r in rows) else EXIT_DONE


def _print_summary(state: BatchState, out_dir: Path) -> None:
    s = state.summary
    if is_demo(state):
        click.echo(f"Demo: {DEMO_NOTICE}")
    if state.skipped:
        click.echo(f"Resumed: {state.skipped} goal(s) already done were skipped, not run again.")
    click.echo(
        f"{s.done}/{s.goals} done, {s.failed} failed. Best vs first: win {_pct(s.win_rate)}, "
        f"loss {_pct(s.loss_rate)}, tie {_pct(s.tie_rate)}. Mean uplift: score "
        f"{_signed(s.mean_score_uplift)}, checklist {_signed_pct(s.mean_checklist_uplift)}. "
        f"Cost ${s.cost_usd:.4f}; {s.seconds:.1f} s."
    )
    for row in state.goals:
        if row.status != "done":
            why = f": {row.error.code}: {row.error.message}" if row.error else ""
            click.echo(term_safe(f"  {row.id} {row.status}{why}"))
    click.echo(term_safe(f"Report: {out_dir / 'report.html'} (also report.md, report.json)"))


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
    client = rt.connect()
    try:
        recipe = client.recipe(session_id) if client else rt.batches().recipe(session_id)
    except AppError as exc:
        raise click.UsageError(term_safe(exc.message)) from None
    text = json.dumps(recipe, indent=2, ensure_ascii=False, default=str) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(term_safe(f"Recipe written to {output}"), err=True)
    else:
        click.echo(term_safe(text), nl=False)


if __name__ == "__main__":
    main()
