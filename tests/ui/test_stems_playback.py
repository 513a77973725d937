"""The stem rows drive the mixer; the transport plays, seeks and loops; export writes files."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.sounddevice_output import AudioDeviceError
from stemgui.playback.transport import MIN_LOOP_SECONDS, PlayState
from stemgui.stems.mixer import MIN_DB, ORIGINAL, MixerState, StemControl
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from stemgui.ui.export_targets import Existing
from stemgui.ui.queue import Job, JobState
from stemgui.ui.stemview import StemPanel
from stemgui.ui.timeline import Timeline
from stemgui.ui.window import MainWindow
from tests.ui.song_window import NAMES, RATE, make_stemset, show_song


@pytest.fixture
def panel(qtbot):
    timeline = Timeline()
    widget = StemPanel(timeline)
    qtbot.addWidget(widget)
    stemset = make_stemset()
    mixer = MixerState(NAMES)
    widget.show_song(stemset, mixer)
    widget.resize(800, 500)
    widget.show()
    return widget


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_solo_mute_truth_table_reaches_the_mixer(qtbot, panel):
    mixer, rows = panel.mixer, panel.rows
    assert mixer.gains == (1.0, 1.0, 1.0, 1.0)
    click(qtbot, rows["drums"].solo)
    assert mixer.control("drums").solo
    assert mixer.gains == (1.0, 0.0, 0.0, 0.0)
    assert rows["bass"].view.dimmed and not rows["drums"].view.dimmed
    click(qtbot, rows["vocals"].solo)
    assert mixer.gains == (1.0, 0.0, 0.0, 1.0)
    click(qtbot, rows["vocals"].mute)  # muted wins over soloed
    assert mixer.gains == (1.0, 0.0, 0.0, 0.0)
    click(qtbot, rows["drums"].solo)
    click(qtbot, rows["vocals"].solo)  # no solo left: everything but the muted vocals
    assert mixer.gains == (1.0, 1.0, 1.0, 0.0)
    click(qtbot, rows["vocals"].mute)
    assert mixer.gains == (1.0, 1.0, 1.0, 1.0)


def test_original_mix_row_solo_compares_the_song_with_its_stems(qtbot):
    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    mixer = MixerState(NAMES, original=True)
    widget.show_song(make_stemset(), mixer)
    row = widget.mix_row
    assert row.label.text() == "Original mix" and row.solo.accessibleName() == "Solo original mix"
    assert row.view.dimmed and not widget.rows["bass"].view.dimmed  # not heard until soloed
    click(qtbot, row.solo)
    assert mixer.gains == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert not row.view.dimmed and all(r.view.dimmed for r in widget.rows.values())
    click(qtbot, widget.rows["vocals"].solo)  # the vocals over the original
    assert mixer.gains == (0.0, 0.0, 0.0, 1.0, 1.0)
    row.gain.setValue(-6)
    assert mixer.gains[-1] == pytest.approx(10 ** (-6 / 20))


def test_the_original_mix_row_has_solo_and_gain_but_no_mute(qtbot):
    """Heard only when soloed, the original had an M that did nothing audible ("M off" read as
    "the original plays on top of the stems")."""
    from PySide6.QtWidgets import QToolButton

    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    mixer = MixerState(NAMES, original=True)
    mixer.take_controls({ORIGINAL: StemControl(-3.0, solo=True, mute=True)})  # saved with M on
    widget.show_song(make_stemset(), mixer)
    widget.show()
    row = widget.mix_row
    assert row.mute is None and [b.text() for b in row.findChildren(QToolButton)] == ["S"]
    assert row.solo.isChecked() and row.gain.value() == -3
    assert mixer.is_audible(ORIGINAL) and not row.view.dimmed  # not silenced for good
    widget.toggle(-1, "mute")  # no M to press
    assert not mixer.control(ORIGINAL).mute and mixer.is_audible(ORIGINAL)
    widget.toggle(-1, "solo")  # A: back to the stems
    assert not mixer.is_audible(ORIGINAL) and row.view.dimmed
    assert all(r.mute is not None for r in widget.rows.values())  # the stems keep theirs
    qtbot.waitUntil(lambda: row.solo.isVisible())

    def x(r) -> int:
        return r.solo.mapTo(widget, QPoint(0, 0)).x()

    assert x(row) == x(widget.rows["drums"])  # the S buttons still line up


def test_a_double_click_on_a_gain_or_its_value_sets_0_db(qtbot, panel):
    row = panel.rows["bass"]
    row.gain.setValue(-9)
    qtbot.mouseDClick(row.gain_label, Qt.MouseButton.LeftButton)
    assert row.gain.value() == 0 and panel.mixer.control("bass").gain_db == 0.0
    row.gain.setValue(7)
    qtbot.mouseDClick(row.gain, Qt.MouseButton.LeftButton)
    assert row.gain.value() == 0 and row.gain_label.text() == "+0 dB"
    for key in (Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):  # End was +12 dB
        qtbot.keyClick(row.gain, key)
        assert row.gain.value() == 0
    qtbot.keyClick(row.gain, Qt.Key.Key_Right)  # arrows step one dB
    assert row.gain.value() == 1
    row.gain.resize(200, row.gain.height())
    left = QPoint(5, row.gain.height() // 2)  # the groove, far left of the handle
    qtbot.mouseClick(row.gain, Qt.MouseButton.LeftButton, pos=left)
    assert row.gain.value() == 0  # a click beside the handle: one dB, not ten


def test_gain_slider_sets_decibels(qtbot, panel):
    row = panel.rows["bass"]
    row.gain.setValue(-6)
    assert panel.mixer.control("bass").gain_db == -6.0
    assert panel.mixer.gains[1] == pytest.approx(10 ** (-6 / 20))
    assert row.gain_label.text() == "\u22126 dB"  # the minus of "−∞ dB", not a hyphen
    row.gain.setValue(int(MIN_DB))
    assert panel.mixer.gains[1] == 0.0
    assert row.gain_label.text() == "−∞ dB"
    assert row.view.dimmed


def test_waveforms_fill_in_as_frames_become_ready(qtbot):
    timeline = Timeline()
    widget = StemPanel(timeline)
    qtbot.addWidget(widget)
    stemset = make_stemset(ready=0)
    widget.show_song(stemset, MixerState(NAMES))
    wave = widget.waveforms["drums"]
    assert wave.frames_ready == 0
    stemset.frames_ready = RATE
    widget.update_ready()
    assert wave.frames_ready == RATE
    mins, maxs = wave.envelope(0, stemset.frames, 4)
    assert maxs[0] > 0 and mins[0] < 0  # the first second is drawn
    assert mins[1:].tolist() == [0, 0, 0] and maxs[1:].tolist() == [0, 0, 0]  # the rest is not yet
    assert widget.rows["drums"].view.envelope_image().width() == widget.rows["drums"].view.width()


def _null_window(qtbot, settings_store, outputs):
    def factory(stemset, mixer, transport):
        output = NullOutput(stemset, mixer, transport, blocksize=256)
        outputs.append(output)
        return output

    win = MainWindow(S.Settings(settings_store), output_factory=factory, probe=False)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)  # shortcuts only reach the active window
    return win


def _done_job(win, tmp_path, stemset=None) -> Job:
    return show_song(win, tmp_path / "My Song.wav", stemset)


def test_transport_with_null_output_plays_seeks_and_loops(qtbot, settings_store, tmp_path):
    outputs = []
    win = _null_window(qtbot, settings_store, outputs)
    _done_job(win, tmp_path)
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
    win = _null_window(qtbot, settings_store, outputs)
    _done_job(win, tmp_path)
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

    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path, make_stemset(frames=700 * RATE))  # "11:40.0" in the readouts
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
    assert "…" in QLabel.text(span) and whole not in QLabel.text(span)
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
    win = _null_window(qtbot, settings_store, outputs)
    _done_job(win, tmp_path)
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


def test_heard_mix_follows_the_controls(qtbot, settings_store, tmp_path):
    outputs = []
    win = _null_window(qtbot, settings_store, outputs)
    job = _done_job(win, tmp_path)
    click(qtbot, win.stems.rows["vocals"].solo)
    win.transport_bar.volume.setValue(-6)
    win.player.toggle()
    block = outputs[0].pump(1000)
    expected = job.stemset.data[3, :, :1000].T * 10 ** (-6 / 20)
    fade = round(FADE_SECONDS * RATE)  # a start fades in
    expected[:fade] *= (np.arange(1, fade + 1) / fade)[:, None]
    np.testing.assert_allclose(block, expected, rtol=1e-6, atol=1e-7)
    win.close()


class LateOutput(NullOutput):
    """A device 1000 frames behind what it was handed."""

    def heard_position(self):
        return max(self.transport.position - 1000, 0)


def test_the_playhead_shows_the_frame_heard_while_playing(qtbot, settings_store, tmp_path):
    outputs = []

    def factory(stemset, mixer, transport):
        outputs.append(LateOutput(stemset, mixer, transport, blocksize=256))
        return outputs[-1]

    win = MainWindow(S.Settings(settings_store), output_factory=factory, probe=False)
    qtbot.addWidget(win)
    _done_job(win, tmp_path)
    win.player.toggle()
    outputs[-1].pump(RATE)
    win.player.poll()
    assert win.timeline.position == RATE - 1000
    assert win.transport_bar.position.text().startswith("0:00.9 ")
    win.player.toggle()  # paused: where Play goes on from
    assert win.timeline.position == RATE
    # Zoomed, and scrolled away while playing: a pause leaves the view where the user put it
    # (the playhead's step from the heard frame to the transport's paged it back).
    win.menu_bar.zoom(0.25)
    win.player.toggle()
    outputs[-1].pump(256)
    win.player.poll()
    win.timeline.set_view(3 * RATE, 4 * RATE)
    win.player.toggle()
    assert win.timeline.view == (3 * RATE, 4 * RATE)
    win.close()


def test_a_song_left_playing_comes_back_at_the_frame_heard(qtbot, settings_store, tmp_path):
    """It came back where the transport had run ahead to, the device's latency past what was
    heard (1000 frames here; slower, the song the stretcher had read ahead too): what the
    output was sent past it never played, the output closed as the song left."""

    def factory(stemset, mixer, transport):
        return LateOutput(stemset, mixer, transport, blocksize=256)

    win = MainWindow(S.Settings(settings_store), output_factory=factory, probe=False)
    qtbot.addWidget(win)
    first = _done_job(win, tmp_path)
    win.player.toggle()
    win.player.output.pump(RATE)
    win.player.poll()
    other = tmp_path / "other"
    other.mkdir()
    _done_job(win, other, make_stemset(2 * RATE))
    win.show_job(first)
    assert win.player.transport.position == win.timeline.position == RATE - 1000
    win.close()


def test_no_audio_device_turns_playback_off_and_the_rest_works(qtbot, settings_store, tmp_path):
    def no_device(stemset, mixer, transport):
        raise AudioDeviceError(
            "No audio output device could be opened (Error querying device -1). Plug one in."
        )

    win = MainWindow(S.Settings(settings_store), output_factory=no_device, probe=False)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    _done_job(win, tmp_path)
    first = "Playback is off: No audio output device could be opened (Error querying device -1)."
    assert win.statusBar().currentMessage() == first  # the rest ran on behind "Playback off"
    reason = first + " Plug one in."
    # Play stays clickable: it looks for a device again (a mouse user had no other way back)
    assert win.transport_bar.play.isEnabled()
    assert win.transport_bar.play.toolTip() == reason + "\nPlay tries again"
    win.statusBar().showMessage("My Song.wav: separated.", 5000)  # the next message
    assert win.playback_off.isVisibleTo(win) and win.playback_off.toolTip() == reason
    # the banner keeps saying it, once: not again at every song shown after the user closed it
    assert win.banner.isVisibleTo(win) and win.banner.text() == reason
    assert [b.text() for b in win.banner.buttons] == ["Try again"]
    win.banner.close_button.click()
    win.show_job(None)
    _done_job(win, tmp_path)
    assert not win.banner.isVisibleTo(win)
    # a song's failure takes the banner; once it goes, playback still off is said again
    win.show_error("broken.wav: could not be decoded", about="song")
    win.messages.clear("song")
    assert win.banner.isVisibleTo(win) and win.banner.text() == reason
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.player.transport.state is PlayState.STOPPED
    win.player.seek(1234)
    assert win.timeline.position == 1234
    click(qtbot, win.stems.rows["bass"].mute)
    assert win.shown_job.mixer.gains[1] == 0.0
    win.close()


def run_export(qtbot, win, job, request):
    task = win.export_job(job, request)
    assert task is not None
    qtbot.waitUntil(lambda: task not in win.exporter.tasks, timeout=20_000)
    return win.exports.last_export


def test_export_writes_the_chosen_stems_and_the_heard_mix(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    click(qtbot, win.stems.rows["drums"].mute)
    click(qtbot, win.stems.rows["bass"].mute)
    win.transport_bar.volume.setValue(-20)  # the listening volume is not part of the mix
    assert job.mixer.gains[2] == pytest.approx(0.1)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.stem_boxes["drums"].setChecked(False)
    dialog.stem_boxes["bass"].setChecked(False)
    dialog.mix.setChecked(True)
    dialog.format.setCurrentIndex(dialog.format.findData("wav32f"))
    dialog.template.setText("{track}/{stem}.{ext}")
    job.stemset.data[3] *= 20  # vocals over full scale: 32-bit float keeps them as they are
    assert np.abs(job.stemset.data[3]).max() > 1
    written = run_export(qtbot, win, job, dialog.request(job.mixer))
    folder = tmp_path / "out" / "My Song"
    assert written == [folder / "other.wav", folder / "vocals.wav", folder / "mix.wav"]
    assert sorted(p.name for p in folder.iterdir()) == ["mix.wav", "other.wav", "vocals.wav"]
    vocals, rate = sf.read(folder / "vocals.wav", dtype="float32", always_2d=True)
    assert rate == RATE
    np.testing.assert_array_equal(vocals.T, job.stemset.data[3])
    mix, _ = sf.read(folder / "mix.wav", dtype="float32", always_2d=True)
    np.testing.assert_allclose(mix.T, job.stemset.data[2] + job.stemset.data[3], atol=1e-5)
    assert job.export_folder == folder
    win.close()


def test_export_never_overwrites_without_asking(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    for name in ("drums", "bass", "other"):
        dialog.stem_boxes[name].setChecked(False)
    dialog.template.setText("{stem}.{ext}")
    target = tmp_path / "out" / "vocals.wav"
    target.parent.mkdir()
    target.write_bytes(b"keep me")
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.CANCEL
    assert win.export_job(job, dialog.request()) is None
    assert target.read_bytes() == b"keep me"
    assert "vocals.wav" in asked[0]
    win.exports.ask_existing = lambda message: Existing.REPLACE
    assert run_export(qtbot, win, job, dialog.request()) == [target]
    assert sf.info(target).frames == job.stemset.frames
    win.close()


def test_an_export_over_the_song_itself_is_refused_not_offered(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    job.path.write_bytes(b"the song")
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path)
    qtbot.addWidget(dialog)
    for name in ("drums", "bass", "other"):
        dialog.stem_boxes[name].setChecked(False)
    dialog.template.setText("{track}.{ext}")  # vocals as "My Song.wav", beside the song
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.REPLACE
    assert win.export_job(job, dialog.request()) is None
    assert asked == []  # was "1 file(s) exist already ... Replace them?", and Yes lost the song
    assert f"{job.path}: is the song itself" in win.message
    assert job.path.read_bytes() == b"the song"
    win.close()


def test_export_error_is_shown_in_words(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.template.setText("{song}.{ext}")
    assert win.export_job(job, dialog.request()) is None
    assert "unknown key {song}" in win.message
    dialog.template.setText("{stem}.{ext}")
    dialog.folder.setText(str(tmp_path / "file"))
    (tmp_path / "file").write_bytes(b"not a folder")
    assert win.export_job(job, dialog.request()) is None  # refused before any writing
    assert f"{tmp_path / 'file'}: is a file where the export needs a folder" in win.message
    assert win.banner.isVisibleTo(win)
    dialog.folder.setText(str(tmp_path / "out"))
    assert len(run_export(qtbot, win, job, dialog.request())) == 4
    assert not win.banner.isVisibleTo(win)  # the failure no longer stands
    win.close()


def test_a_stem_drags_out_as_a_wav_file(qtbot, panel, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.track = "My Song"
    mime = panel.drag_mime("bass")
    (url,) = mime.urls()
    path = url.toLocalFile()
    assert path == str(tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav")
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE and sf.info(path).subtype == "FLOAT"
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("bass"))  # as separated


def test_a_stem_dragged_again_reuses_its_file_while_it_is_as_written(
    qtbot, panel, tmp_path, monkeypatch
):
    """Every drag wrote the stem again on the GUI thread: 0.4 s for a 10-minute stem, 1 s
    resampled, each time the same stem was dragged into another track of the DAW."""
    import stemgui.audio.encode as encode
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writes = []
    for module, name in ((encode, "write_audio"), (stream, "write_blocks")):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, real=real, **k: writes.append(a[0]) or real(*a, **k)
        )
    panel.track = "My Song"
    first = panel.drag_file("bass")
    assert panel.drag_file("bass") == first and len(writes) == 1
    first.unlink()  # deleted since: written again
    assert panel.drag_file("bass") == first and len(writes) == 2 and first.is_file()


def test_a_stem_of_a_song_left_and_come_back_to_reuses_its_file(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """A finished song left reads its stems from the stem cache (``park``): the same stem
    dragged after coming back was written a second time, as "My Song (2) - bass.wav"."""
    from stemgui.ui.separation_options import SeparationOptions

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    job.cache_key = (str(job.path), 0, 0, SeparationOptions())
    first = win.stems.drag_file("bass")
    win.show_job(None)
    stems = job.stemset  # parked: the stem cache's copy of the same stems
    job.stemset = StemSet(stems.names, stems.samplerate, stems.data.copy(), mix=stems.mix)
    win.show_job(job)
    assert win.stems.drag_file("bass") == first
    assert sorted(p.name for p in first.parent.iterdir()) == ["My Song - bass.wav"]
    job.cache_key = (str(job.path), 0, 0, SeparationOptions(shifts=2))  # separated again
    assert win.stems.drag_file("bass").name == "My Song (2) - bass.wav"
    win.close()


def test_a_stem_dropped_earlier_is_never_written_over(qtbot, panel, tmp_path, monkeypatch):
    """A DAW plays a dropped file where it lies: dragging another song of the same name
    (cd1/01.wav, cd2/01.wav), or the stem at another rate, wrote over the file dropped before,
    and the DAW's first track played the second song."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.track = "My Song"
    first = panel.drag_file("bass")
    panel.drag_rate = lambda: 12000
    second = panel.drag_file("bass")
    assert second.name == "My Song (2) - bass.wav" and sf.info(second).samplerate == 12000
    assert sf.info(first).samplerate == RATE  # as dropped
    panel.drag_rate = lambda: RATE
    panel.show_song(make_stemset(3 * RATE), MixerState(NAMES), "My Song")  # same name
    third = panel.drag_file("bass")
    assert third.name == "My Song (3) - bass.wav" and sf.info(third).duration == 3.0
    assert sf.info(first).duration == 4.0  # the first song's, as dropped
    first.write_bytes(b"changed by someone else since")  # not ours any more: not written over
    panel.drag_rate = lambda: 12000
    assert panel.drag_file("bass").name == "My Song (4) - bass.wav"
    assert first.read_bytes() == b"changed by someone else since"


