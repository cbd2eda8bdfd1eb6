"""Start-up clean-up after a kill: stale temp files go (in session folders and the storage root), a
paid image no session.json references is recorded on its iteration, or on a new one when the run
that made it was cut off (else deleted, with its thumbnail); orphan and corrupt thumbnails never
survive."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image

from app.main import create_app
from app.tools.storage_tool import StorageTool
from tests.conftest import container_of, demo_settings, start_session


def run_to_review(tmp_path: Path) -> tuple[Path, str]:
    settings = demo_settings(tmp_path)
    app = create_app(settings)
    client = app.test_client()
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    container_of(app).close()
    return settings.storage_dir / sid, sid


def restart(tmp_path: Path) -> dict:
    app = create_app(demo_settings(tmp_path))
    sessions = {
        s["session_id"]: app.test_client().get(f"/api/sessions/{s['session_id']}").json
        for s in app.test_client().get("/api/sessions").json["sessions"]
    }
    container_of(app).close()
    return sessions


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    (folder / ".session.json.abc123.tmp").write_text('{"torn": ')
    (folder / ".iter_1.png.xyz.tmp").write_bytes(b"\x89PNG half")
    sessions = restart(tmp_path)
    assert not list(folder.glob(".*.tmp"))
    assert sessions[sid]["iterations"][0]["judge_score"] is not None


def test_an_image_saved_before_its_iteration_was_recorded_is_kept_on_it(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    path = folder / "session.json"
    stored = json.loads(path.read_text())
    it = stored["iterations"][0]
    it.update(image_path=None, image_url=None, image_mime=None)  # killed before this save
    path.write_text(json.dumps(stored))
    sessions = restart(tmp_path)
    recorded = sessions[sid]["iterations"][0]
    assert recorded["image_path"] == "iter_0.png"
    assert recorded["image_url"] == f"/media/{sid}/iter_0.png"
    assert recorded["image_mime"] == "image/png"
    assert json.loads(path.read_text())["iterations"][0]["image_path"] == "iter_0.png"


def test_an_image_no_iteration_can_own_is_deleted(tmp_path: Path) -> None:
    folder, _sid = run_to_review(tmp_path)
    (folder / "iter_1.png").write_bytes((folder / "iter_0.png").read_bytes())  # no iteration 1
    (folder / "iter_0.webp").write_bytes(b"older format")  # iteration 0 has its own image
    restart(tmp_path)
    assert sorted(p.name for p in folder.glob("iter_*")) == ["iter_0.png"]


def test_an_unreadable_session_folder_is_left_alone(tmp_path: Path) -> None:
    folder, _ = run_to_review(tmp_path)
    (folder / "session.json").write_text("{not json")
    (folder / "iter_5.png").write_bytes(b"x")
    restart(tmp_path)
    assert (folder / "iter_5.png").exists() and (folder / "iter_0.png").exists()


def test_a_thumbnail_goes_with_its_image_and_orphan_thumbnails_go_too(tmp_path: Path) -> None:
    folder, _sid = run_to_review(tmp_path)
    assert (folder / "thumb_0.jpg").is_file()
    (folder / "iter_1.png").write_bytes((folder / "iter_0.png").read_bytes())  # no iteration 1
    (folder / "thumb_1.jpg").write_bytes((folder / "thumb_0.jpg").read_bytes())
    (folder / "thumb_7.jpg").write_bytes(b"a thumbnail whose image is gone")
    restart(tmp_path)
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".json") == [
        "iter_0.png",
        "thumb_0.jpg",
    ]


def test_temp_files_in_the_storage_root_are_removed(tmp_path: Path) -> None:
    folder, _sid = run_to_review(tmp_path)
    root = folder.parent
    (root / ".index.json.k2j3h4.tmp").write_text('{"version": ')
    (root / "notes.txt").write_text("not ours to delete")
    restart(tmp_path)
    assert not list(root.glob(".*.tmp"))
    assert (root / "notes.txt").exists() and (root / "index.json").exists()


def test_a_corrupt_thumbnail_is_made_again_from_its_image(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    (folder / "thumb_0.jpg").write_bytes(b"\xff\xd8\xff torn jpeg")
    app = create_app(demo_settings(tmp_path))
    try:
        answer = app.test_client().get(f"/media/{sid}/thumb_0.jpg")
    finally:
        container_of(app).close()
    assert answer.status_code == 200
    with Image.open(io.BytesIO(answer.data)) as picture:
        picture.load()
        assert picture.format == "JPEG" and max(picture.size) <= 320
    assert (folder / "thumb_0.jpg").read_bytes() == answer.data


def test_an_image_a_killed_run_saved_but_never_recorded_is_kept_on_a_new_iteration(
    tmp_path: Path,
) -> None:
    """Killed between saving candidate 1's image and saving its iteration: the image was paid
    for, so it is kept and recorded (failed, interrupted) instead of deleted."""
    folder, sid = run_to_review(tmp_path)
    path = folder / "session.json"
    stored = json.loads(path.read_text())
    stored["status"] = "running"
    stored["run"] = {
        "kind": "optimize",
        "requested_iterations": 2,
        "started_at": stored["created_at"],
    }
    stored["in_flight"] = [{"iteration": 1, "step": "generate", "round": 1, "candidate": 0}]
    path.write_text(json.dumps(stored))
    (folder / "iter_1.png").write_bytes((folder / "iter_0.png").read_bytes())
    sessions = restart(tmp_path)
    session = sessions[sid]
    assert [it["index"] for it in session["iterations"]] == [0, 1]
    kept = session["iterations"][1]
    assert kept["image_path"] == "iter_1.png" and kept["image_url"] == f"/media/{sid}/iter_1.png"
    assert kept["status"] == "failed" and kept["error"]["code"] == "interrupted"
    assert (kept["round"], kept["candidate"]) == (1, 0)
    assert (folder / "iter_1.png").exists()
    assert session["status"] == "failed" and session["error"]["code"] == "interrupted"
    assert session["best_index"] == 0  # the unjudged image is never the best


def test_a_thumbnail_whose_image_is_gone_is_not_served(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    app = create_app(demo_settings(tmp_path))
    try:
        client = app.test_client()
        assert client.get(f"/media/{sid}/thumb_0.jpg").status_code == 200
        (folder / "iter_0.png").unlink()  # gone while the server runs
        assert client.get(f"/media/{sid}/thumb_0.jpg").status_code == 404
    finally:
        container_of(app).close()


def test_an_empty_session_folder_is_removed_at_start_up(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    empty = folder.parent / ("e" * 32)
    empty.mkdir()
    torn = folder.parent / ("d" * 32)
    torn.mkdir()
    (torn / ".session.json.x1.tmp").write_text('{"torn": ')
    sessions = restart(tmp_path)
    assert not empty.exists() and not torn.exists()
    assert set(sessions) == {sid} and folder.is_dir()


def sweep_reads(tmp_path: Path, monkeypatch: Any) -> list[str]:
    """Starts the app again and lists the session folders the start-up sweep read in full."""
    read: list[str] = []
    real = StorageTool._adopt_images

    def counted(self: StorageTool, folder: Path, counts: dict[str, int]) -> None:
        read.append(folder.name)
        real(self, folder, counts)

    monkeypatch.setattr(StorageTool, "_adopt_images", counted)
    restart(tmp_path)
    return read


def test_the_sweep_skips_folders_the_index_still_matches(tmp_path: Path, monkeypatch: Any) -> None:
    """A run leaves its images seconds before its last session save: with the index written at
    the last clean stop, such a folder is not read again (10,000 of them were: 1.1 s of CPU)."""
    folder, _sid = run_to_review(tmp_path)
    saved = (folder / "session.json").stat().st_mtime_ns
    os.utime(folder / "iter_0.png", ns=(saved - 5 * 10**9, saved - 5 * 10**9))
    restart(tmp_path)  # settles the index on this file as it is now
    assert sweep_reads(tmp_path, monkeypatch) == []


def test_the_sweep_reads_a_folder_changed_since_the_index(tmp_path: Path, monkeypatch: Any) -> None:
    """A session saved after the index was written (a run going on until a kill) is read, and
    the image it saved but never recorded is kept on its iteration."""
    folder, sid = run_to_review(tmp_path)
    path = folder / "session.json"
    stored = json.loads(path.read_text())
    stored["iterations"][0].update(image_path=None, image_url=None, image_mime=None)
    path.write_text(json.dumps(stored))
    os.utime(folder / "iter_0.png", ns=(1, 1))  # long before: only the index can tell
    assert sweep_reads(tmp_path, monkeypatch) == [sid]
    assert json.loads(path.read_text())["iterations"][0]["image_path"] == "iter_0.png"


def test_the_sweep_reads_a_folder_with_an_image_newer_than_its_session(
    tmp_path: Path, monkeypatch: Any
) -> None:
    folder, sid = run_to_review(tmp_path)
    (folder / "iter_1.png").write_bytes((folder / "iter_0.png").read_bytes())  # no iteration 1
    assert sweep_reads(tmp_path, monkeypatch) == [sid]
    assert not (folder / "iter_1.png").exists()
