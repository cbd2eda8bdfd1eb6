"""A batch's report files: `report.json` (the schema of issue 12), `report.md` and `report.html`.

The folder is self-contained and readable offline: each goal's first and best images are copied
into `images/` next to a small JPEG thumbnail, and the HTML page links thumbnails to full images
by relative paths. Every file is written atomically (temporary file, then rename), so a batch
stopped at any moment leaves a readable report of what had finished.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from pydantic import ValidationError

from app.models.batch_models import BatchReport, BatchSummary, GoalResult
from app.tools.log_tool import get_logger

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
THUMB_PX = 320
log = get_logger("report")
_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html", "jinja2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def summarize(rows: list[GoalResult], seconds: float) -> BatchSummary:
    """The summary line: counts, the best-vs-first rates, mean uplifts, cost and wall time."""
    done = [r for r in rows if r.status == "done"]
    verdicts = [r.best_vs_first for r in done if r.best_vs_first]

    def rate(kind: str) -> float | None:
        return round(verdicts.count(kind) / len(verdicts), 4) if verdicts else None

    def mean_uplift(pairs: list[tuple[float | None, float | None]]) -> float | None:
        diffs = [b - a for a, b in pairs if a is not None and b is not None]
        return round(statistics.fmean(diffs), 4) if diffs else None

    return BatchSummary(
        goals=len(rows),
        done=len(done),
        failed=sum(1 for r in rows if r.status == "failed"),
        win_rate=rate("win"),
        loss_rate=rate("loss"),
        tie_rate=rate("tie"),
        mean_score_uplift=mean_uplift([(r.first_score, r.best_score) for r in done]),
        mean_checklist_uplift=mean_uplift(
            [(r.first_checklist_pass, r.best_checklist_pass) for r in done]
        ),
        cost_usd=round(sum(r.cost_usd for r in rows), 6),
        seconds=round(seconds, 3),
    )


def load_report(out_dir: Path) -> BatchReport | None:
    """An earlier run's report in this folder (to resume), or None."""
    path = Path(out_dir) / "report.json"
    if not path.is_file():
        return None
    try:
        return BatchReport.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        log.warning("earlier report unreadable; starting afresh", extra={"error": str(exc)[:200]})
        return None


def copy_images(out_dir: Path, result: GoalResult) -> None:
    """Copies the goal's first and best images into `images/` (with thumbnails); paths become
    relative to the report folder."""
    folder = Path(out_dir) / "images"
    for which in ("first", "best"):
        source = getattr(result, f"{which}_image")
        if not source or not Path(source).is_absolute():
            continue
        src = Path(source)
        if not src.is_file():
            setattr(result, f"{which}_image", None)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{result.id}_{which}{src.suffix.lower()}"
        shutil.copyfile(src, folder / name)
        with Image.open(src) as image:
            image.thumbnail((THUMB_PX, THUMB_PX))
            image.convert("RGB").save(folder / thumb_name(name), format="JPEG", quality=82)
        setattr(result, f"{which}_image", f"images/{name}")


def thumb_name(name: str) -> str:
    return f"{Path(name).stem}_thumb.jpg"


def write_reports(out_dir: Path, report: BatchReport) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "report.json", report.model_dump_json(indent=2))
    _atomic_write(out / "report.md", render_markdown(report))
    _atomic_write(out / "report.html", render_html(report))


def render_markdown(report: BatchReport) -> str:
    s = report.summary
    lines = [
        f"# SFUMATO batch report: {report.provider}",
        "",
        f"Started {report.started_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", finished {report.finished_at:%Y-%m-%d %H:%M:%S} UTC" if report.finished_at else "")
        + f". Settings: {_settings_line(report)}.",
        "",
        "| goals | done | failed | win | loss | tie | mean score uplift "
        "| mean checklist uplift | cost (USD) | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s.goals} | {s.done} | {s.failed} | {_pct(s.win_rate)} | {_pct(s.loss_rate)} "
        f"| {_pct(s.tie_rate)} | {_num(s.mean_score_uplift)} | {_pts(s.mean_checklist_uplift)} "
        f"| {s.cost_usd:.4f} | {s.seconds:.1f} |",
        "",
        "| id | goal | status | first | best (index) | checklist first -> best "
        "| best vs first | cost (USD) | seconds | error |",
        "|---|---|---|---:|---:|---|---|---:|---:|---|",
    ]
    for g in report.goals:
        error = f"{g.error.code}: {g.error.message}" if g.error else ""
        lines.append(
            f"| {g.id} | {_cell(g.goal)} | {g.status} | {_num(g.first_score)} "
            f"| {_num(g.best_score)} ({_num(g.best_index)}) "
            f"| {_pct(g.first_checklist_pass)} -> {_pct(g.best_checklist_pass)} "
            f"| {g.best_vs_first or '-'} | {g.cost_usd:.4f} | {g.seconds:.1f} | {_cell(error)} |"
        )
    return "\n".join(lines) + "\n"


def report_style() -> str:
    """The text of report.html's inline <style>, exactly as written into every report.

    The server's Content-Security-Policy allows this one style by its hash (app/security.py), so
    the report is styled in the browser without allowing inline styles in general.
    """
    source = (TEMPLATES_DIR / "report.html.jinja2").read_text(encoding="utf-8")
    return source.split("<style>", 1)[1].split("</style>", 1)[0]


def render_html(report: BatchReport) -> str:
    return _ENV.get_template("report.html.jinja2").render(
        report=report,
        summary=report.summary,
        settings_line=_settings_line(report),
        pct=_pct,
        pts=_pts,
        num=_num,
        thumb=lambda path: f"images/{thumb_name(Path(path).name)}" if path else None,
    )


def _settings_line(report: BatchReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in report.settings.items() if v is not None)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _pts(value: float | None) -> str:
    """A difference of two shares, in percentage points."""
    return "-" if value is None else f"{value * 100:+.0f} pts"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f}" if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")[:200]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