def test_a_stem_dropped_in_an_earlier_run_is_never_written_over(
    qtbot, panel, tmp_path, monkeypatch
):
    """Only the files of this run's drags were spared: the next session's drag of another
    song of the same name wrote over the file an Ableton project of the day before played."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    earlier = tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"dropped yesterday")
    panel.track = "My Song"
    assert panel.drag_file("bass").name == "My Song (2) - bass.wav"
    assert earlier.read_bytes() == b"dropped yesterday"


def test_a_stem_drags_out_at_the_rate_asked_resampled_as_julius_does(
    qtbot, panel, tmp_path, monkeypatch
):
    """A 48 kHz song's stem dropped into a DAW session at 48 kHz was at the model's rate."""
    import julius
    import torch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.drag_rate = lambda: 12000
    (url,) = panel.drag_mime("bass").urls()
    samples, rate = sf.read(url.toLocalFile(), dtype="float32", always_2d=True)
    expected = julius.resample_frac(torch.from_numpy(panel.stemset.stem("bass")), RATE, 12000)
    assert rate == 12000 and samples.shape == (6 * RATE, 2)
    np.testing.assert_allclose(samples.T, expected.numpy(), atol=1e-6)


def test_a_stem_drags_out_tagged_as_an_export_tags_it(qtbot, settings_store, tmp_path, monkeypatch):
    """The export dialog's files carry the song's tags, the stem in the title, its tempo and
    key; a dragged stem had none: "vocals" by nobody in a DJ's library, without its BPM."""
    from stemgui.audio.tags import read_tags
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.key import Key
    from stemgui.stems.tempo import Tempo
    from stemgui.stems.waveform import StemWaveforms
    from tests.audio.test_tempo_key_tags import tags_of

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = _null_window(qtbot, settings_store, [])
    win.settings.set(S.EXPORT_RATE, "stems")
    job = _done_job(win, tmp_path)
    with sf.SoundFile(job.path, "w", RATE, 2) as song:
        song.artist, song.title = "The Band", "Night Drive"
        song.write(np.zeros((RATE, 2), dtype=np.float32))
    bass = win.stems.drag_file("bass")  # not yet analysed: no tempo nor key
    assert read_tags(bass) == {"artist": "The Band", "title": "Night Drive (Bass)"}
    assert "TBPM" not in tags_of(bass)
    job.waveforms = StemWaveforms(job.stemset)
    job.waveforms.analysis = Analysis(Tempo(120.0), Key(2, "major"))  # found since
    again = win.stems.drag_file("bass")  # the file without them is not dropped again
    tags = tags_of(again)
    assert (tags["TBPM"], tags["TKEY"], tags["title"]) == ("120", "D", "Night Drive (Bass)")
    assert tags["comment"] == "Bass of Night Drive, separated by stemgui (tiny)"
    assert again.name == "My Song (2) - bass.wav" and "TBPM" not in tags_of(bass)
    assert win.stems.drag_file("bass") == again  # and then dropped again
    win.close()


