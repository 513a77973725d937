"""Playback speed and key as a musician practising a part uses them: [ and ] step through the
speeds, \\ goes back to the song's pace, Ctrl+] and Ctrl+[ transpose by a semitone, Ctrl+\\
back to the song's key; the transport bar says both (amber while not as the song is) and offers
every one, and each song keeps its own: a new song plays as it is, a song shown again at the
speed and key it was left at."""

from __future__ import annotations

from PySide6.QtCore import Qt

from stemgui.playback.pitch import SEMITONES
from stemgui.playback.stretch import SPEEDS
from tests.ui.song_window import RATE, done_job, make_stemset, null_window


def test_keys_and_the_speed_button_set_the_speed_each_song_keeps(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    bar = win.transport_bar
    assert (bar.speed.text(), bar.speed.isChecked()) == ("100 %", False)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    assert win.player.speed == 0.9 and outputs[-1].transposer.speed == 0.9
    assert (bar.speed.text(), bar.speed.isChecked()) == ("90 %", True)
    bar.speed_actions[0.5].trigger()  # from the button's menu
    assert outputs[-1].transposer.speed == 0.5 and bar.speed.text() == "50 %"
    assert [s for s, action in bar.speed_actions.items() if action.isChecked()] == [0.5]
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)  # the slowest stays the slowest
    assert win.player.speed == SPEEDS[0] == 0.5
    # another song: as it is; the first shown again: at half speed again
    first = win.shown_job
    other = tmp_path / "other"
    other.mkdir()
    done_job(win, other, make_stemset(2 * RATE))
    assert len(outputs) == 2 and outputs[-1].transposer.speed == 1.0
    assert (bar.speed.text(), bar.speed.isChecked()) == ("100 %", False)
    win.show_job(first)
    assert outputs[-1].transposer.speed == 0.5 and bar.speed.text() == "50 %"
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    assert win.player.speed == 0.6
    qtbot.keyClick(win, Qt.Key.Key_Backslash)
    assert outputs[-1].transposer.speed == 1.0
    assert (bar.speed.text(), bar.speed.isChecked()) == ("100 %", False)
    for _ in SPEEDS:
        qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    assert win.player.speed == SPEEDS[-1] == 1.5
    win.close()


