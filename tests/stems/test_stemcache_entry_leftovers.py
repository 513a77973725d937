"""A run killed while it rewrote an entry's ``entry.json`` (the user's tempo correction) left the
new one, half written, beside it in the entry: it is removed when the entry is next read or
rewritten, and a rewrite going on in a live run is not."""

from __future__ import annotations

import os
import subprocess
import sys

from stemgui.stemcache import StemCache
from tests.stems.stemcache_rig import _key, _stems


def _leftover(folder, pid: int):
    part = folder / f".entry.json.{pid}-0badf00d.stemgui-part"
    part.write_text('{"schema": 1, "half', encoding="utf-8")
    return part


def test_a_killed_rewrite_s_leftover_goes_when_the_entry_is_next_read(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache = StemCache(tmp_path / "cache")
    key = _key()
    assert cache.put(key, _stems())
    size = cache.size()
    leftover = _leftover(cache.root / key, dead.pid)
    live = cache.root / key / f".entry.json.{os.getpid()}-12345678.stemgui-part"
    live.write_text("being written", encoding="utf-8")  # another thread's rewrite: not a crash
    assert StemCache(cache.root).get(key) is not None  # a new start reads the song's stems
    assert not leftover.exists() and live.exists()
    live.unlink()
    assert cache.size() == size


def test_a_killed_rewrite_s_leftover_goes_when_the_entry_is_rewritten(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache = StemCache(tmp_path / "cache")
    key = _key()
    assert cache.put(key, _stems())
    leftover = _leftover(cache.root / key, dead.pid)
    assert cache.update_info(key, {"tempo_factor": 2.0})
    assert sorted(p.name for p in (cache.root / key).iterdir()) == [
        "entry.json",
        "mix.npy",
        "stems.npy",
    ]
    assert not leftover.exists()
