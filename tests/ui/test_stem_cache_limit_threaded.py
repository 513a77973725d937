"""File ▸ Stem cache size…: a lower limit deletes the songs past it on a thread of its own,
the status bar saying the limit at once and what went once it is deleted."""

from __future__ import annotations

import os
import threading

import numpy as np

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import stem_cache_size
from tests.ui.song_window import null_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def test_a_lower_limit_deletes_off_the_window_s_thread_then_says_what_went(
    qtbot, settings_store, monkeypatch
):
    """Deleting a few songs' gigabytes on the window's thread froze the window for seconds."""
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)  # the limit in MiB: entries of 1.5
    window = null_window(qtbot, settings_store, [])
    cache = stem_cache_size.stem_cache_of(window)
    data = np.zeros((2, 2, FRAMES), np.float32)
    for used, letter in enumerate("ab", 1):
        assert cache.put(letter * 64, StemSet(("vocals", "other"), 8000, data, data.sum(0)))
        os.utime(cache.root / (letter * 64) / "entry.json", ns=(used, used))
    evict, on, release = StemCache.evict, [], threading.Event()

    def held_evict(self, *keep):
        on.append(threading.current_thread())
        if on[-1] is not threading.main_thread():
            release.wait(20)  # deleting for a while: the window goes on meanwhile
        return evict(self, *keep)

    monkeypatch.setattr(StemCache, "evict", held_evict)
    stem_cache_size.set_stem_cache_size(window, 2)
    qtbot.waitUntil(lambda: bool(on))
    assert on[0] is not threading.main_thread()
    said = window.statusBar().currentMessage
    assert said() == "Stem cache limit: 2 GB."  # at once, the stems still being deleted
    release.set()
    qtbot.waitUntil(lambda: said() != "Stem cache limit: 2 GB.", timeout=20_000)
    assert said() == (
        "Stem cache limit: 2 GB. The stems of the 1 song used least recently were deleted (2 MB)."
    )
    assert cache.keys() == ["b" * 64]
    window.close()
