"""Tap tempo keeps the song's tempo with its stems once the taps settle, on a thread of its own
(``stemgui.ui.correction_writes``): every tap from the fourth on rewrote and synced the song's stem
cache entry on the GUI thread, and so did the fit of the taps to the song."""

from __future__ import annotations

import threading

import numpy as np

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import TAPPED_FIELD
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import (
    entry_info,
    shown,
    tap,
)


def test_taps_are_written_once_they_settle_off_the_gui_thread(
    qtbot, drums_win, drums_song, monkeypatch
):
    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    writes: list[tuple[str, bool]] = []
    update_info = StemCache.update_info

    def watched(cache, key, fields):
        writes.append((key, threading.current_thread() is threading.main_thread()))
        return update_info(cache, key, fields)

    monkeypatch.setattr(StemCache, "update_info", watched)
    drums_win.player.toggle()
    for seconds in 1.0 + 0.6 * np.arange(8):  # 100 BPM: a tempo set by five taps
        tap(drums_win, seconds)
    menu = drums_win.menu_bar.tempo
    assert job.analysis.tempo.bpm == 100.0
    assert [on_gui for _, on_gui in writes if on_gui] == []  # none on the GUI thread
    qtbot.waitUntil(lambda: not menu.taps.fitting and bool(writes), timeout=TIMEOUT_MS)
    menu.writes.flush()  # the fit's, should it have come after the first write
    menu.writes.wait()
    tapped = job.analysis.tempo
    assert entry_info(drums_win, job)[TAPPED_FIELD] == [tapped.bpm, tapped.first_beat, tapped.beat]
    assert {key for key, _ in writes} == {job.stem_entry}
    assert [on_gui for _, on_gui in writes if on_gui] == []
    assert len(writes) <= 2  # the taps', and the fit's where it came after them


def test_taps_not_settled_yet_are_written_as_the_window_closes(qtbot, drums_win, drums_song):
    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    drums_win.player.toggle()
    for seconds in 1.0 + 0.6 * np.arange(4):
        tap(drums_win, seconds)
    tapped = job.analysis.tempo
    assert tapped.bpm == 100.0
    drums_win.close()  # within a second of the last tap: quit
    assert entry_info(drums_win, job)[TAPPED_FIELD] == [tapped.bpm, tapped.first_beat, tapped.beat]
