"""Playback ▸ Speed up each time round the loop says what it needs when it cannot act: turned on
at 100 % or with no loop, nothing changed and nothing was said (the metronome click says why
it is not heard; this said nothing)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeOutput
from tests.ui.conftest import RATE
from tests.ui.song_window import song_window


@pytest.fixture
def win(qtbot, settings_store, tmp_path):
    window, _job = song_window(qtbot, settings_store, tmp_path, output_factory=FakeOutput)
    yield window
    window.close()


def _turn_on(win) -> str:
    win.statusBar().clearMessage()
    action = win.menu_bar.trainer_action
    if action.isChecked():
        action.trigger()  # off
    action.trigger()
    assert action.isChecked() and win.player.speed_trainer
    return win.statusBar().currentMessage()


def test_at_the_song_s_pace_it_says_to_play_slower(win):
    win.player.set_loop(RATE, 2 * RATE)
    said = _turn_on(win)
    assert "slower" in said and "[" in said
    assert "loop" not in said.partition(":")[2]  # a loop there is: not asked for


def test_without_a_loop_it_says_to_loop_a_part(win):
    win.player.set_speed(0.75)
    said = _turn_on(win)
    assert "drag across the waveforms" in said and "[" not in said


def test_with_both_it_says_nothing(win):
    win.player.set_speed(0.75)
    win.player.set_loop(RATE, 2 * RATE)
    assert _turn_on(win) == ""


def test_turned_off_it_says_nothing(win):
    _turn_on(win)
    win.statusBar().clearMessage()
    win.menu_bar.trainer_action.trigger()
    assert win.statusBar().currentMessage() == ""
