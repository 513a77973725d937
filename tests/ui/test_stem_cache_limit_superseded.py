"""File ▸ Stem cache size… set twice quickly: the first limit's result, handed over after the
second's, was said last, the limit no longer set (stale); it is dropped."""

from __future__ import annotations

import os
import threading

import numpy as np

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import stem_cache_size, stem_cache_tasks
from tests.ui.song_window import null_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def test_the_first_of_two_limits_set_quickly_is_not_said_after_the_second(
    qtbot, settings_store, monkeypatch
):
    window = null_window(qtbot, settings_store, [])
    cache = stem_cache_size.stem_cache_of(window)  # room for the three entries
    data = np.zeros((2, 2, FRAMES), np.float32)
    for used, letter in enumerate("abc", 1):
        assert cache.put(letter * 64, StemSet(("vocals", "other"), 8000, data, data.sum(0)))
        os.utime(cache.root / (letter * 64) / "entry.json", ns=(used, used))
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)  # the limit in MiB: entries of 1.5
    evict, calls, release = StemCache.evict, [], threading.Event()

    def first_held(self, *keep):
        calls.append(1)
        if len(calls) == 1:
            release.wait(20)  # the first limit's deleting ends after the second's
        return evict(self, *keep)

    monkeypatch.setattr(StemCache, "evict", first_held)
    said = window.statusBar().currentMessage
    stem_cache_size.set_stem_cache_size(window, 4)
    qtbot.waitUntil(lambda: len(calls) == 1)
    stem_cache_size.set_stem_cache_size(window, 2)
    second = "Stem cache limit: 2 GB. The stems of the 2 songs used least recently were deleted"
    qtbot.waitUntil(lambda: said().startswith(second), timeout=20_000)
    with qtbot.waitSignal(stem_cache_tasks._relay.done, timeout=20_000):  # the first's result
        release.set()
    assert said().startswith(second)
    assert cache.keys() == ["c" * 64]
    window.close()
