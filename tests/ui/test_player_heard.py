"""What is heard: the mix as the controls set it, the playhead at the frame the device
plays, a song still being separated waited for, and no device or one that dies turning
playback off while the rest works."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.sounddevice_output import AudioDeviceError
from stemgui.playback.transport import PlayState
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState
from stemgui.ui.window import MainWindow
from tests.ui.song_window import RATE, click, done_job, make_stemset, model_window, null_window


def test_heard_mix_follows_the_controls(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    job = done_job(win, tmp_path)
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
    done_job(win, tmp_path)
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
    first = done_job(win, tmp_path)
    win.player.toggle()
    win.player.output.pump(RATE)
    win.player.poll()
    other = tmp_path / "other"
    other.mkdir()
    done_job(win, other, make_stemset(2 * RATE))
    win.show_job(first)
    assert win.player.transport.position == win.timeline.position == RATE - 1000
    win.close()


def test_no_audio_device_turns_playback_off_and_the_rest_works(qtbot, settings_store, tmp_path):
    def no_device(stemset, mixer, transport):
        raise AudioDeviceError(
            "No audio output device could be opened (Error querying device -1). Plug one in."
        )

    win = model_window(qtbot, settings_store, None, no_device, active=True)
    done_job(win, tmp_path)
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
    done_job(win, tmp_path)
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


def test_an_output_that_dies_turns_playback_off_with_a_message(qtbot, settings_store, tmp_path):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    done_job(win, tmp_path)
    win.player.toggle()
    assert win.player.transport.playing
    outputs[0]._fail("The audio output stopped (was the device unplugged?).")
    win.player.poll()
    assert not win.player.transport.playing
    assert "device unplugged" in win.statusBar().currentMessage()
    win.player.seek(500)  # the rest keeps working
    assert win.timeline.position == 500
    win.close()


def test_playing_a_song_being_separated_waits_for_it_and_not_after_a_cancel(
    qtbot, settings_store, tmp_path
):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
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
