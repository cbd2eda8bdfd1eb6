"""A full disk or a read-only store: the run ends `failed` with a typed `storage_full` /
`storage_error` (507 for a call that waited and for synchronous writes), never `running`; a create
that cannot write leaves no folder; reads keep working and writes work again once space is back,
in the same app (no restart).

The fault is injected at the OS write (`os.write` raises for files under the storage folder); the
storage tool's own functions stay real. One test uses a real 3 MB tmpfs when mounting is allowed.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.main import create_app
from tests.conftest import container_of, demo_settings, start_session
from tests.grok_script import scripted_app
from tests.test_races import WAIT_S, Gate, wait_idle


class Disk:
    """Fails writes (`os.write`, and `os.fsync` for buffered writers) to files under `root` whose
    names start with one of `names`, with `error` (an errno) while it is set; everything else is
    written as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.root = str(root.resolve())
        self.error: int | None = None
        self.names: tuple[str, ...] = ("",)
        real_write, real_fsync = os.write, os.fsync

        def write(fd: int, data: bytes) -> int:
            self._check(fd)
            return real_write(fd, data)

        def fsync(fd: int) -> None:  # where a buffered writer's data meets the disk
            self._check(fd)
            real_fsync(fd)

        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "fsync", fsync)

    def _check(self, fd: int) -> None:
        if self.error is not None and self._chosen(fd):
            raise OSError(self.error, os.strerror(self.error))

    def _chosen(self, fd: int) -> bool:
        try:
            path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return False
        inside = str(path).startswith(self.root + os.sep)
        return inside and path.name.lstrip(".").startswith(self.names)

    def fill(self, error: int = errno.ENOSPC, names: tuple[str, ...] = ("",)) -> None:
        self.error, self.names = error, names

    def free(self) -> None:
        self.error = None


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def app(tmp_path: Path, gate: Gate) -> Iterator[Flask]:
    yield from scripted_app(tmp_path, gate)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def disk(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(monkeypatch, container_of(app).settings.storage_dir)


def generate_meeting_a_full_disk(
    client: FlaskClient, sid: str, gate: Gate, fill: Callable[[], object]
) -> TestResponse:
    """A waited generate whose disk fills up (`fill`) while its baseline is being judged."""
    gate.arm("judge")
    answer: dict[str, TestResponse] = {}

    def call() -> None:
        answer["r"] = client.post(f"/api/sessions/{sid}/generate", json={})

    waited = threading.Thread(target=call)
    waited.start()
    assert gate.arrived.wait(WAIT_S)
    fill()
    gate.release.set()
    waited.join(WAIT_S)
    return answer["r"]


def on_disk(app: Flask, sid: str) -> dict:
    folder = container_of(app).settings.storage_dir / sid
    return json.loads((folder / "session.json").read_text())


def test_a_full_disk_during_a_waited_generate_is_507_and_the_session_failed(
    app: Flask, client: FlaskClient, disk: Disk, gate: Gate
) -> None:
    sid = start_session(client)["session_id"]
    answer = {"r": generate_meeting_a_full_disk(client, sid, gate, disk.fill)}
    assert answer["r"].status_code == 507, answer["r"].json
    body = answer["r"].json
    assert body["code"] == "storage_full" and body["details"]["errno"] == "ENOSPC"
    assert body["details"]["session"]["status"] == "failed"
    session = client.get(f"/api/sessions/{sid}").json  # reads keep working
    assert session["status"] == "failed" and session["error"]["code"] == "storage_full"
    assert session["current_step"] is None and session["in_flight"] == []
    listed = client.get("/api/sessions").json["sessions"]
    assert [s["status"] for s in listed if s["session_id"] == sid] == ["failed"]
    cancel = client.post(f"/api/sessions/{sid}/optimize/cancel", json={})
    assert cancel.status_code == 409 and cancel.json["code"] == "not_running"
    refused = client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "more fog"})
    assert refused.status_code == 507 and refused.json["code"] == "storage_full"
    assert client.get(f"/api/sessions/{sid}").json["user_feedback"] is None  # nothing changed

    disk.free()  # space is back: the same app works again, and the disk learns the ending
    assert client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "x y"}).status_code == 200
    assert on_disk(app, sid)["status"] == "failed"
    again = client.post(f"/api/sessions/{sid}/generate", json={})
    assert again.status_code == 200 and again.json["iterations"][0]["judge_score"] is not None


def test_images_that_cannot_be_written_fail_the_run_with_storage_full_on_disk_too(
    app: Flask, client: FlaskClient, disk: Disk
) -> None:
    sid = start_session(client)["session_id"]
    disk.fill(errno.EDQUOT, names=("iter_",))
    answer = client.post(f"/api/sessions/{sid}/generate", json={})
    assert answer.status_code == 507 and answer.json["code"] == "storage_full"
    stored = on_disk(app, sid)  # session.json could be written: it tells the truth
    assert stored["status"] == "failed" and stored["error"]["code"] == "storage_full"
    assert stored["iterations"][0]["error"]["code"] == "storage_full"


