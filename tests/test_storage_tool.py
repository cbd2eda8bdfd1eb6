"""Sessions on disk: atomic writes, recovery of what is readable, no path tricks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import StorageFailed
from app.models.domain_models import Session
from app.tools.storage_tool import StorageTool

SID = "0123456789abcdef0123456789abcdef"


def make(goal: str = "fox") -> Session:
    return Session(session_id=SID, user_goal=goal, image_provider="demo")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    storage = StorageTool(tmp_path)
    session = make()
    storage.save_session(session)
    assert storage.load_session(SID) == session
    assert [p.name for p in (tmp_path / SID).iterdir()] == ["session.json"]


def test_a_crash_during_a_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = StorageTool(tmp_path)
    storage.save_session(make("old goal"))

    def crash(src: str, dst: str) -> None:
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageFailed) as failed:
        storage.save_session(make("new goal"))
    monkeypatch.undo()
    assert failed.value.code == "storage_error" and failed.value.status == 507
    assert storage.load_session(SID).user_goal == "old goal"
    assert [p.name for p in (tmp_path / SID).iterdir()] == ["session.json"]  # no temp file left


def test_images_replace_their_older_format(tmp_path: Path) -> None:
    storage = StorageTool(tmp_path)
    assert storage.save_image(SID, 0, b"png", "png") == "iter_0.png"
    assert storage.save_image(SID, 0, b"jpeg", "jpeg") == "iter_0.jpeg"
    assert sorted(p.name for p in (tmp_path / SID).iterdir()) == ["iter_0.jpeg"]
    assert storage.read_image(SID, "iter_0.jpeg") == b"jpeg"


@pytest.mark.parametrize(
    ("session_id", "name"),
    [
        (SID, "session.json"),
        (SID, "../x.png"),
        ("..", "iter_0.png"),
        (SID, "iter_0.png/.."),
        ("x" * 32, "iter_0.png"),
    ],
)
def test_media_path_refuses_anything_but_stored_images(
    tmp_path: Path, session_id: str, name: str
) -> None:
    storage = StorageTool(tmp_path)
    storage.save_image(SID, 0, b"png", "png")
    assert storage.media_path(session_id, name) is None


def test_malformed_ids_never_touch_the_disk(tmp_path: Path) -> None:
    storage = StorageTool(tmp_path)
    with pytest.raises(ValueError):
        storage.session_dir("../../etc")
    assert storage.load_session("../../etc") is None


def test_a_replaced_image_takes_its_thumbnail_with_it(tmp_path: Path) -> None:
    storage = StorageTool(tmp_path)
    storage.save_image(SID, 0, b"png", "png")
    storage.save_thumbnail(SID, 0, b"jpeg")
    storage.save_image(SID, 0, b"webp", "webp")
    assert sorted(p.name for p in (tmp_path / SID).iterdir()) == ["iter_0.webp"]


def test_a_new_session_whose_first_write_fails_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = StorageTool(tmp_path)

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageFailed) as failed:
        storage.save_session(make())
    monkeypatch.undo()
    assert failed.value.code == "storage_full" and failed.value.status == 507
    assert list(tmp_path.iterdir()) == []
