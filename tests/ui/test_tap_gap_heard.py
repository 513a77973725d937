"""Tap tempo at half speed: the pause that starts the taps over is 2 s heard (the wall clock
between presses), not 2 s of the song; the taps are still read in the song's time."""

from __future__ import annotations

from tests.stems.drumkit import RATE
from tests.ui.drums_window import (
    rock_song,
    shown,
)


def test_taps_at_half_speed_two_seconds_heard_apart_start_over(qtbot, drums_win, tmp_path):
    shown(qtbot, drums_win, rock_song(tmp_path))
    taps = drums_win.menu_bar.tempo.taps
    drums_win.player.set_speed(0.5)
    drums_win.player.toggle()
    said = []
    for song in (2.0, 3.1, 4.2):  # 1.1 s of the song apart: 2.2 s heard
        drums_win.player.seek(round(song * RATE))
        taps.clock = lambda song=song: 100.0 + song / 0.5
        taps.action.trigger()
        said.append(drums_win.statusBar().currentMessage())
    assert all(message.startswith("Tap: 1 tap") for message in said)
    drums_win.player.seek(round(4.7 * RATE))  # 0.5 s of the song on: 1 s heard
    taps.clock = lambda: 100.0 + 4.7 / 0.5
    taps.action.trigger()
    assert drums_win.statusBar().currentMessage().startswith("Tap: 120.0 BPM (2 taps)")
