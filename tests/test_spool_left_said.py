"""A dead run's spool that cannot be removed (a file open in it, on Windows; a folder not
writable) is not said to be removed: it is logged as staying, and left out of what the
start-up cleanup counts, as the app's own spools at its end already were."""

from __future__ import annotations

import logging
import os
import shutil

from stemgui.audio.atomic import process_alive
from stemgui.spool import SPOOL_PREFIX, clean_stale_spools

GONE = 2**22 + 12345  # a process id no process has


def _refused(path, ignore_errors=False, onerror=None, onexc=None, **kwargs):
    """``shutil.rmtree`` of a folder that cannot be deleted."""
    error = PermissionError(13, "Permission denied", str(path))
    if onexc is not None:
        onexc(os.rmdir, str(path), error)
    elif onerror is not None:
        onerror(os.rmdir, str(path), (PermissionError, error, None))
    elif not ignore_errors:
        raise error


def test_a_dead_runs_spool_that_stays_is_not_said_removed(tmp_path, monkeypatch, caplog):
    dead = tmp_path / f"{SPOOL_PREFIX}{GONE}-dead"
    dead.mkdir()
    (dead / "stems.f32").write_bytes(b"\0" * 16)
    assert not process_alive(GONE)
    monkeypatch.setattr(shutil, "rmtree", _refused)
    with caplog.at_level(logging.INFO):
        assert clean_stale_spools(tmp_path) == []
    assert dead.is_dir()
    assert f"could not delete {dead}" in caplog.text
    assert "removed the spool" not in caplog.text
