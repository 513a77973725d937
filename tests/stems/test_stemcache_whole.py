"""A stem cache entry is whole or not there: a store during File ▸ Clear stem cache, an entry
whose stems are open (Windows refuses to delete them) evicted or cleared."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from stemgui import stemcache_delete
from stemgui.stemcache import StemCache
from stemgui.stemcache_entry import read_entry
from tests.stems.stemcache_rig import _key, _stems


def test_stems_stored_during_a_clear_are_kept(tmp_path, monkeypatch):
    """A song finished while the cache was cleared was found stored (a hit), said kept, then
    deleted by the clear: the next start separated it again."""
    cache = StemCache(tmp_path / "cache")
    a, b = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    real, worker, said = stemcache_delete.delete_set_aside, {}, []

    def delete(aside: Path, folder: Path, size: int, lock):
        if not worker:  # the worker stores the other song while the first entry goes
            worker["key"] = other = b if folder.name == a else a
            worker["thread"] = threading.Thread(
                target=lambda: said.append(cache.put(other, _stems(3)))
            )
            worker["thread"].start()
            worker["thread"].join(2)  # the clear holds no lock now: done here, or soon after
        return real(aside, folder, size, lock)

    monkeypatch.setattr(stemcache_delete, "delete_set_aside", delete)
    cache.clear()
    worker["thread"].join(10)
    assert said == [True]
    hit = cache.get(worker["key"])
    assert hit is not None  # kept, as put said
    np.testing.assert_array_equal(hit.stems, _stems(3).data)


def _refusing_open_files(monkeypatch, held: Path, folder_too: bool) -> None:
    """Windows with the stems of ``held`` memory-mapped: deleting that file is refused, and,
    with ``folder_too``, renaming its folder (as Windows refuses a folder with a file open)."""
    inode = os.stat(held).st_ino
    refused = PermissionError(13, "The process cannot access the file: it is in use", str(held))
    unlink, rename = os.unlink, os.rename

    def refusing_unlink(path, *, dir_fd=None):
        if os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_ino == inode:
            raise refused
        return unlink(path, dir_fd=dir_fd)

    def refusing_rename(src, dst, **kwargs):
        if folder_too and Path(src) == held.parent:
            raise refused
        return rename(src, dst, **kwargs)

    monkeypatch.setattr(os, "unlink", refusing_unlink)
    monkeypatch.setattr(os, "remove", refusing_unlink)
    monkeypatch.setattr(os, "rename", refusing_rename)


def _whole_or_gone(cache: StemCache, key: str, stems) -> bool:
    """Whether entry ``key`` is there (whole: its stems as stored), asserting it is not half
    there (a folder under its name without its entry.json, its mix or its stems)."""
    folder = cache.root / key
    if not os.path.lexists(folder):
        return False
    assert sorted(p.name for p in folder.iterdir()) == ["entry.json", "mix.npy", "stems.npy"]
    np.testing.assert_array_equal(read_entry(folder, key).stems, stems.data)
    return True


@pytest.mark.parametrize("folder_too", [True, False], ids=["windows", "file-only"])
def test_an_entry_whose_stems_are_open_is_evicted_whole_or_kept_whole(
    tmp_path, monkeypatch, folder_too
):
    """Its entry.json and mix went, its stems stayed: a folder of stems that no song could
    read again, evicted first at every store and counted in the cache's size."""
    probe = StemCache(tmp_path / "probe")
    probe.put(_key(), _stems())
    entry = probe.size()
    cache = StemCache(tmp_path / "cache", max_bytes=2 * entry + entry // 2)  # room for two
    a, b, c = (_key(song=letter * 64) for letter in "abc")
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    mapped = cache.get(a)  # a song of the queue reads it (parked); a is still the oldest
    os.utime(cache.root / a / "entry.json", ns=(0, 0))
    _refusing_open_files(monkeypatch, cache.root / a / "stems.npy", folder_too)
    assert cache.put(c, _stems(3))
    kept = _whole_or_gone(cache, a, _stems(1))
    assert kept == (a not in cache.evicted) and kept == folder_too
    # past a, which cannot go, to the next (what stays of a partly deleted takes room)
    assert cache.evicted[:1] == [b if kept else a]
    np.testing.assert_array_equal(mapped.stems, _stems(1).data)  # it plays on


@pytest.mark.parametrize("folder_too", [True, False], ids=["windows", "file-only"])
def test_an_entry_whose_stems_are_open_is_cleared_whole_or_kept_whole(
    tmp_path, monkeypatch, folder_too
):
    cache = StemCache(tmp_path / "cache")
    a, b = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    mapped = cache.get(a)
    _refusing_open_files(monkeypatch, cache.root / a / "stems.npy", folder_too)
    deleted, _, left = cache.clear()
    kept = _whole_or_gone(cache, a, _stems(1))
    assert kept == folder_too and (deleted, left) == ((1, 1) if kept else (2, 0))
    assert not _whole_or_gone(cache, b, _stems(2))
    np.testing.assert_array_equal(mapped.stems, _stems(1).data)