def test_a_long_stem_drags_out_a_block_at_a_time(qtbot, panel, tmp_path, monkeypatch):
    """A stem on disk (a long song's, or any song's read back from the stem cache) dragged out
    at its own rate was copied whole into memory first, on the window's thread: 1.3 GB for a
    60-minute song. As at another rate, it is read a block at a time."""
    import tracemalloc

    from stemgui.audio.stream import BLOCK_FRAMES

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    frames = 16 * BLOCK_FRAMES
    data = np.memmap(tmp_path / "stems.f32", np.float32, "w+", shape=(4, 2, frames))
    data[1] = 0.01
    panel.show_song(StemSet(NAMES, RATE, data), MixerState(NAMES), "Long Song")
    tracemalloc.start()
    try:
        path = panel.drag_file("bass")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < data[1].nbytes / 2  # a few blocks of 2 MiB, not the stem's 32 MiB
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    np.testing.assert_array_equal(samples.T, data[1])


def test_a_stem_still_separating_does_not_drag_out(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    widget.show_song(make_stemset(ready=100), MixerState(NAMES), "Busy")
    errors = []
    widget.error.connect(errors.append)
    widget.drag_out("drums")
    # nor one cancelled, whose separation never finishes: it named no way on
    assert errors[0] == (
        "Busy: the stems can be dragged out once the whole song is separated "
        "(Retry a cancelled song)"
    )
    assert not (tmp_path / "cache" / "stemgui" / "drag").exists()


def test_a_drag_refused_is_said_until_a_drag_is_made(qtbot, settings_store, tmp_path, monkeypatch):
    """The banner of a drag refused stayed once the song had finished separating and its
    stems were dragged out: "the stems can be dragged out once the whole song is separated"
    over a song whose stems had just been dropped."""
    from PySide6.QtGui import QDrag

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(QDrag, "exec", lambda drag, actions: Qt.DropAction.CopyAction)
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path, make_stemset(ready=100))
    win.stems.drag_out("bass")
    assert win.banner.isVisibleTo(win) and "once the whole song is separated" in win.message
    job.stemset.frames_ready = job.stemset.frames  # finished since
    win.stems.drag_out("bass")
    assert not win.banner.isVisibleTo(win)
    assert (tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav").is_file()
    win.close()


def test_a_drag_folder_that_cannot_be_made_is_said(qtbot, panel, tmp_path, monkeypatch):
    """A file where the drag folder goes raised FileExistsError out of the drag."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")
    errors = []
    panel.error.connect(errors.append)
    panel.drag_out("bass")
    assert errors == [
        f"{folder}: the folder dragged stems are written to cannot be made (File exists); "
        f"move away the file in its place or make {folder.parent} writable"
    ]


def test_a_drag_folder_that_cannot_be_made_on_a_full_disk_says_to_free_space(
    qtbot, panel, tmp_path, monkeypatch
):
    """It said to move away a file in its place or make the cache folder writable."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "mkdir", full)
    errors = []
    panel.error.connect(errors.append)
    panel.drag_out("bass")
    assert errors == [
        f"{folder}: the folder dragged stems are written to cannot be made (No space left on "
        "device); free some space or export it to another folder with File ▸ Export stems…"
    ]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "the disk is full; free some space or export it to another folder with "
            "File ▸ Export stems…",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied"),
            "the folder {folder} is not writable; export it to another folder with "
            "File ▸ Export stems… or change its permissions",
        ),
    ],
)
def test_a_drag_that_cannot_be_written_says_what_can_be_done(
    qtbot, panel, tmp_path, monkeypatch, error, said
):
    """A full disk or a drag folder not writable said "choose another folder", which a drag
    cannot do."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"

    def refused(self, data):
        raise error

    monkeypatch.setattr(sf.SoundFile, "write", refused)
    errors = []
    panel.error.connect(errors.append)
    panel.track = "My Song"
    panel.drag_out("bass")
    path = folder / "My Song - bass.wav"
    assert errors == [f"{path}: could not be written: " + said.format(folder=folder)]
    assert list(folder.iterdir()) == []  # nor a temporary file


def test_export_dialog_shows_an_example_name_and_template_errors(qtbot, settings_store, tmp_path):
    dialog = ExportDialog(
        NAMES, S.Settings(settings_store), tmp_path, track="My Song", model="htdemucs"
    )
    qtbot.addWidget(dialog)
    assert dialog.example.text() == f"e.g. {tmp_path / 'htdemucs' / 'My Song' / 'drums.wav'}"
    dialog.format.setCurrentIndex(dialog.format.findData("mp3"))
    assert dialog.example.text().endswith("drums.mp3") and dialog.bitrate.isEnabled()
    dialog.template.setText("{stem")
    assert "template" in dialog.problem.text() and not dialog.export_button.isEnabled()
    assert dialog.example.text() == "" and dialog.example.isHidden()
    dialog.template.setText("{stem}.{ext}")
    for name in NAMES:
        dialog.stem_boxes[name].setChecked(False)
    assert "nothing to export" in dialog.problem.text() and not dialog.export_button.isEnabled()
    dialog.mix.setChecked(True)  # the first file is the one the export writes first
    assert dialog.example.text() == f"e.g. {tmp_path / 'mix.mp3'}"
    assert dialog.problem.text() == "" and dialog.problem.isHidden()
    assert dialog.export_button.isEnabled()
    dialog.two_stems.setChecked(True)
    assert dialog.example.text() == f"e.g. {tmp_path / 'vocals.mp3'}"


def test_the_loop_region_can_be_exported_alone(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    assert win.exports._loop_seconds() is None
    win.player.set_loop(RATE, RATE * 5 // 2)
    assert win.exports._loop_seconds() == (1.0, 2.5)
    dialog = ExportDialog(
        NAMES, S.Settings(settings_store), tmp_path, track="My Song", model="m", loop=(1.0, 2.5)
    )
    qtbot.addWidget(dialog)
    assert dialog.only_loop.text() == (
        "Only the loop region: 0:01.00–0:02.50 (1.50 s), named 0m01.00s-0m02.50s"
    )
    assert not dialog.only_loop.isChecked() and dialog.request().span is None
    dialog.only_loop.setChecked(True)
    assert dialog.request().span == (1.0, 2.5)
    assert (
        dialog.example.text()
        == f"e.g. {tmp_path / 'm' / 'My Song 0m01.00s-0m02.50s' / 'drums.wav'}"
    )
    win.close()


def test_export_dialog_refuses_a_template_that_puts_two_stems_in_one_file(
    qtbot, settings_store, tmp_path
):
    (tmp_path / "a.wav").write_bytes(b"")  # exists: the export asks about it, not the dialog
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="a", model="m")
    qtbot.addWidget(dialog)
    dialog.template.setText("{track}.{ext}")
    assert "the same file; put {stem} in it" in dialog.problem.text()
    assert not dialog.export_button.isEnabled()
    for name in ("drums", "bass", "other"):  # vocals alone: one file, no clash
        dialog.stem_boxes[name].setChecked(False)
    assert dialog.example.text() == f"e.g. {tmp_path / 'a.wav'}"
    assert dialog.export_button.isEnabled()


def test_export_folders_are_the_songs_unless_another_is_chosen(qtbot, settings_store, tmp_path):
    settings = S.Settings(settings_store)
    first, second = tmp_path / "A", tmp_path / "B"

    def dialog_for(folder):
        dialog = ExportDialog(NAMES, settings, folder, track="s", model="m")
        qtbot.addWidget(dialog)
        dialog.template.setText("{stem}.{ext}")
        return dialog

    dialog = dialog_for(first)
    assert dialog.request().folder == first
    dialog.remember_folder()  # exported beside the first song
    assert settings.get(S.EXPORT_FOLDER) == ""
    dialog = dialog_for(second)
    assert dialog.folder.text() == str(second) and dialog.request().folder == second
    for typed in ("", "   "):  # blank: beside the song, not the app's working folder
        dialog.folder.setText(typed)
        assert dialog.example.text() == f"e.g. {second / 'drums.wav'}"
    dialog.folder.setText("stems")  # relative: in the song's folder
    assert dialog.example.text() == f"e.g. {second / 'stems' / 'drums.wav'}"
    dialog.remember_folder()
    assert settings.get(S.EXPORT_FOLDER) == "stems"
    assert dialog_for(first).request().folder == first / "stems"  # beside each song
    chosen = tmp_path / "All stems"
    dialog.folder.setText(str(chosen))
    dialog.remember_folder()
    assert dialog_for(second).request().folder == chosen


def test_an_output_that_dies_turns_playback_off_with_a_message(qtbot, settings_store, tmp_path):
    outputs = []
    win = _null_window(qtbot, settings_store, outputs)
    _done_job(win, tmp_path)
    win.player.toggle()
    assert win.player.transport.playing
    outputs[0]._fail("The audio output stopped (was the device unplugged?).")
    win.player.poll()
    assert not win.player.transport.playing
    assert "device unplugged" in win.statusBar().currentMessage()
    win.player.seek(500)  # the rest keeps working
    assert win.timeline.position == 500
    win.close()


def test_a_message_naming_a_long_file_does_not_widen_the_window(qtbot, settings_store, tmp_path):
    """The banner asked for the width of its longest word: an error naming a file whose name
    has no spaces (a download's "Artist_-_Title_(Official_Video)") made the narrowest window
    that much wider, and a window at its narrowest grew past its screen's edge. Such a word is
    cut at the banner's edge now; selected, it copies whole."""
    win = _null_window(qtbot, settings_store, [])
    narrowest = win.minimumSizeHint().width()
    win.resize(narrowest, 700)
    qtbot.waitUntil(lambda: win.width() == narrowest)
    name = "Some_Artist_-_A_Very_Long_Song_Title_(Official_Music_Video)_[Extended_Mix]_1080p.wav"
    win.show_error(f"Could not write {tmp_path / name}: the disk is full. Free some space.")
    qtbot.wait(50)
    assert win.banner.isVisible() and name in win.banner.text()
    assert win.minimumSizeHint().width() == narrowest  # was 1111 px, from 764
    assert win.width() == narrowest
    win.close()


def test_the_ruler_stays_when_the_stem_rows_scroll(qtbot, settings_store, tmp_path):
    """Six stems in a short window scroll: the ruler scrolled away with the first rows, and
    with it the times, the playhead's marker and the click that seeks. Above the rows, it is
    drawn again when their scroll bar comes or goes."""
    win = _null_window(qtbot, settings_store, [])
    win.resize(900, win.minimumSizeHint().height())
    names = ("drums", "bass", "other", "vocals", "guitar", "piano")
    data = np.zeros((6, 2, 4 * RATE), np.float32)
    _done_job(win, tmp_path, StemSet(names, RATE, data, mix=data.sum(axis=0)))
    ruler, area = win.stems.ruler, win.stems.scroll_area
    bar = area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    redrawn = []
    ruler.update = lambda: redrawn.append(True)  # (the platform here repaints it anyway)
    row = win.stems.mix_row  # the row the ticks are lined up with narrows, as with a scroll
    row.setMaximumWidth(row.width() - 16)  # bar that comes, and the ruler above does not:
    qtbot.waitUntil(lambda: bool(redrawn))  # its ticks are drawn again, to go with the rows
    del ruler.update
    bar.setValue(bar.maximum())  # down to the last row
    qtbot.waitUntil(lambda: win.stems.rows["piano"].visibleRegion().boundingRect().height() > 40)
    assert ruler.visibleRegion().boundingRect().height() == ruler.height()  # was empty
    win.close()


def test_the_queue_and_the_player_cannot_be_dragged_out_of_sight(qtbot, settings_store):
    """The handle between the queue and the player, dragged past the player's narrowest,
    collapsed it to nothing: the stems, the transport and the banner's messages were gone, and
    the handle left at the window's edge did not say where they were."""
    win = _null_window(qtbot, settings_store, [])
    splitter = win.centralWidget()
    splitter.moveSplitter(win.width(), 1)  # all the way right
    assert splitter.sizes()[1] >= win.transport_bar.minimumSizeHint().width()  # was 0
    assert win.transport_bar.visibleRegion().boundingRect().width() > 0
    splitter.moveSplitter(0, 1)  # all the way left
    assert splitter.sizes()[0] > 0 and win.queue.visibleRegion().boundingRect().width() > 0
    win.close()


def test_a_click_on_the_ruler_seeks_only_over_the_waveforms(qtbot, settings_store, tmp_path):
    """A click on the ruler above the stems' names and buttons, where it shows no time, sent
    the playhead to the start; one over the waveforms seeks there."""
    from PySide6.QtTest import QTest

    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)  # 4 s
    win.player.seek(2 * RATE)
    qtbot.waitUntil(lambda: win.timeline.position == 2 * RATE)
    ruler, view = win.stems.ruler, win.stems.mix_row.view
    left = ruler.mapFrom(win, view.mapTo(win, QPoint(0, 0))).x()  # where the waveforms begin
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(left // 2, 10))
    qtbot.wait(50)
    assert win.timeline.position == 2 * RATE  # was 0
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(left + view.width() // 4, 10))
    qtbot.waitUntil(lambda: abs(win.timeline.position - RATE) <= 4 * RATE / view.width())
    win.close()


def test_a_long_song_name_is_cut_in_the_title_not_added_to_the_window(
    qtbot, settings_store, tmp_path
):
    from PySide6.QtWidgets import QLabel

    win = _null_window(qtbot, settings_store, [])
    win.resize(1000, 700)
    qtbot.waitUntil(lambda: win.width() == 1000)
    song = tmp_path / f"{'A Very Long Artist Name - ' * 6}Song (2024 Remaster).wav"
    job = show_song(win, song, model_name="m")
    qtbot.wait(50)
    assert win.width() == 1000 and win.minimumSizeHint().width() < 1000  # was 1957 px
    shown = QLabel.text(win.song_title)
    # the model gives way first, then the middle of the name; no extension
    assert "…" in shown and shown.endswith("Remaster)\u2069") and " — m" not in shown
    assert win.song_title.text() == f"{song.stem} — m"
    assert win.song_title.toolTip() == f"\u200e\u2068{song.stem}\u2069 — m"  # the name isolated
    # separating: the name gives way, the state stays whole
    job.state, job.model_name = JobState.SEPARATING, "stemgui-htdemucs-small"
    win.resize(800, 700)  # about the narrowest it gets
    qtbot.waitUntil(lambda: win.width() <= 800)
    win.screen.show_title(job)
    shown = QLabel.text(win.song_title)
    assert "…" in shown and shown.endswith("\u2069  (separating 100 %)") and "htdemucs" not in shown
    assert shown.startswith("\u200e\u2068A") and len(shown) < len(win.song_title.text())
    win.close()


def test_two_stem_stems_replace_the_four_in_place_and_playback_goes_on(
    qtbot, settings_store, tmp_path
):
    outputs = []
    win = _null_window(qtbot, settings_store, outputs)
    job = _done_job(win, tmp_path)
    job.state = JobState.SEPARATING  # the four stems of a two-stem run, as they come
    click(qtbot, win.stems.rows["vocals"].solo)
    win.stems.rows["vocals"].gain.setValue(-4)
    win.player.set_loop(1000, 20000)
    win.player.seek(5000)
    win.player.toggle()
    assert win.player.transport.playing
    four = job.stemset
    job.stemset = StemSet(
        ("vocals", "no_vocals"),
        RATE,
        np.stack([four.data[3], four.data[:3].sum(axis=0)]),
        mix=four.mix,
    )
    job.state = JobState.DONE
    win.following.job_ended(job)  # what the controller's job_ended calls
    assert list(win.stems.rows) == ["vocals", "no_vocals"]
    transport = win.player.transport
    assert transport.playing and transport.position == 5000  # it stopped at the swap
    assert (transport.loop, transport.loop_enabled) == ((1000, 20000), True)
    assert job.mixer.control("vocals").solo and job.mixer.control("vocals").gain_db == -4.0
    assert win.stems.rows["vocals"].gain.value() == -4
    win.close()


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"drums": "mute", "bass": "mute", "other": "mute"}, StemControl(mute=True)),
        ({"drums": "mute"}, StemControl()),  # they differ: no_vocals fresh, and a note
        ({}, StemControl()),
    ],
)
def test_no_vocals_takes_the_controls_its_stems_had_when_they_agree(
    qtbot, settings_store, tmp_path, changes, expected
):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    job.state = JobState.SEPARATING  # the four stems of a two-stem run, as they come
    for name, button in changes.items():
        click(qtbot, getattr(win.stems.rows[name], button))
    win.statusBar().clearMessage()
    four = job.stemset
    job.stemset = StemSet(
        ("vocals", "no_vocals"), RATE, np.stack([four.data[3], four.data[:3].sum(axis=0)])
    )
    job.state = JobState.DONE
    win.following.job_ended(job)
    assert job.mixer.control("no_vocals") == expected
    assert win.stems.rows["no_vocals"].mute.isChecked() == expected.mute
    note = win.statusBar().currentMessage()
    assert ("no_vocals, their sum, starts unmuted at 0 dB" in note) == (len(changes) == 1)
    win.close()


