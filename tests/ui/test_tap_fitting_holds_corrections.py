"""While the taps' grid is fitted to the song on a thread (``stemgui.ui.tap_tempo``), Double,
Halve, Move the beat grid and Reset wait for it, disabled, as they wait for a halving: made
meanwhile, one of the two was dropped as the other's result arrived."""

from __future__ import annotations

import threading

import numpy as np

from stemgui.stems import taps as taps_module
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import rock_song, shown


def test_corrections_wait_for_the_taps_being_fitted(qtbot, drums_win, tmp_path, monkeypatch):
    job = shown(qtbot, drums_win, rock_song(tmp_path))
    tempo = drums_win.menu_bar.tempo
    corrections = [*tempo.actions.values(), tempo.beat_action, tempo.reset_action]
    refined, fitting = taps_module.refined, threading.Event()

    def held(*args, **kwargs):
        fitting.wait(20)  # fitting the taps to the song takes a while
        return refined(*args, **kwargs)

    monkeypatch.setattr(taps_module, "refined", held)
    taps = tempo.taps
    drums_win.player.toggle()
    for seconds in 2.5 + 0.5 * 1.002 * np.arange(4):  # 119.76 BPM: a little slow
        drums_win.player.seek(round(seconds * RATE))
        taps.clock = lambda seconds=seconds: seconds
        taps.action.trigger()
    tapped = job.analysis
    assert tapped.tempo is not None and tapped.tempo.bpm != 120.0
    assert [action.isEnabled() for action in corrections] == [False] * 4
    corrections[0].trigger()  # Double, pressed while the taps are fitted: nothing happens
    assert job.analysis is tapped and not tempo.busy
    fitting.set()
    qtbot.waitUntil(lambda: job.analysis is not tapped, timeout=TIMEOUT_MS)  # fitted: taken
    assert job.analysis.tempo.bpm == 120.0
    assert [action.isEnabled() for action in corrections] == [True] * 4
    corrections[0].trigger()  # doubled now, from the grid fitted
    qtbot.waitUntil(lambda: job.analysis.tempo.bpm == 240.0, timeout=TIMEOUT_MS)
