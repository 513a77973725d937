"""A size limit set while keeping stems is off goes to the stem cache a store still running
keeps its stems in: the worker's and the dialog's cache are one object."""

from __future__ import annotations

import numpy as np

from stemgui.stems.stemset import StemSet
from stemgui.ui import stem_cache_size
from tests.ui.song_window import null_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def test_a_store_begun_before_keeping_was_turned_off_keeps_to_the_limit_set_since(
    qtbot, settings_store, monkeypatch
):
    """The limit went to a throwaway cache object: the store still running on the worker's
    evicted by the old limit (4 GB, say, after the user asked for 2)."""
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)  # the limit in MiB: entries of 1.5
    window = null_window(qtbot, settings_store, [])
    storing = window.controller.worker.stem_cache  # a store runs on it (``StemCacheSteps``)
    window.menu_bar.keep_stems(False)
    stem_cache_size.set_stem_cache_size(window, 2)
    data = np.zeros((2, 2, FRAMES), np.float32)
    for letter in "abc":  # it goes on storing, each put making room as it ends
        assert storing.put(letter * 64, StemSet(("vocals", "other"), 8000, data, data.sum(0)))
    assert sorted(storing.keys()) == ["c" * 64]  # 1.5 MiB under 2: a and b went
    window.menu_bar.keep_stems(True)
    assert window.controller.worker.stem_cache is storing  # kept in where it was, at 2
    window.close()
