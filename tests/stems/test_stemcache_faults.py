"""The stem cache when things go wrong: a failed, cancelled or killed write leaves nothing;
reads go on during a write; entries another run evicts, that cannot be deleted, or a cache
folder that is a file or was deleted are warnings, never errors."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stemgui import stemcache, stemcache_delete, stemcache_entry
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from tests.fakes import CancelAfter
from tests.stems.stemcache_rig import NAMES, _key, _stems


def _only_entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_a_failed_write_leaves_nothing_and_is_a_warning(cache, tmp_path, monkeypatch, caplog):
    real = stemcache_entry._write_npy
    calls = []

    def disk_full(path, array, cancel):
        calls.append(path.name)
        if len(calls) == 2:  # the stems are written; the mix hits a full disk
            path.write_bytes(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", disk_full)
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert not cache.put(_key(), _stems())
    assert calls == ["stems.npy", "mix.npy"]
    assert "No space left" in caplog.text
    assert _only_entries(tmp_path / "cache") == []
    assert cache.get(_key()) is None
    assert cache.problem == (
        f"The disk of the stem cache ({tmp_path / 'cache'}) is full: separated songs are not "
        "kept, and are separated again at every start; free space on it, or lower the stem "
        "cache's size limit (File ▸ Stem cache size…)."
    )
    calls.append("room made")
    assert cache.put(_key(), _stems()) and cache.problem is None


def test_an_exception_mid_write_propagates_and_leaves_nothing(cache, tmp_path, monkeypatch):
    def killed(path, array, cancel):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(stemcache_entry, "_write_npy", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.put(_key(), _stems())
    assert _only_entries(tmp_path / "cache") == []


def test_a_hit_is_read_while_another_entry_is_being_written(cache, monkeypatch):
    """The app parks a song (``get``, on the GUI thread) while the worker stores another: the
    write held the cache's lock, and the window stood still for the whole write."""
    import threading

    cache.put(_key("a" * 64), _stems(1))
    writing, go_on = threading.Event(), threading.Event()
    real = stemcache_entry._write_npy

    def slow(path, array, cancel):  # a long song's gigabytes
        writing.set()
        assert go_on.wait(10)
        return real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", slow)
    stored = []
    worker = threading.Thread(target=lambda: stored.append(cache.put(_key("c" * 64), _stems(2))))
    worker.start()
    assert writing.wait(10)
    got = []
    reader = threading.Thread(target=lambda: got.append(cache.get(_key("a" * 64))))
    reader.start()
    reader.join(5)
    finished_before_the_write = bool(got)
    go_on.set()
    worker.join(10)
    reader.join(10)
    assert finished_before_the_write and stored == [True]
    np.testing.assert_array_equal(got[0].stems, _stems(1).data)
    np.testing.assert_array_equal(cache.get(_key("c" * 64)).stems, _stems(2).data)


def test_storing_a_long_song_s_memory_mapped_stems_leaves_no_pages_behind(cache, tmp_path):
    """A 60-minute song's 6 GB read through to be stored all stayed in the app's memory."""
    from tests.fakes import resident

    stems = _stems(frames=300_000)
    data = np.memmap(tmp_path / "stems.f32", np.float32, "w+", shape=stems.data.shape)
    mix = np.memmap(tmp_path / "mix.f32", np.float32, "w+", shape=stems.mix.shape)
    data[:], mix[:] = stems.data, stems.mix
    data.flush(), mix.flush()
    from stemgui.spool import release_pages

    release_pages(data, 0, 300_000), release_pages(mix, 0, 300_000)
    assert cache.put(_key(), StemSet(NAMES, 8000, data, mix))
    assert resident(data, 0, 300_000) < 0.05 and resident(mix, 0, 300_000) < 0.05
    np.testing.assert_array_equal(cache.get(_key()).stems, stems.data)


def test_cancel_while_storing_leaves_nothing(cache, tmp_path):
    assert not cache.put(_key(), _stems(frames=3 << 20), cancel=CancelAfter(2))
    assert _only_entries(tmp_path / "cache") == []


def test_a_killed_write_looks_like_no_entry_and_is_removed_at_the_next_start(cache, tmp_path):
    key = _key()
    cache.put(key, _stems())
    root = tmp_path / "cache"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # What SIGKILL during a write leaves: the temporary folder, even with every file in it.
    leftover = root / f".{key}.{dead.pid}-0badf00d.stemgui-part"
    shutil.copytree(root / key, leftover)
    shutil.rmtree(root / key)
    assert cache.get(key) is None and cache.keys() == []
    ours = root / f".{key}.{os.getpid()}-12345678.stemgui-part"  # still being written here
    ours.mkdir()
    StemCache(root).keys()  # a new start opens the cache
    assert _only_entries(root) == [ours.name]


def test_an_unusable_cache_folder_is_a_warning_not_an_error(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = StemCache(blocker / "cache")
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert cache.get(_key()) is None
        assert not cache.put(_key(), _stems())
    assert caplog.text.count("WARNING") == 2


def test_an_entry_evicted_by_another_run_while_this_one_measures_is_not_an_error(
    tmp_path, monkeypatch
):
    probe = StemCache(tmp_path / "probe")
    probe.put(_key(), _stems())
    cache = StemCache(tmp_path / "cache", max_bytes=probe.size() + probe.size() // 2)
    old, new = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(old, _stems(1))
    real = stemcache.last_used

    def last_used(folder: Path) -> int:
        used = real(folder)
        if folder.name == old:  # another run sharing the cache evicts it just now
            shutil.rmtree(folder)
        return used

    monkeypatch.setattr(stemcache, "last_used", last_used)
    assert cache.put(new, _stems(2))  # "never raises for the disk"
    assert cache.keys() == [new]


def test_entries_that_cannot_be_deleted_are_not_counted_as_cleared(cache, monkeypatch):
    """A read-only cache (remove_tree logs what it cannot delete): clear counted every entry
    as deleted, and the window said the cache was cleared."""
    assert cache.put(_key(), _stems()) and cache.put(_key(model="other"), _stems(1))
    monkeypatch.setattr(stemcache_delete, "remove_tree", lambda folder: None)  # nothing goes
    assert cache.clear() == (0, 0, 2)
    assert cache.get(_key()) is not None


def test_a_file_where_the_cache_folder_goes_is_cleared_as_empty(tmp_path):
    """File ▸ Clear stem cache raised NotADirectoryError on the window's thread; get and put
    already only warn about such a cache."""
    root = tmp_path / "cache"
    root.write_bytes(b"not a folder")
    assert StemCache(root).clear() == (0, 0, 0)
    assert root.read_bytes() == b"not a folder"


def test_a_cache_folder_deleted_while_the_app_runs_is_made_again(cache):
    """A cleaner emptying ~/.cache with the window open: every song after it was separated
    without being kept ('No such file or directory', a warning), until the next start."""
    assert cache.put(_key(song="a" * 64), _stems(1))
    shutil.rmtree(cache.root)
    assert cache.put(_key(song="b" * 64), _stems(2))
    np.testing.assert_array_equal(cache.get(_key(song="b" * 64)).stems, _stems(2).data)
