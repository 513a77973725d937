"""An unfinished stem cache entry holds its writer's lock file (``stemgui.run_folders``): one
of a run killed mid-write whose process id another process has since (this one, here) is
removed at the next start; one being written is not, and no entry keeps a lock file."""

from __future__ import annotations

import os
import shutil
import time

from stemgui import stemcache_entry
from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS, OwnerLock
from stemgui.stemcache import StemCache
from tests.stems.stemcache_rig import _key, _stems


def _unfinished(root, key, tail):
    """A copy of entry ``key`` as a write of this process id left it, and an old lock file."""
    part = root / f".{key}.{os.getpid()}-{tail}.stemgui-part"
    shutil.copytree(root / key, part)
    long_ago = time.time() - 10 * LOCKING_SECONDS
    (part / LOCK_NAME).write_bytes(b"")
    os.utime(part / LOCK_NAME, (long_ago, long_ago))
    return part


def test_a_killed_runs_unfinished_entry_goes_though_its_process_id_was_taken_since(tmp_path):
    """Told dead by its process id alone, a long song's gigabytes stayed for as long as
    another process had the id (after a reboot: for good)."""
    root = tmp_path / "cache"
    key = _key()
    StemCache(root).put(key, _stems())
    dead = _unfinished(root, key, "0badf00d")
    live = _unfinished(root, key, "12345678")
    held = OwnerLock(live)  # being written by this run: its lock held
    try:
        StemCache(root).keys()  # a new start opens the cache
        assert sorted(p.name for p in root.iterdir()) == sorted([key, live.name])
        assert not dead.exists()
    finally:
        held.release()
    older = root / f".{key}.{os.getpid()}-00000000.stemgui-part"  # an older version's: no lock
    shutil.copytree(root / key, older)
    StemCache(root).keys()
    assert older.is_dir() and not live.exists()


def test_an_entry_is_written_holding_its_lock_and_stored_without_it(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    seen = []
    real = stemcache_entry._write_npy

    def watching(path, array, cancel):
        seen.append(os.path.isfile(path.parent / LOCK_NAME))
        real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", watching)
    key = _key()
    assert StemCache(root).put(key, _stems())
    assert seen and all(seen)
    assert sorted(p.name for p in (root / key).iterdir()) == ["entry.json", "mix.npy", "stems.npy"]
