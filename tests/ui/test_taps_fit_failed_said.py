"""Tap tempo whose fitting to the song's beats fails (a bug, on its thread): the taps' grid
stays, and the status bar says so and where to look, as a tempo that could not be doubled or
halved does; it was in the log file alone."""

from __future__ import annotations

import numpy as np

from stemgui.stems import taps as taps_module
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import rock_song, shown


def test_taps_that_cannot_be_fitted_keep_their_grid_and_say_so(
    qtbot, drums_win, tmp_path, monkeypatch
):
    def broken(times, onsets):
        raise RuntimeError("a bug")

    monkeypatch.setattr(taps_module, "refined", broken)
    job = shown(qtbot, drums_win, rock_song(tmp_path))
    taps = drums_win.menu_bar.tempo.taps
    drums_win.player.toggle()
    for seconds in 5.0 + 0.5 * np.arange(4):
        drums_win.player.seek(round(seconds * RATE))
        taps.clock = lambda seconds=seconds: seconds
        taps.action.trigger()
    tapped = job.analysis
    assert tapped.tempo.bpm == 120.0
    qtbot.waitUntil(lambda: not taps._fitting, timeout=TIMEOUT_MS)
    assert job.analysis is tapped  # the taps' grid stays
    said = drums_win.statusBar().currentMessage()
    assert said.startswith(f"{job.title}: the taps' grid could not be fitted to the song's beats")
    assert "Help ▸ Open log folder" in said
