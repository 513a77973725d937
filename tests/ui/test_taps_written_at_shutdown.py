"""Taps not settled yet are written when the queue shuts down (the window's close runs
``QueueController.shutdown``), not through an event filter on the main window, which put every
window event through a Python check (``stemgui.ui.correction_writes``). That they are written as
the window closes: ``test_taps_written_settled``."""

from __future__ import annotations

import numpy as np

from stemgui.stems.analysis import TAPPED_FIELD
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import entry_info, shown, tap


def test_taps_not_settled_yet_are_written_at_the_queues_shutdown(qtbot, drums_win, drums_song):
    win = drums_win
    job = shown(qtbot, win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    win.player.toggle()
    for seconds in 1.0 + 0.6 * np.arange(4):  # 100 BPM
        tap(win, seconds)
    tapped = job.analysis.tempo
    assert tapped.bpm == 100.0
    assert TAPPED_FIELD not in entry_info(win, job)  # within a second of the last tap
    win.controller.shutdown()
    assert entry_info(win, job)[TAPPED_FIELD] == [tapped.bpm, tapped.first_beat, tapped.beat]
