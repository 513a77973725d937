"""The lock file beside a partial download that ``drop_partials`` removes goes with it, and one
who opened it before it went never holds it beside the one at its name."""

from __future__ import annotations

import pytest

from stemgui.separation import download_lock
from stemgui.separation.download import drop_partials, part_path
from stemgui.separation.download_errors import DownloadError
from stemgui.separation.download_lock import LOCK_SUFFIX, only_download


def _lock_file(dest):
    return dest.with_name(dest.name + LOCK_SUFFIX)


def test_a_partial_dropped_takes_its_lock_file_along_but_not_one_being_written(tmp_path):
    old, held = tmp_path / "aaaa0001-0badc0de.th", tmp_path / "bbbb0002-0badc0de.th"
    for dest in (old, held):
        part_path(dest).write_bytes(b"the first bytes of an earlier version")
        with only_download(dest, "tiny_ft"):  # downloaded once: the lock file was left
            pass
    with only_download(held, "tiny_ft"):  # another window downloads that version now
        assert drop_partials(tmp_path, lambda name: True, "tiny_ft") == [part_path(old)]
    assert sorted(tmp_path.iterdir()) == [_lock_file(held), part_path(held)]


def test_one_who_opened_a_lock_file_before_it_was_dropped_takes_the_new_one(tmp_path, monkeypatch):
    """Between opening the lock file and locking it, the holder removed it: locking the old
    one (no longer at its name) would let a third take the new one, and two would download."""
    dest = tmp_path / "aaaa0001-0badc0de.th"
    part_path(dest).write_bytes(b"the first bytes of an earlier version")
    lock = download_lock._lock
    opened = []

    def dropped_meanwhile(handle):
        if not opened:  # this download has opened the lock file: now another drops it
            opened.append(handle.name)
            assert drop_partials(tmp_path, lambda name: True, "tiny_ft") == [part_path(dest)]
        lock(handle)

    monkeypatch.setattr(download_lock, "_lock", dropped_meanwhile)
    with only_download(dest, "tiny_ft"):
        assert _lock_file(dest).exists()  # the one it holds, at its name
        third = pytest.raises(DownloadError, match="is being downloaded already")
        with third, only_download(dest, "tiny_ft"):
            pass
    assert opened == [str(_lock_file(dest))]