def test_at_half_speed_the_song_moves_half_as_fast(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    output, transport = outputs[-1], win.player.transport
    win.player.set_speed(0.5)
    transport.play()
    for _ in range(40):
        output.pump(1000)
    # 40000 frames heard: 20000 of song, and what the stretcher holds ahead (under 0.1 s)
    assert 20_000 <= transport.position <= 20_000 + RATE // 10
    win.player.set_speed(1.0)
    at = transport.position
    for _ in range(10):
        output.pump(1000)
    assert transport.position <= at + 10_000  # went back to the frame heard, then on at 1x
    win.close()


def test_at_half_speed_play_shows_again_as_the_song_s_end_is_heard(qtbot, settings_store, tmp_path):
    """It showed 120 ms before (960 frames here): the transport stopped as the stretcher read
    the song's end."""
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    output, player = outputs[-1], win.player
    player.set_speed(0.5)
    player.seek(player.transport.frames - RATE // 5)
    player.toggle()
    heard = played = 0
    shown = None  # when Play showed again
    while played < RATE:
        block = output.pump(64)
        played += 64
        heard = played if block.any() else heard
        player.poll()
        if shown is None and win.transport_bar.play.toolTip().startswith("Play"):
            shown = played
    assert heard - 64 <= shown <= heard + 64  # in the block with the last of it, or the next
    assert win.timeline.position == 0
    win.close()


def test_keys_and_the_key_button_transpose_each_song_as_it_keeps(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    bar = win.transport_bar
    assert (bar.key.text(), bar.key.isChecked()) == ("Key 0", False)
    up = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(win, Qt.Key.Key_BracketRight, up)
    qtbot.keyClick(win, Qt.Key.Key_BracketRight, up)
    assert win.player.semitones == 2 and outputs[-1].transposer.semitones == 2
    assert (bar.key.text(), bar.key.isChecked()) == ("Key +2", True)
    bar.key_actions[-3].trigger()
    assert outputs[-1].transposer.semitones == -3 and bar.key.text() == "Key −3"
    assert [s for s, action in bar.key_actions.items() if action.isChecked()] == [-3]
    for _ in SEMITONES:
        qtbot.keyClick(win, Qt.Key.Key_BracketLeft, up)
    assert win.player.semitones == SEMITONES[0] == -6
    first = win.shown_job
    other = tmp_path / "other"
    other.mkdir()
    done_job(win, other, make_stemset(2 * RATE))
    assert outputs[-1].transposer.semitones == 0  # another song: in its own key
    win.show_job(first)
    assert outputs[-1].transposer.semitones == -6 and bar.key.text() == "Key −6"
    qtbot.keyClick(win, Qt.Key.Key_Backslash, up)
    assert outputs[-1].transposer.semitones == 0 and bar.key.text() == "Key 0"
    assert not bar.key.isChecked()
    win.close()


def test_the_speed_trainer_goes_a_step_faster_each_time_round_the_loop(
    qtbot, settings_store, tmp_path
):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    output, player = outputs[-1], win.player
    player.set_loop(RATE, RATE + RATE // 4)  # a quarter of a second
    player.set_speed(0.5)

    def round_the_loop() -> None:
        wraps, laps = player.transport.wraps, output.laps
        while player.transport.wraps == wraps:  # read ahead, not yet played: no step yet
            output.pump(256)
        speed = player.speed
        player.poll()
        assert player.speed == speed
        while output.laps == laps:
            output.pump(256)
        player.poll()

    player.transport.play()
    round_the_loop()
    assert player.speed == 0.5  # off: as slow as it was set
    win.menu_bar.trainer_action.trigger()
    assert player.speed_trainer
    heard = []
    for _ in range(10):
        round_the_loop()
        heard.append(player.speed)
    assert heard == [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0]
    assert outputs[-1].transposer.speed == 1.0 and win.transport_bar.speed.text() == "100 %"
    win.close()


def test_k_turns_the_metronome_click_on_for_every_song(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    win.timeline.set_beats((1000.0, 4000.0))
    assert not outputs[-1].clicker.on
    qtbot.keyClick(win, Qt.Key.Key_K)
    assert win.player.click and outputs[-1].clicker.on
    assert outputs[-1].clicker.beats() == (1000.0, 4000.0)  # the grid the waveforms draw
    assert win.menu_bar.click_action.isChecked()
    other = tmp_path / "other"
    other.mkdir()
    done_job(win, other, make_stemset(2 * RATE))
    assert outputs[-1].clicker.on  # the next song too
    qtbot.keyClick(win, Qt.Key.Key_K)
    assert not outputs[-1].clicker.on
    win.close()


def test_k_on_a_song_without_a_beat_grid_says_why_it_is_not_heard(qtbot, settings_store, tmp_path):
    """It was turned on without a sound or a word: nothing told that the song has no grid."""
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)  # no tempo found: no grid
    qtbot.keyClick(win, Qt.Key.Key_K)
    assert win.player.click
    message = win.statusBar().currentMessage()
    assert message.startswith("This song has no beat grid (no steady tempo was found): the click")
    qtbot.keyClick(win, Qt.Key.Key_K)  # off: nothing to say
    win.statusBar().clearMessage()
    win.timeline.set_beats((1000.0, 4000.0))
    qtbot.keyClick(win, Qt.Key.Key_K)  # on, with a grid: heard, nothing to say
    assert win.statusBar().currentMessage() == ""
    win.close()


def test_the_click_and_the_speed_trainer_are_on_again_at_the_next_start(
    qtbot, settings_store, tmp_path
):
    """Like the menus' other ticks (snap to beats, the theme), they were forgotten at the close:
    a player practising with the click had to press K again every time."""
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    assert not win.menu_bar.click_action.isChecked() and not win.player.click
    qtbot.keyClick(win, Qt.Key.Key_K)
    win.menu_bar.trainer_action.trigger()
    win.close()
    again = null_window(qtbot, settings_store, outputs)
    assert again.menu_bar.click_action.isChecked() and again.player.click
    assert again.menu_bar.trainer_action.isChecked() and again.player.speed_trainer
    done_job(again, tmp_path)
    again.timeline.set_beats((1000.0, 4000.0))
    assert outputs[-1].clicker.on  # heard on the first song shown
    again.menu_bar.click_action.trigger()
    again.menu_bar.trainer_action.trigger()
    again.close()
    last = null_window(qtbot, settings_store, outputs)
    assert not last.player.click and not last.player.speed_trainer
    last.close()


def test_speed_and_key_are_off_without_a_song(qtbot, settings_store, tmp_path):
    """They stayed on with no song (amber "75 %" after the last song was removed), and a speed
    chosen then was dropped without a word by the first song, which plays as it is."""
    win = null_window(qtbot, settings_store, [])
    bar = win.transport_bar
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    assert win.player.speed == 1.0
    assert (bar.speed.text(), bar.speed.isEnabled(), bar.key.isEnabled()) == ("100 %", False, False)
    job = done_job(win, tmp_path)
    assert bar.speed.isEnabled() and bar.key.isEnabled()
    win.player.set_pace(0.75, 2)
    win.remove_job(job)
    assert (bar.speed.text(), bar.speed.isChecked(), bar.speed.isEnabled()) == (
        "100 %",
        False,
        False,
    )
    assert (bar.key.text(), bar.key.isChecked(), bar.key.isEnabled()) == ("Key 0", False, False)
    win.close()


def test_the_speed_button_says_a_speed_as_the_export_names_it(qtbot, settings_store, tmp_path):
    """A song restored at 0.333 (any speed the player takes) read "33 %", as 0.334 did."""
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.player.set_pace(0.333, 0)
    assert win.transport_bar.speed.text() == "33.3 %"
    win.player.set_pace(0.334, 0)
    assert win.transport_bar.speed.text() == "33.4 %"
    win.close()
