"""Session export: one session as a zip archive (`GET /api/sessions/<id>/download`) with its
images, every prompt and a markdown summary. Reads through the store; writes nothing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from app.models.domain_models import Session
from app.models.paths import SESSION_FILE
from app.services.session_service import SessionService
from app.tools.reference_image_tool import data_url
from app.tools.storage_tool import StorageTool


class SessionExport:
    def __init__(self, sessions: SessionService, storage: StorageTool) -> None:
        self.sessions = sessions
        self.storage = storage

    def archive(self, session_id: str) -> bytes:
        """One archive: the session, every image, every prompt (FLEX and as sent), the final prompt in
        both forms and a summary."""
        session = self.sessions.get(session_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(SESSION_FILE, session.model_dump_json(indent=2))
            for it in session.iterations:
                archive.writestr(f"prompts/iter_{it.index}.txt", it.prompt_text)
                if it.rendered_prompt:
                    archive.writestr(f"prompts/iter_{it.index}.sent.txt", it.rendered_prompt)
                data = self.storage.read_image(session_id, it.image_path) if it.image_path else None
                if data:
                    archive.writestr(f"images/{it.image_path}", data)
            for ref in session.references:  # issue 19: the references as stored (no metadata)
                data = self.storage.read_image(session_id, ref.file)
                if data:
                    archive.writestr(f"references/{ref.file}", data)
            # Two forms of the result: what the provider received (to paste anywhere) and the FLEX
            # source (to reuse in SFUMATO).
            if session.final_prompt_text:
                archive.writestr("final_prompt.txt", _as_sent(session))
                archive.writestr("final_prompt_flex.txt", session.final_prompt_text)
            archive.writestr("summary.md", _summary_markdown(session))
        return buffer.getvalue()


def recipe_references(storage: StorageTool, session: Session) -> list[dict[str, Any]]:
    """The session's references as a recipe (and `POST /api/sessions`) takes them: each stored
    image as a data URL with its role and label. The images are in the recipe itself, so it runs
    anywhere; a recipe is an export the person asked for, never logged."""
    out = []
    for ref in session.references:
        data = storage.read_image(session.session_id, ref.file)
        if data:
            out.append({"image": data_url(data, ref.mime), "role": ref.role, "label": ref.label})
    return out


def _as_sent(session: Session) -> str:
    """The final prompt as the provider received it, with the negative prompt it got apart (the
    form the web app's "Copy prompt" copies)."""
    best = session.best()
    text = session.final_prompt_rendered or session.final_prompt_text or ""
    negative = best.rendered_negative if best and session.final_prompt_rendered else None
    return f"{text}\n\nNegative prompt: {negative}" if negative else text


def _summary_markdown(session: Session) -> str:
    lines = [
        f"# SFUMATO session {session.session_id}",
        "",
        f"- Goal: {session.user_goal}",
        f"- Provider: {session.image_provider}{' (offline demo)' if session.demo else ''}",
        f"- Text model: {session.text_mode}",
        f"- Status: {session.status}; best iteration: {session.best_index}",
        *[
            f"- Reference {r.id} ({r.role}{': ' + r.label if r.label else ''}): references/{r.file}"
            for r in session.references
        ],
        "",
        "## Iterations",
    ]
    for it in session.iterations:
        score = it.judge_score if it.judge_score is not None else "-"
        outcome = it.error.message if it.error else it.judge_notes
        lines.append(f"- {it.index}: score {score}; {it.prompt_diff or 'baseline'}; {outcome}")
    lines += ["", "## Recommendations", *[f"- {r}" for r in session.recommendations]]
    return "\n".join(lines) + "\n"
