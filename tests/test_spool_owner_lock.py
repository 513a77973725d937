"""A spool folder names its process by id, and the live process holds its lock file
(``stemgui.run_folders.OwnerLock``): a dead run's spool whose process id another process has
since taken (this one, here) is told apart from a live one, and removed."""

from __future__ import annotations

import os
import time

from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS
from stemgui.spool import SPOOL_PREFIX, StemSpool, clean_stale_spools


def _dead_runs_spool(root, lock_age: float):
    """A spool folder of a run that died, whose process id is this process's now; its lock
    file made ``lock_age`` seconds ago, held by nobody."""
    folder = root / f"{SPOOL_PREFIX}{os.getpid()}-dead"
    folder.mkdir()
    (folder / "stems.f32").write_bytes(b"\0" * 16)
    made = time.time() - lock_age
    (folder / LOCK_NAME).write_bytes(b"")
    os.utime(folder / LOCK_NAME, (made, made))
    return folder


def test_a_dead_runs_spool_goes_though_its_process_id_was_taken_since(tmp_path):
    """Told dead by its process id alone, it stayed for as long as the id was in use: a
    reboot later, a 5 GB spool of a 60-minute song sat in the temporary folder for good."""
    with StemSpool((2, 2, 16), folder=tmp_path) as live:  # this run's: its lock held
        long_ago = time.time() - 10 * LOCKING_SECONDS
        os.utime(live.folder / LOCK_NAME, (long_ago, long_ago))  # kept for its lock alone
        dead = _dead_runs_spool(tmp_path, lock_age=10 * LOCKING_SECONDS)
        assert clean_stale_spools(tmp_path) == [dead]
        assert not dead.exists() and live.path.is_file()
    assert not live.folder.exists()


def test_a_spool_whose_lock_is_being_taken_stays(tmp_path):
    """Between the lock file's making and its locking, a spool is its live process's: a
    second app starting then must not remove it."""
    young = _dead_runs_spool(tmp_path, lock_age=1)
    older = tmp_path / f"{SPOOL_PREFIX}{os.getpid()}-older"  # an older version's: no lock
    older.mkdir()
    assert clean_stale_spools(tmp_path) == []
    assert young.is_dir() and older.is_dir()
