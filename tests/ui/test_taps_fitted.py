"""Tap tempo on a long song: four taps 0.1 BPM fast give a grid that drifts from the beats; the
grid fitted to the song's onsets, on a thread, takes its place and is kept with the stems."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from stemgui.stems.analysis import TAPPED_FIELD
from tests.stems.drumkit import RATE, drum_track
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import (
    entry_info,
    off_grid,
    shown,
)

SECONDS = 90.0
HITS = 0.5 * np.arange(1, 2 * SECONDS - 1)  # rock drums at 120 BPM: a hit every half second


def test_taps_are_fitted_to_the_beats_of_the_whole_song(qtbot, drums_win, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, drum_track(120, SECONDS, "rock", seed=7).T, RATE, subtype="FLOAT")
    job = shown(qtbot, drums_win, path)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    taps = drums_win.menu_bar.tempo.taps
    drums_win.player.toggle()
    for seconds in 10.0 + 60 / 120.1 * np.arange(4):  # 120.1 BPM: 0.1 BPM fast
        drums_win.player.seek(round(seconds * RATE))
        taps.clock = lambda seconds=seconds: seconds
        taps.action.trigger()
    tapped = job.analysis
    assert tapped.tempo.bpm == 120.1 and off_grid(drums_win.timeline.beats, HITS) > 0.06 * RATE
    qtbot.waitUntil(lambda: job.analysis is not tapped, timeout=TIMEOUT_MS)
    assert job.analysis.tempo.bpm == 120.0
    assert off_grid(drums_win.timeline.beats, HITS) < 0.006 * RATE  # the first hit to the last
    assert "Tap: 120.1 BPM (4 taps), its grid fitted to the song's beats: 120.0 BPM." in (
        drums_win.statusBar().currentMessage()
    )
    fitted = job.analysis.tempo
    kept = drums_win.menu_bar.tempo.writes  # written once the taps settle: here at once
    kept.flush()
    kept.wait()
    assert entry_info(drums_win, job)[TAPPED_FIELD] == [fitted.bpm, fitted.first_beat, fitted.beat]
