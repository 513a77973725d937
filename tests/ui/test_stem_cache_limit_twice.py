"""File ▸ Stem cache size… set twice in a row: the first limit's songs deleted, its note handed
over once the second was set, was dropped as stale, and the second's found nothing more to
delete: "Stem cache limit: 4 GB." alone, the deletion never said. The latest limit's note says
what the limits set before it deleted."""

from __future__ import annotations

import os
import threading

import numpy as np

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import stem_cache_size
from tests.ui.song_window import null_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def test_the_second_limit_s_note_says_what_the_first_deleted(qtbot, settings_store, monkeypatch):
    window = null_window(qtbot, settings_store, [])
    cache = stem_cache_size.stem_cache_of(window)
    data = np.zeros((2, 2, FRAMES), np.float32)
    for used, letter in enumerate("abc", 1):
        assert cache.put(letter * 64, StemSet(("vocals", "other"), 8000, data, data.sum(0)))
        os.utime(cache.root / (letter * 64) / "entry.json", ns=(used, used))
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)  # the limit in MiB: entries of 1.5
    evict, evicted = StemCache.evict, []
    done = threading.Event()

    def telling(self, *keep):
        evicted.append(evict(self, *keep))
        done.set()
        return evicted[-1]

    monkeypatch.setattr(StemCache, "evict", telling)
    said = window.statusBar().currentMessage
    stem_cache_size.set_stem_cache_size(window, 2)
    assert done.wait(20)  # deleted; its note not handed over yet (the window's turn goes on)
    assert evicted == [["a" * 64, "b" * 64]]
    stem_cache_size.set_stem_cache_size(window, 4)  # nothing left past it
    both = "Stem cache limit: 4 GB. The stems of the 2 songs used least recently were deleted"
    qtbot.waitUntil(lambda: said() == f"{both} (3 MB).", timeout=20_000)
    assert cache.keys() == ["c" * 64]
    window.close()
