"""Playback ▸ Cues on a song of rock drums at 120 BPM (a beat every half second): a cue is set at
the playhead (on the nearest beat where loops snap), jumped to (playing on when playing,
waiting there when stopped), at the song's time at any speed and key, and cleared; its keys,
Shift+N and Ctrl+Shift+N, clash with no other key of the window and F1 lists them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from stemgui.stems.cues import FIELD
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import entry_info, shown

SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier


def _stored(qtbot, win, song):
    job = shown(qtbot, win, song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    return job


def _snap(win, on: bool) -> None:
    if win.menu_bar.snap_action.isChecked() != on:
        win.menu_bar.snap_action.trigger()


def test_a_cue_is_set_jumped_to_and_cleared(qtbot, drums_win, drums_song):
    win, menu = drums_win, drums_win.menu_bar.cues
    assert not menu.menu.menuAction().isEnabled()  # no song on screen
    job = _stored(qtbot, win, drums_song)
    assert menu.menu.menuAction().isEnabled() and not menu.clear_all_action.isEnabled()
    _snap(win, False)
    at_3_3, at_12 = round(3.3 * RATE), round(12.0 * RATE)
    win.player.seek(at_3_3)
    menu.set_actions[1].trigger()
    assert job.waveforms.cues.at(1) == at_3_3 / RATE
    said = win.statusBar().currentMessage()
    assert said == "rock.wav: cue 1 set at 0:03.30; Shift+1 jumps to it."
    win.player.seek(at_12)
    menu.set_actions[2].trigger()
    assert job.waveforms.cues.numbers() == [1, 2] and win.timeline.cues == {1: at_3_3, 2: at_12}
    assert menu.jump_actions[1].text() == "Jump to cue &1 (0:03.30)"
    assert menu.clear_actions[2].text() == "Clear cue &2 (0:12.00)"
    assert not menu.clear_actions[3].isEnabled() and menu.jump_actions[3].isEnabled()
    transport = win.player.transport
    menu.jump_actions[1].trigger()  # stopped: the playhead waits at the cue
    assert win.timeline.position == at_3_3 and not transport.playing
    win.player.toggle()
    menu.jump_actions[2].trigger()  # playing: plays on from the cue
    assert transport.position == at_12 and transport.playing
    win.player.toggle()
    menu.jump_actions[5].trigger()
    assert win.statusBar().currentMessage() == (
        "rock.wav has no cue 5: Ctrl+Shift+5 sets it at the playhead (Playback ▸ Cues)."
    )
    assert transport.position == at_12
    win.player.set_speed(0.5)
    win.player.transpose(-2)
    win.player.seek(at_3_3)
    menu.set_actions[2].trigger()  # set again: moved; at the song's time, at any speed and key
    assert job.waveforms.cues.at(2) == at_3_3 / RATE
    win.player.seek(0)
    menu.jump_actions[2].trigger()
    assert transport.position == at_3_3
    menu.clear_actions[1].trigger()
    assert job.waveforms.cues.numbers() == [2] and win.timeline.cues == {2: at_3_3}
    assert win.statusBar().currentMessage() == "rock.wav: cue 1 cleared."
    assert entry_info(win, job)[FIELD] == [None, at_3_3 / RATE, *[None] * 6]
    menu.clear_all_action.trigger()
    assert job.waveforms.cues.numbers() == [] and win.timeline.cues == {}
    assert not menu.clear_all_action.isEnabled()
    assert entry_info(win, job)[FIELD] == [None] * 8


def test_a_cue_snaps_to_the_nearest_beat_as_loops_do(qtbot, drums_win, drums_song):
    win, menu = drums_win, drums_win.menu_bar.cues
    job = _stored(qtbot, win, drums_song)
    _snap(win, True)
    first, length = win.timeline.beats
    assert length == pytest.approx(0.5 * RATE, rel=0.002)
    heard = round(3.3 * RATE)
    win.player.seek(heard)
    menu.set_actions[3].trigger()
    beat = round(first + round((heard - first) / length) * length)
    assert job.waveforms.cues.at(3) == beat / RATE == pytest.approx(3.5, abs=0.01)
    assert "(the beat nearest the playhead)" in win.statusBar().currentMessage()
    _snap(win, False)
    menu.set_actions[4].trigger()
    assert job.waveforms.cues.at(4) == heard / RATE  # as heard


def test_the_cue_keys_clash_with_no_other_and_f1_lists_them(qtbot, drums_win, drums_song):
    from stemgui.ui.shortcuts import shortcut_rows

    win = drums_win
    keys = [
        keys.toString()
        for owner in (win, win.queue)
        for action in owner.actions()
        for keys in action.shortcuts()
        if not keys.isEmpty()
    ]
    assert len(keys) == len(set(keys))
    assert {f"Shift+{n}" for n in range(1, 9)} | {f"Ctrl+Shift+{n}" for n in range(1, 9)} <= set(
        keys
    )
    rows = dict(shortcut_rows([win, win.queue]))
    assert rows["Shift+1 … Shift+8"] == "Jump to the cue with that number (Playback ▸ Cues)"
    assert rows["Ctrl+Shift+1 … Ctrl+Shift+8"] == (
        "Set the cue with that number at the playhead (Playback ▸ Cues)"
    )
    assert not any("cue 3" in what for what in rows.values())  # folded into one line each
    job = _stored(qtbot, win, drums_song)
    win.show()  # shortcuts reach the active window only
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    _snap(win, False)
    win.player.seek(round(7.25 * RATE))
    qtbot.keyClick(win, Qt.Key.Key_2, CTRL | SHIFT)
    assert job.waveforms.cues.numbers() == [2]
    win.player.seek(0)
    qtbot.keyClick(win, Qt.Key.Key_2, SHIFT)
    assert win.timeline.position == round(7.25 * RATE)
    qtbot.keyClick(win, Qt.Key.Key_1)  # the digit alone mutes the first stem, as before
    assert job.mixer.control("drums").mute and job.waveforms.cues.numbers() == [2]
