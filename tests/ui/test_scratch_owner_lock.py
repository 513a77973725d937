"""A run's scratch stems folder (``run-<pid>-<random>``) holds a lock file while its run lives
(``stemgui.run_folders.OwnerLock``): a killed run's folder goes at the next start though another
process has its id since, and an older version's folder (no lock file) is told by its id alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.scratch import dead_scratch_folders
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.queue_rig import _wait_idle

LONG_AGO = 10 * LOCKING_SECONDS


def _aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _run_folder(root: Path, name: str, lock_age: float | None) -> Path:
    """A scratch folder ``name`` with a stems file; a lock file held by nobody, made
    ``lock_age`` seconds ago (None: none, as an older version's)."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "stems-1.f32").write_bytes(b"\0" * 16)
    if lock_age is not None:
        (folder / LOCK_NAME).write_bytes(b"")
        _aged(folder / LOCK_NAME, lock_age)
    return folder


def test_a_dead_runs_scratch_goes_though_its_process_id_was_taken_since(tmp_path):
    """Told dead by its process id alone, it stayed for as long as the id was in use: a
    reboot later, a long song's stems (gigabytes) sat in the user cache for good."""
    pid = os.getpid()  # this process has each dead run's id now
    dead = _run_folder(tmp_path, f"run-{pid}-dead", lock_age=LONG_AGO)
    locking = _run_folder(tmp_path, f"run-{pid}-young", lock_age=1)  # not locked yet, maybe
    older = _run_folder(tmp_path, f"run-{pid}-older", lock_age=None)  # an older version's
    assert dead_scratch_folders(tmp_path) == [dead]
    assert locking.is_dir() and older.is_dir()


def test_a_running_apps_scratch_holds_its_lock_and_goes_at_shutdown(
    qtbot, songs, tiny_model_file, tmp_path
):
    """The folder is locked as the worker makes it, for the first long song's stems: a
    second app started meanwhile (its start-up cleanup) keeps it, however old the lock file."""
    scratch = tmp_path / "stems" / f"run-{os.getpid()}-live"
    ctl = QueueController(
        lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"),
        scratch_dir=scratch,
        memmap_bytes=1000,  # every song counts as long
    )
    (job,) = ctl.add(songs[:1])
    _wait_idle(qtbot, ctl)
    assert job.state is JobState.DONE, job.error
    _aged(scratch / LOCK_NAME, LONG_AGO)  # held, not young
    assert dead_scratch_folders(scratch.parent) == []
    ctl.shutdown()
    assert not scratch.exists()