def test_a_restored_two_stem_song_gets_back_its_no_vocals_strip(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    song = tmp_path / "My Song.wav"
    song.write_bytes(b"")
    job = Job(song, state=JobState.SEPARATING, model_name="tiny")
    job.strips = {"vocals": StemControl(2.0), "no_vocals": StemControl(-3.0, solo=True)}
    win.controller.model._jobs.append(job)
    job.stemset = make_stemset()  # the four stems come first (separated, or from the cache)
    win.show_job(job)
    win.stems.rows["vocals"].gain.setValue(-4)  # changed in this session: this one stays
    four = job.stemset
    job.stemset = StemSet(
        ("vocals", "no_vocals"), RATE, np.stack([four.data[3], four.data[:3].sum(axis=0)])
    )
    job.state = JobState.DONE
    win.following.job_ended(job)
    assert job.mixer.control("no_vocals") == StemControl(-3.0, solo=True)
    assert job.mixer.control("vocals").gain_db == -4.0
    assert win.stems.rows["no_vocals"].solo.isChecked()
    win.close()


def test_playing_a_song_being_separated_waits_for_it_and_not_after_a_cancel(
    qtbot, settings_store, tmp_path
):
    outputs = []
    win = _null_window(qtbot, settings_store, outputs)
    song = tmp_path / "My Song.wav"
    song.write_bytes(b"")
    job = Job(song, state=JobState.SEPARATING, stemset=make_stemset(ready=0), model_name="m")
    win.controller.model._jobs.append(job)
    win.show_job(job)
    transport = win.player.transport
    qtbot.keyClick(win, Qt.Key.Key_Space)  # pressed before anything is separated
    outputs[-1].pump(RATE)
    assert transport.playing and transport.position == 0  # waits: nothing skipped unheard
    win.player.poll()
    assert win.transport_bar.position.text() == "0:00.0 / 0:04.0  waiting…"
    assert "waits here for the separation" in win.transport_bar.position.toolTip()
    win.resize(600, 500)  # as narrow as it goes: the note is whole, the volume slider gives way
    qtbot.wait(20)
    label = win.transport_bar.position
    assert label.width() >= label.sizeHint().width()
    job.stemset.frames_ready = RATE // 2
    outputs[-1].pump(RATE // 4)
    win.player.poll()
    assert win.transport_bar.position.text() == "0:00.3 / 0:04.0"  # plays what is there (0.25 s)
    outputs[-1].pump(RATE)
    assert transport.playing and transport.position == RATE // 2
    job.state = JobState.CANCELLED  # the rest will not come: it plays on (silence) to the end
    win.following.job_ended(job)
    outputs[-1].pump(RATE)
    assert transport.playing and transport.position == RATE // 2 + RATE
    win.close()


@pytest.mark.parametrize("speed", [1.0, 0.5])
def test_the_clock_says_waiting_once_the_last_separated_frame_is_heard(
    qtbot, settings_store, tmp_path, speed
):
    """The transport holds at the first frame not separated as soon as it reads up to it: the
    clock said "waiting…" the device's latency (and at 50 % what the stretcher holds, 115 ms)
    before that frame was heard, over the separated song still playing."""

    class BlocksLateOutput(NullOutput):
        """A device 4 blocks (1024 frames) behind what it was handed; None in silence."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.handed = []  # the song frame after each block's last, None for silence

        def render(self, out, on_run=None):
            filled = super().render(out, on_run)
            self.handed.append(self.played_position())
            return filled

        def heard_position(self):
            return self.handed[-5] if len(self.handed) > 4 else None

    outputs = []

    def factory(stemset, mixer, transport):
        outputs.append(BlocksLateOutput(stemset, mixer, transport, blocksize=256))
        return outputs[-1]

    win = MainWindow(S.Settings(settings_store), output_factory=factory, probe=False)
    qtbot.addWidget(win)
    job = Job(tmp_path / "My Song.wav", state=JobState.SEPARATING, model_name="m")
    job.stemset = make_stemset(ready=RATE // 2)
    win.controller.model._jobs.append(job)
    win.show_job(job)
    win.player.set_speed(speed)
    transport, output = win.player.transport, outputs[-1]
    win.player.toggle()
    for _ in range(100):  # to where the transport holds: 4000 frames of song, 8000 at 50 %
        output.pump(256)
        if transport.waiting:
            break
    heard = []  # at each poll, from the one that finds the transport waiting
    for _ in range(40):
        win.player.poll()
        heard.append(output.heard_position())
        if win.transport_bar.position.text().endswith("waiting…"):
            break
        output.pump(256)
    assert len(heard) > 1 and all(0 < (frame or 0) < RATE // 2 for frame in heard[:-1])
    assert heard[-1] in (RATE // 2, None)  # the last separated frame heard, or silence after it
    assert win.transport_bar.position.text() == "0:00.5 / 0:04.0  waiting…"
    win.close()


def test_cancelling_the_song_on_screen_keeps_what_was_separated(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path, make_stemset(ready=RATE))
    job.state = JobState.CANCELLED
    win.following.job_ended(job)
    assert win.shown_job is job and win.player.loaded  # the view went blank
    assert win.song_title.text().endswith("(cancelled)")
    win.close()


def test_closing_during_an_export_hides_the_window_then_finishes_the_files(
    qtbot, settings_store, tmp_path, monkeypatch
):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    task = win.export_job(job, dialog.request())
    seen = []
    real = win.exporter.wait_all
    monkeypatch.setattr(win.exporter, "wait_all", lambda: seen.append(win.isVisible()) or real())
    win.close()
    assert seen == [False]  # gone from the screen while the export finishes
    assert task.wait(0) and len(list((tmp_path / "out").rglob("*.wav"))) == 4


def test_the_session_keeps_separated_and_waiting_songs_in_order_not_failed_ones(
    qtbot, settings_store, tmp_path
):
    import json

    win = _null_window(qtbot, settings_store, [])
    done = _done_job(win, tmp_path)
    click(qtbot, win.stems.rows["bass"].mute)
    for name, state in (("later", JobState.WAITING), ("bad", JobState.FAILED)):
        win.controller.model._jobs.append(Job(tmp_path / f"{name}.wav", state=state))
    win.save_session()
    songs = json.loads(win.settings.get(S.SESSION))
    assert [song["path"] for song in songs] == [str(done.path), str(tmp_path / "later.wav")]
    assert songs[0]["strips"]["bass"] == [0.0, False, True] and songs[1]["strips"] == {}
    win.close()


def test_a_session_is_kept_with_whole_paths_and_damaged_gains_are_mended(
    qtbot, settings_store, tmp_path, monkeypatch
):
    import json

    from stemgui.stems.mixer import restored_strip

    monkeypatch.chdir(tmp_path)  # songs opened as `python -m stemgui a.wav` from here
    win = _null_window(qtbot, settings_store, [])
    win.controller.model._jobs.append(Job(Path("a.wav"), state=JobState.WAITING))
    win.save_session()
    assert json.loads(win.settings.get(S.SESSION))[0]["path"] == str(tmp_path / "a.wav")
    win.close()
    assert restored_strip([-1e300, False, True]) == StemControl(-60.0, mute=True)
    assert restored_strip([float("nan"), True, False]) == StemControl(solo=True)
    assert restored_strip([1e9]) == StemControl(12.0)
    assert restored_strip(["loud", 0, 0]) == StemControl()
    assert restored_strip([0.0, "false", "no"]) == StemControl()


def test_a_fractional_gain_kept_is_played_as_its_slider_shows_it(qtbot):
    """A session's 2.5 dB (hand-edited, or older) played 2.5 dB while the slider showed +2."""
    from stemgui.stems.mixer import restored_strip
    from stemgui.ui.stemview import StemRow

    mixer = MixerState(NAMES)
    strips = {"drums": [2.5], "bass": [-7.4], "other": [-3.5], "vocals": [11.6]}
    mixer.take_controls({name: restored_strip(strip) for name, strip in strips.items()})
    for name, shown in (("drums", 3), ("bass", -7), ("other", -3), ("vocals", 12)):
        row = StemRow(name, QColor("red"), Timeline(), mixer)
        qtbot.addWidget(row)
        assert row.gain.value() == shown and mixer.control(name).gain_db == shown
        assert row.gain_label.text() == f"{shown:+d} dB".replace("-", "\u2212")


@pytest.mark.parametrize("kept, shown", [(2.5, 3), (-3.5, -3), (-7.4, -7), (11.6, 12)])
def test_a_fractional_master_volume_kept_is_rounded_as_a_stem_gain_is(
    qtbot, settings_store, kept, shown
):
    """The master rounded half to even (a saved 2.5 dB was +2) where a stem's gain rounds a half
    up (+3): the same number kept played louder on a stem than on the master."""
    from stemgui.stems.mixer import restored_strip

    settings_store.setValue(S.MASTER_DB.key, kept)
    win = _null_window(qtbot, settings_store, [])
    assert restored_strip([kept]).gain_db == shown
    assert win.transport_bar.volume.value() == shown and win.player.master_db == shown
    win.close()


def test_removing_another_song_leaves_the_one_playing(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    paths = [tmp_path / f"{name}.wav" for name in "ABC"]
    for path in paths:
        path.write_bytes(b"")
    a, b, c = win.controller.model.add(paths)
    for job in (a, b):
        win.controller.model.update(job, state=JobState.DONE, stemset=make_stemset())
    win.controller.model.update(c, state=JobState.CANCELLED)
    win.select(a)
    win.player.seek(3000)
    win.player.toggle()
    win.select(c)  # a cancelled song: nothing to show, A plays on
    assert win.shown_job is a and win.player.transport.playing
    win.queue.remove_button.click()
    assert win.controller.model.jobs == [a, b]
    assert win.shown_job is a and win.selected_job() is a  # not B, chosen by Qt
    assert win.player.transport.playing and win.player.transport.position >= 3000
    win.select(b)  # the user's choice still shows the other song
    assert win.shown_job is b
    win.close()


def test_a_song_shown_again_is_where_it_was_left(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    paths = [tmp_path / f"{name}.wav" for name in "AB"]
    for path in paths:
        path.write_bytes(b"")
    a, b = win.controller.model.add(paths)
    for job in (a, b):
        win.controller.model.update(job, state=JobState.DONE, stemset=make_stemset())
    win.select(a)
    win.player.set_loop(1000, 6000)
    win.player.seek(2500)
    win.timeline.set_view(800, 7000)
    win.select(b)
    assert win.player.transport.position == 0 and win.player.transport.loop is None
    win.select(a)  # a DJ back on the first track: its cue, loop and zoom
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (
        2500,
        (1000, 6000),
        True,
    )
    assert win.timeline.view == (800, 7000) and win.timeline.loop == (1000, 6000)
    win.select(b)
    a.stemset = make_stemset(frames=4000)  # retried after the file was cut short
    win.select(a)  # the loop past its end is dropped, the playhead kept inside
    transport = win.player.transport
    assert transport.loop is None and transport.position <= 4000 and win.shown_job is a
    win.close()


def test_home_and_end_keys_send_the_playhead_to_the_song_edges(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    transport = win.player.transport
    win.menu_bar.zoom(0.25)  # the first quarter on screen
    qtbot.keyClick(win, Qt.Key.Key_End)
    assert transport.position == transport.frames
    assert win.timeline.view[1] == transport.frames  # the view pages to the end
    qtbot.keyClick(win, Qt.Key.Key_Home)
    assert transport.position == 0 and win.timeline.view[0] == 0
    win.close()


def test_number_keys_mute_and_solo_the_stems_and_a_compares_with_the_original(
    qtbot, settings_store, tmp_path
):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    mixer, rows = job.mixer, win.stems.rows
    qtbot.keyClick(win, Qt.Key.Key_2)  # the second stem: bass
    assert mixer.control("bass").mute and rows["bass"].mute.isChecked()
    assert rows["bass"].view.dimmed and not mixer.is_audible("bass")
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert not mixer.control("bass").mute
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert mixer.control("vocals").solo and rows["vocals"].solo.isChecked()
    assert not mixer.is_audible("drums")
    qtbot.keyClick(win, Qt.Key.Key_A)  # the song itself, soloed beside the vocals
    assert win.stems.mix_row.solo.isChecked() and mixer.is_audible(ORIGINAL)
    qtbot.keyClick(win, Qt.Key.Key_9)  # no ninth stem: nothing
    assert [mixer.control(n).mute for n in NAMES] == [False] * 4
    assert rows["drums"].mute.toolTip() == "Mute drums (1)"
    assert rows["vocals"].solo.toolTip().startswith("Solo vocals (") and "4" in (
        rows["vocals"].solo.toolTip()
    )
    win.close()


def test_each_row_shows_the_key_that_works_it(qtbot, settings_store, tmp_path):
    """The original mix is the first row, yet 1 muted Drums, the second, and no row said so:
    each row shows its key before its name, and that key works that row."""
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    mix_row, rows = win.stems.mix_row, win.stems.rows
    assert mix_row.key.text() == "A"
    assert [row.key.text() for row in rows.values()] == ["1", "2", "3", "4"]
    for name, row in rows.items():
        qtbot.waitUntil(row.key.isVisible)
        assert row.key.mapTo(row, QPoint(0, 0)).x() < row.label.mapTo(row, QPoint(0, 0)).x()
        qtbot.keyClick(win, getattr(Qt.Key, f"Key_{row.key.text()}"))  # the key it shows
        assert [n for n in NAMES if job.mixer.control(n).mute] == [name]
        qtbot.keyClick(win, getattr(Qt.Key, f"Key_{row.key.text()}"))
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert mix_row.solo.isChecked()
    assert rows["drums"].key.foregroundRole() == QPalette.ColorRole.PlaceholderText  # muted
    win.close()


def test_delete_in_the_queue_removes_the_selected_song(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    win.controller.model._jobs.remove(job)
    win.controller.model.append([job])  # a row in the list
    win.select(job)
    win.queue.view.setFocus()
    qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
    assert job not in win.controller.model.jobs and win.shown_job is None
    win.close()


def test_the_volume_slider_takes_the_focus_and_the_arrow_keys(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    volume = win.transport_bar.volume
    assert volume.focusPolicy() == Qt.FocusPolicy.StrongFocus  # by Tab and by a click
    # after the stems' gains and the transport's buttons, as on screen (it came between the
    # list and the first gain)
    bar = win.transport_bar
    assert win.stems.rows["vocals"].gain.nextInFocusChain() is bar.play
    assert bar.loop.nextInFocusChain() is bar.speed
    assert bar.speed.nextInFocusChain() is bar.key
    assert bar.key.nextInFocusChain() is volume
    volume.setFocus()
    qtbot.keyClick(volume, Qt.Key.Key_Down)
    assert volume.value() == -1 and win.player.master_db == -1.0
    assert win.transport_bar.volume_label.text() == "\u22121 dB"  # as the gains write it
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
    win = _null_window(qtbot, settings_store, outputs)
    _done_job(win, tmp_path)
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


def test_the_playhead_at_the_song_end_is_drawn_inside_the_waveform(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    view = win.stems.rows["drums"].view
    colour = 255 if view._is_dark() else 0

    def line_at(x: int) -> int:
        image = view.grab().toImage()
        return [image.pixelColor(x, y).lightness() for y in range(image.height())].count(colour)

    win.player.seek(win.timeline.frames // 2)
    middle = line_at(round(view.x_of(win.timeline.position)))
    assert middle > view.height() // 2  # a line from top to bottom, waveform aside
    win.player.seek_end()
    assert line_at(view.width() - 1) == middle  # was drawn at x == width, outside
    win.close()


def test_the_wheel_turns_a_gain_slider_only_once_it_has_the_focus(qtbot, panel):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    gain = panel.rows["bass"].gain

    def notch_down():
        middle = QPointF(gain.width() / 2, gain.height() / 2)
        QApplication.sendEvent(
            gain,
            QWheelEvent(
                middle,
                gain.mapToGlobal(middle),
                QPoint(0, 0),
                QPoint(0, -120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            ),
        )

    notch_down()  # scrolling the rows past it
    assert gain.value() == 0
    gain.setFocus()
    qtbot.waitUntil(gain.hasFocus)
    notch_down()
    assert gain.value() < 0


def test_zoom_keys_with_and_without_shift(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    frames = win.timeline.frames
    qtbot.keyClick(win, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # Ctrl+=
    assert win.timeline.view[1] - win.timeline.view[0] == frames // 2
    qtbot.keyClick(win, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)  # Ctrl++
    assert win.timeline.view[1] - win.timeline.view[0] == frames // 4
    qtbot.keyClick(win, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert win.timeline.view == (0, frames)
    win.close()
