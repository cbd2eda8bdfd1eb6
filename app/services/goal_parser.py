"""Goals files, recipes and run options into checked `GoalSpec`s and `BatchOptions`.

Every door that runs goals without the web app's session form (a batch from the web app or the
CLI, `sfumato run`, `sfumato run --from recipe.json`) comes through here, and gets the rules
`POST /api/sessions`, `PUT /feedback` and `PUT /checklist` apply: the same pydantic models, the same
Settings limits, the same text hygiene. A bad line is refused before anything runs, with its line
number and field (`details.errors: [{line, field, message}]`), so nothing is created for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import AppError, ValidationFailed, field_problems, invalid_request
from app.limits import MAX_GOALS
from app.models.batch_models import BatchOptions, GoalSpec, Recipe
from app.models.domain_models import FLEX_BLOCKS
from app.models.shared_fields import shared_fields
from app.models.text_rules import normalize_newlines
from app.services import flex_service
from app.tools import reference_image_tool

MAX_LINE_DEPTH = 32  # as a request body (app.endpoints.MAX_JSON_DEPTH)
MAX_REPORTED = 20
Problem = dict[str, Any]


def parse_goals(
    text: str, max_goal_chars: int | None = None, *, settings: Any = None
) -> list[GoalSpec]:
    """Goals from a text file (one per line) or JSON Lines (`goal` and optional fields).

    Blank lines and lines starting with `#` are skipped. A goal without an `id` gets `gNNN` from its
    position, so the same file keeps the same ids (and a batch can resume on them). Limits come
    from `settings` (or just `max_goal_chars`); lines split on LF, CR LF or CR only, so a control
    character inside a line is refused rather than read as a line break.
    """
    context = _context(settings, max_goal_chars)
    specs: list[GoalSpec] = []
    problems: list[Problem] = []
    text = text.removeprefix("\ufeff")  # a byte order mark (Windows editors) is not a goal
    for number, raw in enumerate(normalize_newlines(text).split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            specs.append(_parse_line(line, number, f"g{len(specs) + 1:03d}", context))
        except _LineError as exc:
            problems += exc.problems
    if problems:
        raise _refusal("Goals line", problems)
    _check_whole(specs)
    return specs


def read_goals_file(path: Path, settings: Any = None) -> list[GoalSpec]:
    """A goals file read as `parse_goals` reads text; a file that is not UTF-8 is refused like a
    bad line (naming the line and the byte), not a traceback."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte {exc.start + 1}); save the file as UTF-8"
        problem = {"line": line, "field": "file", "message": message, "type": "not_utf8"}
        raise _refusal("Goals line", [{**problem, "byte": exc.start + 1}]) from None
    return parse_goals(text, settings=settings)


def spec_from_recipe(recipe: Any, settings: Any = None) -> GoalSpec:
    """The goal a recipe (`GET /api/sessions/<id>/recipe`, `sfumato export --recipe`) describes,
    checked as a goals line is; a bad recipe is a `ValidationFailed` naming each bad field."""
    if not isinstance(recipe, dict):
        raise ValidationFailed("A recipe is a JSON object with at least `goal` and `provider`.")
    try:
        parts = Recipe.model_validate(recipe, context=_context(settings, None))
    except ValidationError as exc:
        raise _refusal("Invalid recipe", field_problems(exc, "recipe")) from None
    spec = GoalSpec(
        **shared_fields(parts, GoalSpec, skip=["id"]), id="recipe", prompt_text=parts.final_prompt
    )
    problems = prompt_problems(spec)
    for problem in problems:
        problem["field"] = "final_prompt" if problem["field"] == "prompt_text" else problem["field"]
    if problems:
        raise _refusal("Invalid recipe", problems)
    return spec


def check_specs(specs: list[GoalSpec], settings: Any) -> None:
    """Checks goals again with the deployment's limits, however they were built (a CLI option
    overrides a recipe's locks or feedback after it was read): one refusal listing every problem."""
    problems: list[Problem] = []
    for spec in specs:
        where = {"line": spec.line} if spec.line else {"goal_id": spec.id}
        try:
            checked = GoalSpec.model_validate(spec.model_dump(), context=_context(settings, None))
        except ValidationError as exc:
            problems += [{**where, **e} for e in field_problems(exc, "line")]
            continue
        problems += [{**where, **p} for p in prompt_problems(checked)]
        problems += [{**where, **p} for p in reference_problems(spec)]
    if problems:
        raise _refusal("Goals line" if "line" in problems[0] else "Goal", problems)


def reference_problems(spec: GoalSpec) -> list[Problem]:
    """Each reference must be a data URL of an image within the byte limit: refused here, with
    the rest of the goal, before a batch makes its folder (its pixels are checked when the goal's
    session is made)."""
    problems = []
    for n, ref in enumerate(spec.references):
        field = f"references.{n}.image"
        try:
            reference_image_tool.decode_data_url(ref.image, field)
        except AppError as exc:
            problems.append({"field": field, "message": exc.message, "type": exc.code})
    return problems


ModelT = TypeVar("ModelT", bound=BaseModel)


