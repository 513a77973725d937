"""The transport plays, seeks and loops: Space, a click and a drag on the waveforms, the
loop's readout, where a loop wraps when the output is behind the transport, the view
following the playhead, and a long song's pages let go of away from the playhead."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from stemgui.playback.null_output import NullOutput
from stemgui.playback.transport import MIN_LOOP_SECONDS, PlayState
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from stemgui.ui.timeline import Timeline
from tests.ui.song_window import NAMES, RATE, done_job, make_stemset, null_window


def test_transport_with_null_output_plays_seeks_and_loops(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    (output,) = outputs
    player, transport = win.player, win.player.transport
    assert win.transport_bar.play.isEnabled()
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert transport.state is PlayState.PLAYING
    output.pump(RATE // 2)
    player.poll()
    assert win.timeline.position == RATE // 2
    assert win.transport_bar.position.text() == "0:00.5 / 0:04.0"

    view = win.stems.rows["drums"].view
    x = view.width() // 4
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(x, 10))
    assert transport.position == view.frame_at(x)
    assert win.timeline.position == transport.position

    # Drag from 1/2 to 3/4 of the width: a loop region, turned on.
    a, b = view.width() // 2, 3 * view.width() // 4
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(a, 10))
    qtbot.mouseMove(view, QPoint(b, 10))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(b, 10))
    start, end = view.frame_at(a), view.frame_at(b)
    assert transport.loop == (start, end) and transport.loop_enabled
    assert win.transport_bar.loop.isChecked()
    assert transport.position == start  # the playhead jumps into the new loop
    output.pump(end - start + 100)  # past the loop end: wraps to its start
    assert transport.position == start + 100
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert not transport.loop_enabled
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert transport.state is PlayState.PAUSED
    # Shift+L forgets the region (it stayed drawn, and L only ever brought it back)
    qtbot.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)
    assert transport.loop is None and win.timeline.loop is None
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert transport.loop == win.timeline.view and transport.loop_enabled  # what is on screen
    win.close()
    assert output._thread is None


def test_the_transport_bar_says_where_the_loop_is(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    span = win.transport_bar.loop_span
    assert span.text() == "" and span.toolTip() == ""  # no region
    win.player.set_loop(RATE, 3 * RATE)
    assert span.text() == "Loop 0:01.0–0:03.0 (2.0 s)"
    qtbot.keyClick(win, Qt.Key.Key_L)  # set aside
    assert span.text() == "Loop 0:01.0–0:03.0 (2.0 s, off)"
    # under a second, to the hundredth (as the export names it): 10 ms read "0:01.0–0:01.0 (0.0 s)"
    win.player.set_loop(RATE, RATE + RATE // 100)
    assert span.text() == "Loop 0:01.00–0:01.01 (0.01 s)"
    qtbot.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)  # forgotten
    assert span.text() == ""
    qtbot.keyClick(win, Qt.Key.Key_L)  # no region: what is on screen, the whole song, said so
    assert span.text() == "Loop 0:00.0–0:04.0 (4.0 s)"
    win.close()


def test_a_loop_does_not_widen_the_window(qtbot, settings_store, tmp_path):
    """The loop readout asked for its whole text: setting a loop made the window's minimum
    164 px wider (674 to 838 px; 681 to 869 on a 12-minute song), and a window at its minimum
    grew. It is cut in the middle now, the whole of it in its tooltip."""
    from PySide6.QtWidgets import QLabel

    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path, make_stemset(frames=700 * RATE))  # "11:40.0" in the readouts
    qtbot.wait(10)
    narrowest = win.minimumSizeHint().width()
    assert narrowest < 840  # 804 px (687 before the speed and key buttons)
    win.player.set_loop(RATE, 699 * RATE)
    qtbot.wait(10)
    assert win.minimumSizeHint().width() == narrowest
    win.player.set_loop_enabled(False)  # ", off" said too
    qtbot.wait(10)
    assert win.minimumSizeHint().width() == narrowest
    span = win.transport_bar.loop_span
    whole = "Loop 0:01.0–11:39.0\u2069 (11:38.0, off)"
    assert span.text() == "Loop 0:01.0–11:39.0 (11:38.0, off)"
    win.resize(narrowest, win.height())
    qtbot.waitUntil(lambda: win.width() == narrowest)
    assert QLabel.text(span).endswith("0:01–11:39\u2069")  # shortened: its times to the second
    assert whole in span.toolTip() and "drag across the waveforms" in span.toolTip()
    win.resize(narrowest + span.sizeHint().width() + 100, win.height())  # room: all of it
    qtbot.waitUntil(lambda: QLabel.text(span).endswith(whole))
    assert span.toolTip().startswith("The loop region")
    win.resize(narrowest, win.height())
    win.player.clear_loop()
    win.player.seek(30 * RATE)  # "0:30.0 / 11:40.0"
    qtbot.wait(10)
    early = win.minimumSizeHint().width()
    win.player.seek(690 * RATE)  # "11:30.0": a digit more, and not a pixel wider
    qtbot.wait(10)
    assert win.minimumSizeHint().width() == early
    win.close()


@pytest.mark.parametrize("separating", [False, True])
def test_a_long_song_s_pages_away_from_the_playhead_leave_memory(qtbot, tmp_path, separating):
    """Played, drawn or exported through, a memory-mapped song's stems file would all count in
    the app's memory (4.9 GB for 60 minutes): every second the player lets go of its pages but
    those around the playhead. What is still being separated is left alone."""
    from stemgui.spool import reserved_memmap
    from stemgui.ui.player import TRIM_POLLS, Player
    from tests.fakes import FakeOutput, resident

    array = reserved_memmap(tmp_path / "stems.f32", (4, 2, 60 * RATE))
    array[:] = 0.25
    ready = 50 * RATE if separating else None
    player = Player(Timeline(), output_factory=FakeOutput)
    player.load(StemSet(NAMES, RATE, array, frames_ready=ready), MixerState(NAMES))
    player.transport.seek(30 * RATE)  # (no poll)
    assert resident(array, 0, 60 * RATE) == 1.0  # written, as if played through
    for _ in range(TRIM_POLLS - 1):
        player.poll()
    assert resident(array, 0, 60 * RATE) == 1.0  # not at every poll
    player.poll()
    assert resident(array, 0, 28 * RATE) == 0.0
    assert resident(array, 28 * RATE, 40 * RATE) == 1.0  # 2 s behind, 10 s ahead
    assert resident(array, 40 * RATE, 50 * RATE) == 0.0
    assert resident(array, 50 * RATE, 60 * RATE) == (1.0 if separating else 0.0)
    assert float(np.asarray(array).min()) == float(np.asarray(array).max()) == 0.25
    # looping 5 s - 35 s: where each wrap lands stays too, not read on the audio thread
    player.set_loop(5 * RATE, 35 * RATE)
    player.transport.seek(30 * RATE)
    for _ in range(TRIM_POLLS):
        player.poll()
    assert resident(array, 5 * RATE, 15 * RATE) == 1.0
    assert resident(array, 16 * RATE, 28 * RATE) == 0.0
    player.unload()


def test_a_loop_ending_just_past_the_frame_heard_plays_on_to_its_end(qtbot):
    """Slower, the transport reads the song ahead of what is heard (the stretcher's windows):
    a loop ending between the two was judged from the transport, past its end, and restarted
    from its start at once, the rest of it, on screen ahead of the playhead, never heard."""
    from stemgui.ui.player import Player

    class Heard(NullOutput):  # heard: the frame after the last one played, as without DAC times
        def heard_position(self):
            return self.played_position()

    player = Player(Timeline(), lambda *song: Heard(*song, blocksize=256))
    player.load(make_stemset(), MixerState(NAMES))
    player.set_speed(0.5)
    player.toggle()
    player.output.pump(RATE // 2)
    heard, read = player.output.heard_position(), player.transport.position
    assert read - heard > 200  # the song read ahead, not heard yet
    start, end = heard - RATE // 4, heard + 100
    player.set_loop(start, end)
    player.output.pump(64)
    # on from the frame heard to the loop's end, then round it: not back to its start at once
    assert heard < player.output.played_position() <= end
    player.output.pump(RATE // 4)
    assert player.output.laps == 1 and player.transport.loop == (start, end)
    player.unload()


def test_a_loop_ending_before_what_was_sent_starts_again_when_that_has_played(qtbot):
    """A device plays what it was sent a latency later: a loop ending after the frame it
    plays but before what it was sent cannot play to its end first; slower, the stretcher
    sent the transport back to what was sent, past the loop's end, and it played on to the
    song's end before going round."""
    from stemgui.ui.player import Player

    class Late(NullOutput):  # 300 frames of latency after what was sent
        def heard_position(self):
            sent = self.played_position()
            return None if sent is None else sent - 300

    player = Player(Timeline(), lambda *song: Late(*song, blocksize=256))
    player.load(make_stemset(), MixerState(NAMES))
    player.set_speed(0.5)
    player.toggle()
    player.output.pump(RATE // 2)
    sent = player.output.played_position()
    start, end = sent - RATE // 4, sent - 100  # the frame heard inside it, what was sent past it
    player.set_loop(start, end)
    player.output.pump(64)
    assert start <= player.output.played_position() < start + 100
    player.unload()


def test_a_loop_set_just_past_the_transport_at_speed_1_wraps_as_its_end_is_sent(qtbot):
    """At the song's pace what the transport sent is on its way to the speakers, and the
    loop starts again after it: read past the loop's end, it is sent back to its start."""
    from stemgui.ui.player import Player

    class Late(NullOutput):
        def heard_position(self):
            return max(self.transport.position - 300, 0)

    player = Player(Timeline(), lambda *song: Late(*song, blocksize=256))
    player.load(make_stemset(), MixerState(NAMES))
    player.toggle()
    player.output.pump(RATE)
    player.set_loop(RATE - 1000, RATE - 100)  # heard inside it, sent past its end
    assert player.transport.position == RATE - 1000
    player.set_loop(RATE - 3000, RATE - 2000)  # heard after it: into it
    assert player.transport.position == RATE - 3000
    player.output.pump(500)
    player.set_loop(RATE - 2600, RATE + 500)  # heard before it, sent into it: plays on into it
    assert player.transport.position == RATE - 2500
    player.unload()


def test_a_drag_shorter_than_the_shortest_loop_loops_the_shortest(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    win.timeline.set_view(1000, 1100)  # zoomed in as far as it goes: a few frames a pixel
    view = win.stems.rows["drums"].view
    a, b = view.width() // 4, view.width() // 4 + 10
    assert view.frame_at(b) - view.frame_at(a) < round(MIN_LOOP_SECONDS * RATE)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(a, 10))
    qtbot.mouseMove(view, QPoint(b, 10))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(b, 10))
    start = view.frame_at(a)
    transport = win.player.transport
    assert transport.loop == (start, start + round(MIN_LOOP_SECONDS * RATE))  # 10 ms
    assert win.timeline.loop == transport.loop and transport.loop_enabled  # drawn as it plays
    assert transport.position == start
    win.close()


def _play_until(win, output, frame):
    player = win.player
    while player.transport.playing and player.transport.position < frame:
        output.pump(256)
        player.poll()


@pytest.mark.parametrize("how", ["stop", "end"])
def test_a_zoomed_view_goes_back_to_the_start_with_the_playhead(
    qtbot, settings_store, tmp_path, how
):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    timeline, transport = win.timeline, win.player.transport
    win.menu_bar.zoom(0.25)  # a second on screen
    qtbot.keyClick(win, Qt.Key.Key_Space)
    _play_until(win, outputs[-1], 3 * RATE)
    assert timeline.view[0] >= 2 * RATE  # paged along
    if how == "stop":
        qtbot.keyClick(win, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    else:
        _play_until(win, outputs[-1], transport.frames + 1)  # until it stops by itself
    assert transport.position == 0 and timeline.view[0] == 0  # was left 2-3 s in
    qtbot.keyClick(win, Qt.Key.Key_Space)
    _play_until(win, outputs[-1], 2 * RATE)
    assert timeline.view[0] <= timeline.position < timeline.view[1]  # followed it again
    win.close()
