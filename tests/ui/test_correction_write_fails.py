"""A bug writing a tempo or key correction on its thread (``CorrectionWrites._write``) is logged
and said in the status bar; it is not raised again on the GUI thread by ``wait`` as the window
closes (``QueueController.shutting_down``), which would have ended the app with a traceback."""

from __future__ import annotations

import numpy as np

from stemgui.ui import correction_writes
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import shown, tap


def test_a_bug_writing_the_taps_correction_is_said_not_raised_at_the_close(
    qtbot, drums_win, drums_song, monkeypatch
):
    win = drums_win
    job = shown(qtbot, win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)

    def broken(*_args):
        raise KeyError("entry")

    monkeypatch.setattr(correction_writes, "kept_problem", broken)
    win.player.toggle()
    for seconds in 1.0 + 0.6 * np.arange(4):  # 100 BPM
        tap(win, seconds)
    win.controller.shutdown()  # writes what waits, and waits for it: no KeyError here
    qtbot.waitUntil(lambda: "keeping it failed" in win.statusBar().currentMessage(), timeout=5000)