def check_options(options: BatchOptions, settings: Any) -> BatchOptions:
    """Run options checked with the settings context (iterations at most MAX_ITERATIONS)."""
    return validated(BatchOptions, options.model_dump(), settings)


def validated(model: type[ModelT], data: dict[str, Any], settings: Any) -> ModelT:
    """`model` from `data` with the settings' limits; a `ValidationFailed` listing each field."""
    try:
        return model.model_validate(data, context=_context(settings, None))
    except ValidationError as exc:
        raise invalid_request(exc) from None


def prompt_problems(spec: GoalSpec) -> list[Problem]:
    """A starting prompt must parse as FLEX, and each lock must name one of its blocks (without a
    prompt, one of the blocks every written prompt has)."""
    blocks: list[str] = list(FLEX_BLOCKS)
    if spec.prompt_text is not None:
        try:
            blocks = list(flex_service.parse(spec.prompt_text).blocks)
        except AppError as exc:
            return [{"field": "prompt_text", "message": exc.message, "type": exc.code}]
    unknown = [name for name in spec.locked_blocks if name not in blocks]
    if not unknown:
        return []
    names, have = ", ".join(unknown)[:100], ", ".join(blocks)
    message = f"no such block: {names}; the prompt has {have}"
    return [{"field": "locked_blocks", "message": message, "type": "unknown_blocks",
             "unknown": names, "blocks": have}]  # fmt: skip


def with_line(exc: AppError, spec: GoalSpec) -> AppError:
    """The same error, saying which goal it is about (its line, or its id)."""
    where = f"Goals line {spec.line}" if spec.line else f"Goal '{spec.id}'"
    details = {**exc.details, "line": spec.line, "goal_id": spec.id}
    return type(exc)(f"{where}: {exc.message}", code=exc.code, status=exc.status, details=details)


# One line -------------------------------------------------------------------------------------


class _LineError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0]["message"])
        self.problems = problems


def _parse_line(line: str, number: int, fallback_id: str, context: dict[str, Any]) -> GoalSpec:
    data = _line_data(line, number)
    data = {**data, "id": str(data.get("id") or fallback_id)}
    try:
        spec = GoalSpec.model_validate(data, context=context)
    except ValidationError as exc:
        raise _LineError([{"line": number, **e} for e in field_problems(exc, "line")]) from None
    problems = prompt_problems(spec)
    if problems:
        raise _LineError([{"line": number, **p} for p in problems])
    return spec.at_line(number)


def _line_data(line: str, number: int) -> dict[str, Any]:
    """A JSON object (a line starting with `{`) or a plain goal."""
    if not line.startswith("{"):
        return {"goal": line}
    try:
        data = json.loads(line, parse_constant=_not_json)
    except RecursionError:
        data = None  # nested thousands deep: refused below, as too deep
    except json.JSONDecodeError as exc:
        raise _json_problem(number, "json_invalid", str(exc)[:200], column=exc.colno) from None
    except ValueError as exc:  # NaN, Infinity: Python reads them, JSON has no such values
        raise _json_problem(number, "json_not_standard", str(exc)[:200]) from None
    if data is None or _depth_over(data, MAX_LINE_DEPTH):
        message = f"the JSON is nested more than {MAX_LINE_DEPTH} levels deep"
        raise _json_problem(number, "json_too_deep", message, limit=MAX_LINE_DEPTH)
    if not isinstance(data, dict):
        raise _json_problem(number, "json_not_object", "a JSON line must be an object")
    return data


def _json_problem(number: int, kind: str, message: str, **values: Any) -> _LineError:
    """A line that is not a JSON object: its `type` names why, for a client's own wording."""
    found = {k: v for k, v in values.items() if v is not None}
    return _LineError(
        [{"line": number, "field": "json", "message": message, "type": kind, **found}]
    )


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_over(data: Any, limit: int) -> bool:
    """Iteratively (no recursion): is `data` nested deeper than `limit`?"""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return False


def _check_whole(specs: list[GoalSpec]) -> None:
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValidationFailed(
            f"Goal ids must be unique; repeated: {', '.join(duplicates[:5])}.",
            details={"duplicates": duplicates},
        )
    if not specs:
        raise ValidationFailed("The goals file has no goals.", details={"errors": []})
    if len(specs) > MAX_GOALS:
        raise ValidationFailed(f"A batch holds at most {MAX_GOALS} goals.", details={})


# Errors ---------------------------------------------------------------------------------------


def _refusal(prefix: str, problems: list[Problem]) -> ValidationFailed:
    first = problems[0]
    where = f"{prefix} {first['line']}" if "line" in first else prefix
    return ValidationFailed(
        f"{where}: {first['field']}: {first['message']}",
        details={"errors": problems[:MAX_REPORTED]},
    )


def _context(settings: Any, max_goal_chars: int | None) -> dict[str, Any]:
    """The validation context the request models read their limits from."""
    if settings is None:
        settings = SimpleNamespace(
            max_goal_chars=max_goal_chars,
            max_feedback_chars=None,
            max_prompt_chars=None,
            max_iterations=None,
        )
    return {"settings": settings}
