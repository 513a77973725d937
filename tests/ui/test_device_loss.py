"""The audio device goes away in the middle of playback: playback pauses with a message, Play
looks for a device again, and the rest of the app (seek, mixer, the queue) goes on."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.transport import PlayState
from stemgui.ui.queue import JobState
from tests.fakes import FakeClock
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.song_window import RATE, song_window

pytestmark = pytest.mark.usefixtures("device_list")


class PortAudioError(Exception):
    pass


class CallbackAbort(Exception):
    pass


class FakeSoundDevice:
    """Stands for the ``sounddevice`` module: streams that play on request, a plug to pull.

    As PortAudio does, it lists the devices when it is initialised (at import) and not again
    until ``_terminate(); _initialize()``: a device plugged in since is not seen, and one pulled
    out stays listed but does not open. Each plugging is a new device (CoreAudio gives it a new
    id). Terminating under an open stream is a test failure (PortAudio would close it).
    """

    PortAudioError = PortAudioError
    CallbackAbort = CallbackAbort

    def __init__(self, plugged: bool = True) -> None:
        self._plugs = 0
        self._present: int | None = None  # the device in the world, by plugging
        self.plugged = plugged
        self.streams: list[FakeStream] = []
        self._initialized = 0
        self._initialize()

    @property
    def plugged(self) -> bool:
        return self._present is not None

    @plugged.setter
    def plugged(self, plugged: bool) -> None:
        if plugged != self.plugged:
            self._plugs += 1
            self._present = self._plugs if plugged else None

    def _initialize(self) -> None:
        self._initialized += 1
        self.listed = self._present

    def _terminate(self) -> None:
        assert all(stream.closed for stream in self.streams), "PortAudio ended under a stream"
        self._initialized -= 1
        self.listed = None

    def OutputStream(self, **kwargs):  # the sounddevice name
        if self.listed is None:
            raise PortAudioError("Error querying device -1")
        if self.listed != self._present:  # listed, but pulled out since
            raise PortAudioError(
                "Error opening OutputStream: Unanticipated host error [PaErrorCode -9999]"
            )
        stream = FakeStream(kwargs)
        self.streams.append(stream)
        return stream


class FakeStream:
    def __init__(self, kwargs) -> None:
        self.kwargs = kwargs
        self.active = False
        self.closed = False

    def start(self) -> None:
        self.active = True

    def close(self) -> None:
        self.closed = True
        if self.active:
            self.active = False
            self.kwargs["finished_callback"]()

    def play(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, self.kwargs["channels"]), np.float32)
        self.kwargs["callback"](out, frames, None, types.SimpleNamespace(output_underflow=False))
        return out

    def unplug(self) -> None:
        """PortAudio's thread ends the stream: the device is gone."""
        self.active = False
        self.kwargs["finished_callback"]()


@pytest.fixture
def sounddevice(monkeypatch):
    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    return fake


def test_unplugging_stops_playback_with_a_message_and_the_app_goes_on(
    qtbot, settings_store, tmp_path, sounddevice, tiny_model_file, songs
):
    win, job = song_window(qtbot, settings_store, tmp_path, model=tiny_model_file)
    player = win.player
    (stream,) = sounddevice.streams
    player.toggle()
    assert player.transport.playing and win.transport_bar.play.isEnabled()
    stream.play(256)

    sounddevice.plugged = False
    unplug = threading.Thread(target=stream.unplug)  # from the audio thread, as PortAudio does
    unplug.start()
    unplug.join()
    qtbot.waitUntil(lambda: "Playback is off" in win.statusBar().currentMessage(), timeout=5000)
    assert "was the device unplugged?" in win.statusBar().currentMessage()
    assert player.transport.state is PlayState.PAUSED and player.transport.position == 256
    assert player.output is None and stream.closed
    assert win.transport_bar.play.isEnabled() and win.playback_off.isVisibleTo(win)
    assert win.transport_bar.play.toolTip().endswith("Play tries again")

    # Play while the device is still gone: says so, nothing plays.
    win.transport_bar.play.click()
    assert player.transport.state is PlayState.PAUSED
    assert "No audio output device was found" in win.statusBar().currentMessage()

    # The rest goes on: seek, mixer, and a song separates.
    player.seek(1000)
    assert win.timeline.position == 1000
    win.stems.rows["bass"].mute.click()
    assert job.mixer.gains[1] == 0.0
    (new,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: new.state.ended, timeout=TIMEOUT_MS)
    assert new.state is JobState.DONE, new.error

    # Plugged back in: Play opens a new stream and plays from where it was, with the mixer.
    win.show_job(job)
    assert win.banner.isVisibleTo(win) and "Playback is off" in win.banner.text()
    try_again = win.banner.buttons[0]
    assert try_again.text() == "Try again"
    try_again.click()  # still unplugged: said, not silently nothing
    assert win.statusBar().currentMessage() == "Still no audio output."
    sounddevice.plugged = True
    try_again.click()  # opens the device, plays nothing yet
    assert player.can_play and not player.transport.playing
    assert not win.banner.isVisibleTo(win) and not win.playback_off.isVisibleTo(win)
    win.transport_bar.play.click()  # the button, which was greyed out with no way back
    assert player.transport.playing and win.transport_bar.play.isEnabled()
    assert win.statusBar().currentMessage() == "" and not win.playback_off.isVisibleTo(win)
    block = sounddevice.streams[-1].play(100)
    data = job.stemset.data
    expected = (data[0] + data[2] + data[3])[:, 1000:1100].T
    fade = round(FADE_SECONDS * RATE)  # the start fades in
    expected[:fade] *= (np.arange(1, fade + 1) / fade)[:, None]
    np.testing.assert_allclose(block, expected, rtol=1e-5, atol=1e-6)
    win.close()


