"""An entry set aside to be deleted (evicted, cleared: ``stemgui.stemcache_delete``) by a run
killed mid-delete is garbage: nothing reads it. Told by its process id alone it stayed up to a
day where that id was another process's since; it holds its run's lock file, let go of as that
run ends, and the next start removes it whatever its process id."""

from __future__ import annotations

import os
import time

from stemgui.audio.atomic import part_pid
from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS
from stemgui.stemcache import StemCache
from stemgui.stemcache_delete import set_aside
from tests.stems.stemcache_rig import _key, _stems


def test_an_entry_left_set_aside_goes_at_the_next_start_though_its_id_is_taken(tmp_path):
    root = tmp_path / "cache"
    kept, gone = _key("a" * 64), _key("b" * 64)
    cache = StemCache(root)
    assert cache.put(kept, _stems()) and cache.put(gone, _stems(1))
    aside = set_aside(root / gone)  # the run that set it aside was killed here, long ago
    assert aside is not None and aside.entry.is_dir() and aside.owner is not None
    aside.owner.release()
    long_ago = time.time() - 10 * LOCKING_SECONDS
    os.utime(aside.folder / LOCK_NAME, (long_ago, long_ago))
    assert part_pid(aside.folder) == os.getpid()  # its id runs a process: this one
    assert StemCache(root).keys() == [kept]  # a new start opens the cache
    assert sorted(p.name for p in root.iterdir()) == [kept]


def test_a_write_in_progress_is_not_taken_for_an_entry_set_aside(tmp_path):
    root = tmp_path / "cache"
    key = _key()
    assert StemCache(root).put(key, _stems())
    writing = root / f".{key}.{os.getpid()}-12345678.stemgui-part"  # an older version's write
    writing.mkdir()
    StemCache(root).keys()
    assert writing.is_dir()
