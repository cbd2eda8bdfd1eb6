"""Reference images on a session (issue 19): added, removed, and handed to the image providers
(their stored bytes), to the judge (a compact copy) and to an edit (an iteration's image).

A reference is cleaned (decoded, checked, re-encoded without metadata: app/tools/
reference_image_tool.py) before the session's lock is taken, then written and recorded under
that lock in one checked step, so a run cannot start half-way through and a refused add leaves
no file behind. Ids are r1, r2, ... in the order given and never reused after a delete.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import Conflict, NotFound, ValidationFailed
from app.limits import MAX_REFERENCE_LABEL_CHARS, MAX_REFERENCES
from app.models.domain_models import Reference, ReferenceRole, Session
from app.models.paths import media_url
from app.models.provider_models import ImageInput, ProviderCapabilities, SourceImage
from app.models.text_rules import refuse_controls
from app.services.image_service import ImageService
from app.services.session_edits import ensure_idle
from app.services.session_service import SessionService
from app.tools import image_codec_tool, reference_image_tool
from app.tools.reference_image_tool import CleanImage
from app.tools.storage_tool import StorageTool

_ROLES: dict[str, ReferenceRole] = {
    "subject": "subject",
    "style": "style",
    "composition": "composition",
}
# Reference ids are r1..r999 (Reference.id's pattern); never reused, so a session can run out.
MAX_REFERENCE_IDS = 999
# Judge copies of references kept in memory (each ~0.2 MB at 1024 px): a few sessions' worth.
JUDGE_CACHE_ITEMS = 64


@dataclass(frozen=True)
class ReferenceUpload:
    """One reference as a door received it: a data URL, its role and label (not checked yet)."""

    image: str
    role: str = "subject"
    label: str = ""


@dataclass(frozen=True)
class CheckedReference:
    """A reference ready to store: its clean picture, role and label."""

    picture: CleanImage
    role: ReferenceRole
    label: str

    def as_reference(self, number: int, file: str = "", url: str = "") -> Reference:
        """The reference a session holds for it, `r<number>` (its file and URL once stored; the
        prompt writer and the checklist of a new session see it before)."""
        picture = self.picture
        return Reference(id=f"r{number}", role=self.role, label=self.label, file=file, url=url,
                         width=picture.width, height=picture.height, mime=picture.mime)  # fmt: skip


class ReferenceService:
    def __init__(
        self,
        sessions: SessionService,
        storage: StorageTool,
        images: ImageService,
        judge_max_px: int = 1024,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.images = images
        self.judge_max_px = judge_max_px
        self._judge_copies: OrderedDict[tuple[str, str], ImageInput] = OrderedDict()
        self._cache_lock = threading.Lock()
        # Decoding a 40-megapixel image takes ~0.5 GB and a core for a while: as many at once as
        # there are cores, the rest wait (32 uploads at once must not need 16 GB).
        self._pixel_work = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))

    # Checking ---------------------------------------------------------------------------------

    def check(self, upload: ReferenceUpload, field: str = "") -> CheckedReference:
        """The upload decoded and cleaned, or a 400/413 whose details name the field (`field`
        prefixes the names, e.g. "references.0.")."""
        role = _role(upload.role, f"{field}role")
        label = _label(upload.label, f"{field}label")
        data = reference_image_tool.decode_data_url(upload.image, f"{field}image")
        with self._pixel_work:
            picture = reference_image_tool.clean(data, f"{field}image")
        return CheckedReference(picture, role, label)

    def check_all(
        self, uploads: Sequence[ReferenceUpload], caps: ProviderCapabilities
    ) -> list[CheckedReference]:
        """Every upload of a new session checked (the first bad one refuses them all), within the
        chosen model's limit."""
        if uploads:
            _check_room(caps, len(uploads))
        return [self.check(u, f"references.{n}.") for n, u in enumerate(uploads)]

    # Changing a session -----------------------------------------------------------------------

    def add(self, session_id: str, image: str, role: str, label: str = "") -> Reference:
        """Adds one reference (checked and cleaned first); 409 while a run is going."""
        self.sessions.get(session_id)  # 404 before the decode work
        checked = self.check(ReferenceUpload(image, role, label))
        session = self.attach(session_id, [checked])
        return session.references[-1]

    def attach(self, session_id: str, checked: Sequence[CheckedReference]) -> Session:
        """Writes the files and records them on the session in one step under its lock; a refusal
        (a run going, no room) or a failed save removes the files again."""
        with self.sessions.locked(session_id):
            session = self.sessions.get(session_id)
            ensure_idle(session)
            _check_room(self._caps(session), len(session.references) + len(checked))
            _check_ids_left(session, len(checked))
            made: list[Reference] = []
            try:
                for n, one in enumerate(checked, start=session.references_made + 1):
                    made.append(self._stored(session_id, n, one))
                return self.sessions.update(session_id, lambda s: _append(s, made))
            except BaseException:
                for ref in made:
                    self.storage.delete_reference(session_id, ref.file)
                raise

    def copy_all(self, source: Session, target_id: str) -> Session:
        """The source's references (same ids, roles, labels) copied onto a new session: a
        branch keeps what its images are to keep."""
        made = []
        for ref in source.references:
            name = self.storage.save_reference(
                target_id, ref.id, self._bytes(source, ref.file), ref.file.rsplit(".", 1)[1]
            )
            made.append(ref.model_copy(update={"file": name, "url": media_url(target_id, name)}))

        def change(session: Session) -> None:
            session.references = made
            session.references_made = source.references_made

        return self.sessions.update(target_id, change)

    def remove(self, session_id: str, ref_id: str) -> Session:
        """Removes a reference and its file; 404 for an unknown id, 409 while a run is going."""
        removed: list[Reference] = []

        def change(session: Session) -> None:
            ensure_idle(session)
            removed.extend(r for r in session.references if r.id == ref_id)
            if not removed:
                raise NotFound(
                    f"Session {session_id} has no reference '{ref_id[:16]}'.",
                    details={"ref_id": ref_id[:16], "have": [r.id for r in session.references]},
                )
            session.references = [r for r in session.references if r.id != ref_id]

        with self.sessions.locked(session_id):
            session = self.sessions.update(session_id, change)
            for ref in removed:  # the file goes once the session no longer names it
                self.storage.delete_reference(session_id, ref.file)
                self._forget(session_id, ref.file)
        return session

    # Reading, for the providers and the judge ------------------------------------------------

    def sources(self, session: Session) -> list[SourceImage]:
        """The stored bytes of each reference in order, with role and label (image providers)."""
        return [
            SourceImage(data=self._bytes(session, ref.file), mime=ref.mime, role=ref.role,
                        label=ref.label)
            for ref in session.references
        ]  # fmt: skip

    def judge_inputs(self, session: Session) -> list[tuple[Reference, ImageInput]]:
        """A compact JPEG (PNG if see-through) of each reference, at most `judge_max_px` on its
        longer side like the iteration copies the judge sees; made once and cached."""
        return [(ref, self._judge_copy(session, ref)) for ref in session.references]

    def iteration_source(self, session: Session, index: int) -> SourceImage:
        """The stored image of iteration `index`, as the image to edit (role "edit")."""
        it = session.chosen_iteration(index, "edit_from")
        data = self.storage.read_image(session.session_id, it.image_path) if it.image_path else None
        if not data:
            raise Conflict(
                f"Iteration {index} has no stored image to edit.",
                code="image_missing",
                details={"field": "edit_from", "iteration": index},
            )
        return SourceImage(data=data, mime=it.image_mime or "image/png", role="edit")

    # Helpers ----------------------------------------------------------------------------------

    def _caps(self, session: Session) -> ProviderCapabilities:
        caps = self.images.capabilities(session.image_provider)
        return caps.for_model(session.image_params.get("model"))

    def _stored(self, session_id: str, number: int, checked: CheckedReference) -> Reference:
        picture = checked.picture
        name = self.storage.save_reference(session_id, f"r{number}", picture.data, picture.ext)
        return checked.as_reference(number, name, media_url(session_id, name))

    def _bytes(self, session: Session, name: str) -> bytes:
        data = self.storage.read_image(session.session_id, name)
        if data is None:
            raise Conflict(
                f"A reference file of session {session.session_id} is missing ({name[:32]}).",
                code="image_missing",
                details={"file": name[:32]},
            )
        return data

    def _judge_copy(self, session: Session, ref: Reference) -> ImageInput:
        key = (session.session_id, ref.file)
        with self._cache_lock:
            cached = self._judge_copies.get(key)
            if cached is not None:
                self._judge_copies.move_to_end(key)
                return cached
        data, mime = image_codec_tool.downscale(self._bytes(session, ref.file), self.judge_max_px)
        copy = ImageInput(data=data, mime=mime)
        with self._cache_lock:
            self._judge_copies[key] = copy
            while len(self._judge_copies) > JUDGE_CACHE_ITEMS:
                self._judge_copies.popitem(last=False)
        return copy

    def _forget(self, session_id: str, name: str) -> None:
        with self._cache_lock:
            self._judge_copies.pop((session_id, name), None)


