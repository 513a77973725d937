"""A stem cache on a file system that takes no locks (some network and FUSE ones): every store
makes a new unfinished entry folder, and no lock can be taken in any; that is said once, not at
every store (``run_folders.owner_lock``)."""

from __future__ import annotations

import errno
import logging

from stemgui import run_folders
from stemgui.stemcache import StemCache
from tests.stems.stemcache_rig import _key, _stems


def test_no_lock_is_warned_once_per_cache_folder(tmp_path, monkeypatch, caplog):
    def refused(fd: int) -> None:
        raise OSError(errno.ENOLCK, "no locks here")

    monkeypatch.setattr(run_folders, "_lock", refused)
    monkeypatch.setattr(run_folders, "_warned", set(), raising=False)
    cache = StemCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="stemgui.run_folders"):
        for song in "abc":
            assert cache.put(_key(song * 64), _stems())
        assert len(cache.keys()) == 3
        other = StemCache(tmp_path / "other")  # another folder: said for it too
        assert other.put(_key(), _stems())
    said = [r.getMessage() for r in caplog.records if r.name == "stemgui.run_folders"]
    assert len(said) == 2
    assert str(tmp_path / "cache") in said[0] and str(tmp_path / "other") in said[1]
