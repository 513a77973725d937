"""An entry set aside to be deleted (evicted, cleared: ``stemgui.stemcache_delete``) is owned by
the run deleting it, as a write is (``stemgui.run_folders``): another stemgui starting meanwhile
removed it under that run, whatever its process id, so an entry of which nothing could be
deleted (a read-only folder) was gone or half gone instead of put back whole."""

from __future__ import annotations

import os
import time

import numpy as np

from stemgui import stemcache_delete
from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS
from stemgui.stemcache import StemCache
from stemgui.stemcache_entry import read_entry
from tests.stems.stemcache_rig import _key, _stems

FILES = ["entry.json", "mix.npy", "stems.npy"]


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None


def test_a_new_start_leaves_entries_being_deleted_to_their_run(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    cache = StemCache(root)
    a, b = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    seen = []

    def read_only(folder):  # nothing of it can go; another stemgui starts meanwhile
        StemCache(root).keys()
        seen.append(_files(folder))

    monkeypatch.setattr(stemcache_delete, "remove_tree", read_only)
    assert cache.clear() == (0, 0, 2)
    assert seen == [FILES, FILES]  # the other start took nothing of either
    for key, seed in ((a, 1), (b, 2)):  # put back whole
        assert _files(root / key) == FILES
        np.testing.assert_array_equal(read_entry(root / key, key).stems, _stems(seed).data)
    assert not list(root.glob(".*"))


def test_what_stays_of_an_entry_partly_deleted_goes_once_its_run_lets_go(tmp_path, monkeypatch):
    """On Windows, its stems open (memory-mapped by a song of the queue): they stay."""
    root = tmp_path / "cache"
    cache = StemCache(root)
    a = _key()
    assert cache.put(a, _stems(1))
    remove_tree = stemcache_delete.remove_tree

    def stems_stay(folder):
        for file in folder.iterdir():
            if file.name != "stems.npy":
                remove_tree(file)

    monkeypatch.setattr(stemcache_delete, "remove_tree", stems_stay)
    deleted, freed, left = cache.clear()
    assert (deleted, left) == (1, 0) and 0 < freed < _stems(1).data.nbytes
    assert cache.keys() == [] and not os.path.lexists(root / a)  # nothing of it in place
    (aside,) = root.glob(".*")
    long_ago = time.time() - 10 * LOCKING_SECONDS
    for lock in aside.rglob(LOCK_NAME):  # taken long ago
        os.utime(lock, (long_ago, long_ago))
    assert StemCache(root).keys() == []  # a later start, the run that deleted it alive
    assert not list(root.iterdir())
