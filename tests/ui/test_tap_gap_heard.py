"""Tap tempo at half speed: the pause that starts the taps over is 2 s heard (the wall clock
between presses), not 2 s of the song; the taps are still read in the song's time."""

from __future__ import annotations

from tests.stems.drumkit import RATE
from tests.ui.drums_window import (
    drums_window_fixture,  # noqa: F401 (the fixture win)
    rock_song,
    shown,
)


def test_taps_at_half_speed_two_seconds_heard_apart_start_over(qtbot, win, tmp_path):
    shown(qtbot, win, rock_song(tmp_path))
    taps = win.menu_bar.tempo.taps
    win.player.set_speed(0.5)
    win.player.toggle()
    said = []
    for song in (2.0, 3.1, 4.2):  # 1.1 s of the song apart: 2.2 s heard
        win.player.seek(round(song * RATE))
        taps.clock = lambda song=song: 100.0 + song / 0.5
        taps.action.trigger()
        said.append(win.statusBar().currentMessage())
    assert all(message.startswith("Tap: 1 tap") for message in said)
    win.player.seek(round(4.7 * RATE))  # 0.5 s of the song on: 1 s heard
    taps.clock = lambda: 100.0 + 4.7 / 0.5
    taps.action.trigger()
    assert win.statusBar().currentMessage().startswith("Tap: 120.0 BPM (2 taps)")
