"""A DJ's auto-loop: Alt+1/2/4/8 loop that many beats of the song's grid from the beat at the
playhead, looping at once; a song without a grid says so and keeps its loop."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt

from tests.ui.song_window import RATE, done_job, null_window

FIRST, BEAT = 1000.0, 4000.0  # a beat every half second at 8 kHz (120 BPM), the first at 1000


def test_alt_and_a_number_loops_that_many_beats_from_the_beat_at_the_playhead(
    qtbot, settings_store, tmp_path
):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)  # 4 s
    win.timeline.set_beats((FIRST, BEAT))
    player, transport = win.player, win.player.transport
    player.seek(10_500)  # between the beats at 9000 and 13000
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert transport.loop == (9000, 25_000) and transport.loop_enabled
    assert transport.position == 10_500  # inside the loop: playing goes on from here
    qtbot.keyClick(win, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert transport.loop == (9000, 13_000)
    player.seek(30_000)  # a loop that would run past the song's end stops at it
    qtbot.keyClick(win, Qt.Key.Key_8, Qt.KeyboardModifier.AltModifier)
    assert transport.loop == (29_000, 4 * RATE)
    player.seek(500)  # before the first beat: from the start of the song
    qtbot.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert transport.loop == (0, 5000)
    win.close()


def test_a_song_without_a_beat_grid_says_so_and_keeps_its_loop(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.player.set_loop(RATE, 2 * RATE)
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert win.player.transport.loop == (RATE, 2 * RATE)
    assert "no beat grid" in win.statusBar().currentMessage()
    win.close()


def test_a_song_with_a_tempo_but_no_grid_is_not_said_to_have_no_steady_tempo(
    qtbot, settings_store, tmp_path
):
    """Its title shows its tempo (one that changes, or a song shorter than 32 beats): "no
    steady tempo was found" said otherwise."""
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.tempo import Tempo

    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.waveforms = SimpleNamespace(analysis=Analysis(Tempo(123.4)))
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    message = win.statusBar().currentMessage()
    assert "no steady tempo" not in message and "no steady one at 123.4 BPM" in message
    win.close()


def test_a_song_still_separating_is_not_said_to_have_no_grid(qtbot, settings_store, tmp_path):
    """Its grid is fitted once it is separated: "no steady tempo was found" was untrue then
    (the demo has one), and said with no song at all too."""
    from stemgui.ui.queue import JobState

    win = null_window(qtbot, settings_store, [])
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert win.statusBar().currentMessage() == ""
    job = done_job(win, tmp_path)
    job.state = JobState.SEPARATING
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    message = win.statusBar().currentMessage()
    assert "no beat grid" not in message and "once it is separated" in message
    win.close()


def test_a_cancelled_song_is_not_said_to_be_separating(qtbot, settings_store, tmp_path):
    """What was made before the cancel plays, without a grid: "found once it is separated:
    meanwhile" said it was still separating."""
    from stemgui.ui.queue import JobState

    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.state = JobState.CANCELLED
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    message = win.statusBar().currentMessage()
    assert "separated to the end (Ctrl+R retries it): drag across" in message
    win.close()


def test_a_loop_from_a_beat_rounded_down_to_its_frame_is_looped_from_that_beat(
    qtbot, settings_store, tmp_path
):
    """A loop from the beat at 9000.3 starts on frame 9000; with the playhead there (a loop
    set away from the playhead puts it at the loop's start), Alt+1 looped the beat before."""
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.timeline.set_beats((FIRST + 0.3, BEAT))  # beats at 1000.3, 5000.3, 9000.3, ...
    player, transport = win.player, win.player.transport
    player.seek(30_000)
    player.set_loop(*win.timeline.snapped_region(8000, 16_500))  # a loop dragged
    assert transport.loop == (9000, 17_000) and transport.position == 9000
    qtbot.keyClick(win, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert transport.loop == (9000, 13_000)
    win.close()


def test_l_without_a_region_takes_the_playhead_into_what_it_loops(qtbot, settings_store, tmp_path):
    """L with no region loops what is on screen, as a drag there does, and a drag takes the
    playhead into its loop: L left it where it was, off screen, and Play went on there to the
    song's end (minutes of a long song) before the loop drawn and lit was heard."""
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)  # 4 s
    player, transport = win.player, win.player.transport
    player.seek(3 * RATE)
    win.timeline.set_view(RATE // 2, RATE)  # scrolled away from the playhead
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert transport.loop == (RATE // 2, RATE) and transport.loop_enabled
    assert transport.position == RATE // 2 and win.timeline.position == RATE // 2
    qtbot.keyClick(win, Qt.Key.Key_Space)
    outputs[-1].pump(3 * RATE // 4)  # to the loop's end and round it: never past it
    assert transport.position == 3 * RATE // 4 and transport.wraps == 1
    qtbot.keyClick(win, Qt.Key.Key_L)  # off, and on again: the region kept, the playhead too
    player.seek(2 * RATE)
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert transport.loop_enabled and transport.position == 2 * RATE
    win.close()
