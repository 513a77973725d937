"""A temporary folder on a file system that takes no locks (ENOLCK, EOPNOTSUPP: some network
and FUSE ones, a TMPDIR set to one): the spool's lock file only tells a dead run's spool from a
live one, so the song is spooled all the same, its folder told by its process id alone, as an
older version's (and as a scratch stems folder is: ``stemgui.ui.scratch``)."""

from __future__ import annotations

import errno

import pytest

from stemgui import run_folders
from stemgui.run_folders import LOCK_NAME
from stemgui.spool import StemSpool, clean_stale_spools


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_a_spool_is_made_where_no_lock_can_be_taken(tmp_path, monkeypatch, code):
    def refused(fd: int) -> None:
        raise OSError(code, "no locks here")

    monkeypatch.setattr(run_folders, "_lock", refused)
    with StemSpool((2, 2, 16), folder=tmp_path) as spool:
        spool.array[:] = 1.0
        # no lock file left unlocked, which would say the folder is a dead run's
        assert spool.path.is_file() and not (spool.folder / LOCK_NAME).exists()
        assert clean_stale_spools(tmp_path) == []  # this live run's, by its process id
        assert spool.folder.is_dir()
    assert not spool.folder.exists()
