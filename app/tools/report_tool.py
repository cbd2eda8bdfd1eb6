"""A batch's report files: `report.json` (the schema of issue 12), `report.md` and `report.html`.

The folder is self-contained and readable offline: each goal's first and best images are copied
into `images/` next to a small JPEG thumbnail, and the HTML page links thumbnails to full images
by relative paths. Every file is written atomically (temporary file, fsync, then rename), so a
batch stopped at any moment leaves a readable report of what had finished.

The batch's own state (`batch.json`, a `BatchRecord`) is written here too, in
`<batches_dir>/<batch_id>/`; it is what a restart reads to list, open and resume the batch.

Text is escaped for its medium: in `report.md` every cell is one line with Markdown's and HTML's
special characters backslash-escaped or entity-encoded; in `report.html` Jinja2 escapes HTML. In
both, control characters (C0 other than tab and newline, C1) and bidi overrides are dropped.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from pydantic import ValidationError

from app.models.batch_models import (
    BatchRecord,
    BatchReport,
    BatchSummary,
    GoalResult,
    GoalSpec,
    KeptReference,
)
from app.models.request_models import ReferenceIn
from app.tools import reference_image_tool
from app.tools.log_tool import get_logger
from app.tools.storage_tool import atomic_write

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
THUMB_PX = 320
STATE_FILE = "batch.json"
# Beside the state: the goals' reference images until each goal's session holds its own copy (a
# dot folder: never a report file, so never served or zipped).
REFERENCES_DIR = ".references"
_EXT_BY_MIME = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
TEMP_MIN_AGE_S = 60.0
log = get_logger("report")
# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What could end a table cell, open a code span or a link: backslash-escaped in report.md.
_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")
_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html", "jinja2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=lambda value: clean(value) if isinstance(value, str) else value,
)


def summarize(rows: list[GoalResult], seconds: float) -> BatchSummary:
    """The summary line: counts, the best-vs-first rates, mean uplifts, cost and wall time."""
    done = [r for r in rows if r.status == "done"]
    verdicts: list[str] = [r.best_vs_first for r in done if r.best_vs_first]

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
        atomic_write(folder / name, src.read_bytes())  # a kill never leaves half an image
        thumb = io.BytesIO()
        with Image.open(src) as image:
            image.thumbnail((THUMB_PX, THUMB_PX))
            image.convert("RGB").save(thumb, format="JPEG", quality=82)
        atomic_write(folder / thumb_name(name), thumb.getvalue())
        setattr(result, f"{which}_image", f"images/{name}")


def thumb_name(name: str) -> str:
    return f"{Path(name).stem}_thumb.jpg"


def write_reports(out_dir: Path, report: BatchReport) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "report.json", report.model_dump_json(indent=2).encode())
    atomic_write(out / "report.md", render_markdown(report).encode())
    atomic_write(out / "report.html", render_html(report).encode())


def write_state(folder: Path, record: BatchRecord) -> None:
    """Writes `batch.json` atomically (temporary file, fsync, rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / STATE_FILE, record.model_dump_json(indent=2).encode())


def keep_references(folder: Path, specs: list[GoalSpec]) -> None:
    """Writes each goal's reference images into `folder/.references/` (`g<goal>_<n>.<ext>`, as
    they were sent) and records them in `kept_references`, which `batch.json` keeps: a restart
    can then run a goal that had not started with its references. Whatever a spec said it kept
    before is replaced."""
    for number, spec in enumerate(specs, start=1):
        spec.kept_references = [
            _kept(folder, f"g{number:04d}_{n}", ref) for n, ref in enumerate(spec.references, 1)
        ]


def _kept(folder: Path, stem: str, ref: ReferenceIn) -> KeptReference:
    data = reference_image_tool.decode_data_url(ref.image)  # checked by check_specs first
    mime = reference_image_tool.declared_type(ref.image)
    name = f"{stem}.{_EXT_BY_MIME[mime]}"
    (folder / REFERENCES_DIR).mkdir(parents=True, exist_ok=True)
    atomic_write(folder / REFERENCES_DIR / name, data)
    return KeptReference(file=name, mime=mime, role=ref.role, label=ref.label)


def restore_references(folder: Path, specs: list[GoalSpec]) -> None:
    """The references of goals read back from `batch.json` (which never holds the images), from
    the files `keep_references` wrote; a file that is gone is left out with a warning."""
    for spec in specs:
        restored = []
        for kept in spec.kept_references:
            try:
                data = (folder / REFERENCES_DIR / kept.file).read_bytes()
            except OSError:
                log.warning("kept reference missing", extra={"goal_id": spec.id, "file": kept.file})
                continue
            image = reference_image_tool.data_url(data, kept.mime)
            restored.append(ReferenceIn(image=image, role=kept.role, label=kept.label))
        spec.references = restored


def drop_references(folder: Path) -> None:
    """Removes the kept reference images once no goal of the batch can start again."""
    shutil.rmtree(folder / REFERENCES_DIR, ignore_errors=True)


def load_states(batches_dir: Path, is_batch_id: Callable[[str], bool]) -> Iterator[BatchRecord]:
    """Every readable `batch.json` under `batches_dir`, oldest folder name order. A folder with no
    state file (a batch from before states were kept) is passed over; an unreadable one is
    skipped with a warning and left as it is. Temporary files of interrupted writes are removed."""
    root = Path(batches_dir)
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and is_batch_id(p.name)):
        remove_temp_files(folder)
        path = folder / STATE_FILE
        if not path.is_file():
            continue
        try:
            record = BatchRecord.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            log.warning(
                "unreadable batch state; skipped",
                extra={"batch_id": folder.name, "error": str(exc)[:200]},
            )
            continue
        if record.batch_id != folder.name:
            log.warning("batch state names another batch; skipped", extra={"batch_id": folder.name})
            continue
        yield record


def remove_temp_files(folder: Path, min_age_s: float = TEMP_MIN_AGE_S) -> int:
    """Removes the temporary files interrupted writes left in a report folder (and `images/`).

    Only files older than `min_age_s`: a write lives for milliseconds, so a younger one may be
    another process's write in flight (a CLI started beside a server); it goes at a later start.
    """
    removed = 0
    cutoff = time.time() - min_age_s
    for where in (Path(folder), Path(folder) / "images"):
        if not where.is_dir():
            continue
        for path in where.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
    if removed:
        log.warning("batch clean-up", extra={"temp_files": removed, "folder": Path(folder).name})
    return removed


def render_markdown(report: BatchReport) -> str:
    s = report.summary
    lines = [
        f"# SFUMATO batch report: {_cell(report.provider)}",
        "",
        f"Started {report.started_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", finished {report.finished_at:%Y-%m-%d %H:%M:%S} UTC" if report.finished_at else "")
        + f". Settings: {_cell(_settings_line(report), 500)}.",
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


def clean(text: str) -> str:
    """Text without control characters or bidi overrides (tab and newline are kept)."""
    return _CONTROLS.sub("", text)


def _cell(text: str, limit: int = 200) -> str:
    """One Markdown table cell: a single line (every line break and run of spaces becomes one
    space), cut to `limit`, Markdown syntax backslash-escaped and `<`, `>`, `&` entity-encoded so
    no raw HTML reaches a renderer."""
    line = " ".join(clean(text).split())[:limit]
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)