def test_a_device_plugged_in_after_the_first_try_is_found(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """PortAudio listed no device when it started; one plugged in later opens on Try again."""
    sounddevice = FakeSoundDevice(plugged=False)
    monkeypatch.setitem(sys.modules, "sounddevice", sounddevice)
    win, _job = song_window(qtbot, settings_store, tmp_path)
    player = win.player
    assert not player.can_play and "No audio output device was found" in player.error
    sounddevice.plugged = True
    assert win.banner.buttons[0].text() == "Try again"
    win.banner.buttons[0].click()
    assert player.can_play and len(sounddevice.streams) == 1
    win.transport_bar.play.click()
    assert player.transport.playing
    assert sounddevice.streams[0].play(100).any() and player.transport.position == 100
    win.close()


def test_a_stream_that_stops_calling_back_turns_playback_off(
    qtbot, settings_store, tmp_path, sounddevice
):
    """CoreAudio can leave a removed device's stream "active", never calling back again."""
    win, _job = song_window(qtbot, settings_store, tmp_path)
    player = win.player
    win.player.timer.stop()  # polled here, on a clock of its own
    clock = FakeClock()
    player.output.clock = clock
    (stream,) = sounddevice.streams
    player.set_loop(0, player.transport.frames)  # the 4 s song, round and round
    player.toggle()

    def run(seconds: float, blocks: bool) -> None:
        for _ in range(round(seconds / 0.03)):
            clock.now += 0.03
            if blocks:
                stream.play(240)  # 30 ms at 8000 Hz
            player.poll()

    run(10.0, blocks=True)  # a healthy stream: never taken for lost
    assert player.transport.playing and player.output is not None and not player.error
    run(1.8, blocks=False)  # the device is removed: the stream says nothing
    assert player.transport.playing and player.output is not None and stream.active
    run(0.4, blocks=False)
    assert "Playback is off" in win.statusBar().currentMessage()
    assert "was the device unplugged?" in win.statusBar().currentMessage()
    assert player.transport.state is PlayState.PAUSED
    assert player.transport.position == round(10.0 / 0.03) * 240 % player.transport.frames
    assert player.output is None and stream.closed
    win.close()


def test_an_output_failing_in_its_thread_turns_playback_off(qtbot, settings_store, tmp_path):
    """A null output whose thread dies mid-stream (a sink that raises after three blocks)."""

    def factory(stemset, mixer, transport):
        def sink(block):
            if transport.position >= 3 * 64:
                raise OSError("the device went away")

        output = NullOutput(stemset, mixer, transport, blocksize=64, speed=50.0, sink=sink)
        output.start()
        return output

    win, _job = song_window(qtbot, settings_store, tmp_path, factory)
    win.player.toggle()
    qtbot.waitUntil(lambda: "Playback is off" in win.statusBar().currentMessage(), timeout=5000)
    assert "Playback failed: the device went away" in win.statusBar().currentMessage()
    assert not win.player.transport.playing and win.player.output is None
    assert win.player.transport.position == 3 * 64
    win.player.seek(10)
    assert win.timeline.position == 10
    win.close()