def test_a_full_disk_in_the_middle_of_a_background_run_ends_it_failed(
    app: Flask, client: FlaskClient, disk: Disk, gate: Gate
) -> None:
    sid = start_session(client)["session_id"]
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    gate.arm("revise")
    started = client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
    assert started.status_code == 202 and gate.arrived.wait(WAIT_S)
    disk.fill(errno.ENOSPC)
    full_at = time.monotonic()
    gate.release.set()
    session = wait_idle(client, sid)
    took_ms = (time.monotonic() - full_at) * 1000
    print(f"\nfull disk -> failed session: {took_ms:.0f} ms")  # reported, never asserted
    assert session["status"] == "failed" and session["error"]["code"] == "storage_full"
    assert session["current_step"] is None and session["in_flight"] == []
    assert on_disk(app, sid)["status"] == "running"  # the disk could not be told yet...
    cancel = client.post(f"/api/sessions/{sid}/optimize/cancel", json={})
    assert cancel.status_code == 409 and cancel.json["code"] == "not_running"

    disk.free()
    container_of(app).sessions.close()  # ...and is at the next save or close
    assert on_disk(app, sid)["status"] == "failed"
    run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    assert run.status_code == 200 and run.json["status"] == "done"


def test_a_start_that_cannot_be_saved_is_507_and_starts_nothing(
    app: Flask, client: FlaskClient, disk: Disk
) -> None:
    sid = start_session(client)["session_id"]
    disk.fill(errno.EROFS)
    answer = client.post(f"/api/sessions/{sid}/generate", json={"wait": False})
    assert answer.status_code == 507 and answer.json["code"] == "storage_error"
    assert answer.json["details"]["errno"] == "EROFS"
    assert client.get(f"/api/sessions/{sid}").json["status"] == "draft"
    disk.free()
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200


@pytest.mark.parametrize(
    ("error", "code"), [(errno.ENOSPC, "storage_full"), (errno.EIO, "storage_error")]
)
def test_a_create_that_cannot_write_is_507_and_leaves_no_folder(
    app: Flask, client: FlaskClient, disk: Disk, error: int, code: str
) -> None:
    root = container_of(app).settings.storage_dir
    disk.fill(error)
    body = {"goal": "a fox", "provider": "demo"}
    answer = client.post("/api/sessions", json=body)
    assert answer.status_code == 507 and answer.json["code"] == code
    assert [p.name for p in root.iterdir() if p.is_dir()] == []
    assert client.get("/api/sessions").json["sessions"] == []
    disk.free()
    assert client.post("/api/sessions", json=body).status_code == 201


def test_a_full_disk_cannot_break_a_thumbnail_read(
    app: Flask, client: FlaskClient, disk: Disk
) -> None:
    sid = start_session(client)["session_id"]
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    folder = container_of(app).settings.storage_dir / sid
    (folder / "thumb_0.jpg").unlink()
    disk.fill(errno.ENOSPC)
    answer = client.get(f"/media/{sid}/thumb_0.jpg")
    assert answer.status_code == 200 and answer.data == (folder / "iter_0.png").read_bytes()


# A real small disk ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (needs root and mount rights; skipped cleanly elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_up(folder: Path) -> Path:
    """A file that takes every free block of the disk under `folder`."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle, pytest.raises(OSError) as full:
        while True:
            handle.write(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    return filler


@pytest.fixture
def small_app(small_disk: Path, gate: Gate) -> Iterator[Flask]:
    yield from scripted_app(small_disk, gate, storage_dir=small_disk / "sessions")


def test_a_real_full_tmpfs_fails_the_run_and_works_again_once_freed(
    small_app: Flask, small_disk: Path, gate: Gate
) -> None:
    client = small_app.test_client()
    sid = start_session(client)["session_id"]
    filler = fill_up(small_disk)  # a start that cannot be saved starts nothing
    refused = client.post(f"/api/sessions/{sid}/generate", json={})
    assert refused.status_code == 507 and refused.json["code"] == "storage_full"
    assert client.get(f"/api/sessions/{sid}").json["status"] == "draft"
    filler.unlink()

    answer = generate_meeting_a_full_disk(client, sid, gate, lambda: fill_up(small_disk))
    assert answer.status_code == 507 and answer.json["code"] == "storage_full"
    session = client.get(f"/api/sessions/{sid}").json
    assert session["status"] == "failed" and session["current_step"] is None

    filler.unlink()
    again = client.post(f"/api/sessions/{sid}/generate", json={})
    assert again.status_code == 200 and again.json["status"] == "draft"


def test_a_server_starting_on_a_full_disk_serves_and_ends_cut_off_runs_honestly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = demo_settings(tmp_path)
    first = create_app(settings)
    sid = start_session(first.test_client())["session_id"]
    container_of(first).close()
    path = settings.storage_dir / sid / "session.json"
    stored = json.loads(path.read_text())
    stored.update(status="running", run={"kind": "generate", "started_at": stored["created_at"]})
    path.write_text(json.dumps(stored))
    (settings.storage_dir / "index.json").unlink()

    disk = Disk(monkeypatch, settings.storage_dir)
    disk.fill(errno.ENOSPC)
    second = create_app(settings)  # neither the recovery nor the index can be written
    try:
        session = second.test_client().get(f"/api/sessions/{sid}").json
        assert session["status"] == "failed" and session["error"]["code"] == "interrupted"
        disk.free()
        container_of(second).sessions.close()
        assert json.loads(path.read_text())["status"] == "failed"
    finally:
        container_of(second).close()
