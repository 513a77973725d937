"""The tempo's and key's corrections wait, disabled, for a halving or a fit of taps worked out on
a thread for the song they correct only: a DJ correcting one song does not wait for another's
(``TempoMenu.waits``). Each result still lands in the song it was worked out for."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from stemgui.stems import taps as taps_module
from stemgui.stems.analysis import Analysis
from stemgui.stems.key import Key
from tests.stems.drumkit import RATE, drum_track
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import rock_song, shown

F_SHARP_MINOR = Key(6, "minor")


def _other_song(folder: Path) -> Path:
    """A file of other drums at 100 BPM, in ``folder``."""
    path = folder / "other.wav"
    sf.write(path, drum_track(100, 20.0, "rock", seed=7).T, RATE, subtype="FLOAT")
    return path


def _corrections(win) -> list:
    tempo = win.menu_bar.tempo
    win.menu_bar.key.update()  # as the Playback menu opens
    return [*tempo.actions.values(), tempo.beat_action, win.menu_bar.key.menu.menuAction()]


def _enabled(win) -> list[bool]:
    return [action.isEnabled() for action in _corrections(win)]


def _show(qtbot, win, job) -> None:
    win.select(job)
    qtbot.waitUntil(lambda: win.shown_job is job, timeout=TIMEOUT_MS)


def test_another_song_is_corrected_while_one_is_halved(qtbot, drums_win, tmp_path, monkeypatch):
    win, tempo = drums_win, drums_win.menu_bar.tempo
    first = shown(qtbot, win, rock_song(tmp_path))
    other = shown(qtbot, win, _other_song(tmp_path))
    scaled, halving = Analysis.scaled, threading.Event()

    def held(analysis, factor, stemset):
        if stemset is first.stemset:
            halving.wait(TIMEOUT_MS / 1000)  # the drums of a long song: a while
        return scaled(analysis, factor, stemset)

    monkeypatch.setattr(Analysis, "scaled", held)
    try:
        _show(qtbot, win, first)
        estimate = first.analysis
        tempo.actions[0.5].trigger()  # Halve the first song: worked out on a thread
        assert _enabled(win) == [False] * 4  # its own corrections wait for it
        _show(qtbot, win, other)
        assert _enabled(win) == [True] * 4  # the other song's do not
        bpm, grid = other.analysis.tempo.bpm, other.analysis.tempo
        win.player.seek(round(2.3 * RATE))
        tempo.beat_action.trigger()  # Move the beat grid to the playhead
        assert other.analysis.tempo != grid and other.analysis.tempo.bpm == bpm
        assert tempo.reset_action.isEnabled()
        win.menu_bar.key.key_actions[F_SHARP_MINOR].trigger()
        assert other.analysis.key == F_SHARP_MINOR
        tempo.actions[2.0].trigger()  # doubled on its own thread, not held
        qtbot.waitUntil(lambda: other.analysis.tempo.bpm == 2 * bpm, timeout=TIMEOUT_MS)
        tempo.reset_action.trigger()
        assert other.analysis.tempo.bpm == bpm and other.analysis.key == F_SHARP_MINOR
        assert first.analysis is estimate  # still being halved
    finally:
        halving.set()
    qtbot.waitUntil(lambda: first.analysis is not estimate, timeout=TIMEOUT_MS)
    assert first.analysis.tempo.bpm == estimate.tempo.bpm / 2  # in the first song only
    assert other.analysis.tempo.bpm == bpm and other.analysis.key == F_SHARP_MINOR
    assert win.shown_job is other and f"{bpm:g} BPM" in win.song_title.text()
    _show(qtbot, win, first)
    assert _enabled(win) == [True] * 4


def test_another_song_is_corrected_while_taps_are_fitted_to_one(
    qtbot, drums_win, tmp_path, monkeypatch
):
    win, tempo = drums_win, drums_win.menu_bar.tempo
    first = shown(qtbot, win, rock_song(tmp_path))
    other = shown(qtbot, win, _other_song(tmp_path))
    refined, fitting = taps_module.refined, threading.Event()

    def held(*args, **kwargs):
        fitting.wait(TIMEOUT_MS / 1000)  # fitting the taps to the song takes a while
        return refined(*args, **kwargs)

    monkeypatch.setattr(taps_module, "refined", held)
    try:
        _show(qtbot, win, first)
        win.player.toggle()
        for seconds in 2.5 + 0.5 * 1.002 * np.arange(4):  # 119.76 BPM: a little slow
            win.player.seek(round(seconds * RATE))
            tempo.taps.clock = lambda seconds=seconds: seconds
            tempo.taps.action.trigger()
        tapped = first.analysis
        assert _enabled(win) == [False] * 4  # its own corrections wait for the fit
        _show(qtbot, win, other)
        assert _enabled(win) == [True] * 4
        win.menu_bar.key.key_actions[F_SHARP_MINOR].trigger()
        assert other.analysis.key == F_SHARP_MINOR and first.analysis is tapped
    finally:
        fitting.set()
    qtbot.waitUntil(lambda: first.analysis is not tapped, timeout=TIMEOUT_MS)
    assert first.analysis.tempo.bpm == 120.0 and first.analysis.key is None
    assert other.analysis.key == F_SHARP_MINOR