def _append(session: Session, made: list[Reference]) -> None:
    """The session change of an add (under the lock, checked again: the state may not move)."""
    ensure_idle(session)
    session.references = [*session.references, *made]
    session.references_made += len(made)


def _check_room(caps: ProviderCapabilities, wanted: int) -> None:
    """Refuses more references than the model takes (422 `unsupported_param`), and more than
    MAX_REFERENCES (400) whatever the model."""
    if caps.max_input_images < MAX_REFERENCES:
        caps.check_inputs(wanted, caps.name, caps.defaults.get("model") or caps.name)
    elif wanted > MAX_REFERENCES:
        raise ValidationFailed(
            f"A session keeps at most {MAX_REFERENCES} reference images; this would make {wanted}.",
            details={"field": "references", "limit": MAX_REFERENCES, "count": wanted},
        )


def _check_ids_left(session: Session, wanted: int) -> None:
    """Ids go up to r999 (never reused): a session that has given them all takes no more."""
    if session.references_made + wanted > MAX_REFERENCE_IDS:
        raise ValidationFailed(
            f"This session has given all {MAX_REFERENCE_IDS} reference ids; start a new session for more.",
            details={"field": "references", "limit": MAX_REFERENCE_IDS},
        )


def _role(value: str, field: str) -> ReferenceRole:
    role = _ROLES.get(value) if isinstance(value, str) else None
    if role is None:
        raise ValidationFailed(
            f"{field} must be one of: {', '.join(_ROLES)}.",
            details={"field": field, "allowed": list(_ROLES), "value": str(value)[:32]},
        )
    return role


def _label(value: str, field: str) -> str:
    """A short label on one line: controls refused, whitespace collapsed, at most the limit."""
    try:
        text = " ".join(refuse_controls(value).split())
    except ValueError as exc:
        raise ValidationFailed(f"{field} {exc}.", details={"field": field}) from None
    if len(text) > MAX_REFERENCE_LABEL_CHARS:
        raise ValidationFailed(
            f"{field} is {len(text)} characters long; the limit is {MAX_REFERENCE_LABEL_CHARS}.",
            details={"field": field, "limit": MAX_REFERENCE_LABEL_CHARS},
        )
    return text
