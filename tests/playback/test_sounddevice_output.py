"""SoundDeviceOutput through a fake sounddevice: playing, a device lost, none found, latency."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from stemgui.errors import StemguiError
from stemgui.playback.sounddevice_output import AudioDeviceError, SoundDeviceOutput, open_output
from stemgui.playback.transport import PlayState
from tests.playback.output_rig import (
    FADE,
    FRAMES,
    FakeCallbackAbort,
    FakeFlags,
    FakePortAudioError,
    FakeStream,
    faded_in,
    fake_sounddevice,
    mix_of,
)

pytestmark = pytest.mark.usefixtures("device_list")


def test_open_output_plays_through_the_stream(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport, blocksize=256)
    assert isinstance(output, SoundDeviceOutput) and output.stream.active
    kwargs = output.stream.kwargs
    assert (kwargs["samplerate"], kwargs["channels"], kwargs["dtype"]) == (1000, 2, "float32")
    transport.play()
    out = output.stream.play(256)
    np.testing.assert_allclose(out, faded_in(mix_of(stems, 0, 256)), rtol=1e-5, atol=1e-6)
    assert transport.position == 256
    transport.pause()
    assert not output.stream.play(256)[FADE:].any()  # faded out
    output.close()
    assert output.error is None and output.poll() is None  # a wanted close is no failure


def test_a_vanishing_device_stops_playback_with_a_message(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    output.stream.play(100)
    output.stream.vanish()
    assert not transport.playing and transport.position == 100
    assert "unplugged" in output.poll()
    output.close()


def test_a_silently_dead_stream_is_noticed_by_poll(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    assert output.poll() is None
    output.stream.active = False  # no finished callback came
    assert "unplugged" in output.poll() and not transport.playing
    output.close()


def test_a_failing_callback_aborts_and_reports(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    output.renderer.stemset = None  # any bug inside the callback
    with pytest.raises(FakeCallbackAbort):
        output.stream.play(64)
    assert output.error.startswith("Playback failed") and not transport.playing
    output.close()


def test_underflows_are_counted_not_fatal(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    output.stream.play(64, status=FakeFlags(output_underflow=True))
    assert output.underflows == 1 and output.error is None and transport.playing
    output.close()


# --- no device ----------------------------------------------------------------------------


# --- no device ----------------------------------------------------------------------------


def test_no_device_raises_audio_device_error(rig, monkeypatch):
    """sounddevice with PortAudio and no sound card, as on a headless machine."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:  # OSError: no PortAudio library
        pytest.skip(f"sounddevice cannot load: {error}")

    def no_device(**kwargs):
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "OutputStream", no_device)
    with pytest.raises(AudioDeviceError, match="No audio output device was found") as caught:
        open_output(*rig)
    assert isinstance(caught.value, StemguiError)
    assert "speakers or headphones" in str(caught.value)


def test_no_portaudio_raises_audio_device_error(rig, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    with pytest.raises(AudioDeviceError, match="PortAudio"):
        open_output(*rig)


def test_a_device_that_fails_to_start_is_closed(rig, monkeypatch):
    closed = []

    class NoStart(FakeStream):
        def start(self):
            raise FakePortAudioError("Device unavailable")

        def close(self):
            closed.append(True)

    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(NoStart))
    with pytest.raises(AudioDeviceError, match="could not start"):
        open_output(*rig)
    assert closed == [True]


def test_a_busy_device_is_not_said_to_be_missing(rig, monkeypatch):
    """PortAudio's "busy" message holds a "-1" too (-16, -9999): not "no device was found"."""

    def busy(**kwargs):
        raise FakePortAudioError(
            "Error opening OutputStream: Unanticipated host error [PaErrorCode -9999]: "
            "'Device or resource busy' [ALSA error -16]"
        )

    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(busy))
    with pytest.raises(AudioDeviceError) as caught:
        open_output(*rig)
    assert str(caught.value).startswith("The audio output device could not be opened (")
    assert "Device or resource busy" in str(caught.value)


def test_an_unknown_device_name_raises_audio_device_error(rig, monkeypatch):
    def unknown(**kwargs):
        raise ValueError("No output device matching 'Nope'")

    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(unknown))
    with pytest.raises(AudioDeviceError, match="Nope"):
        open_output(*rig, device="Nope")


class TimedStream(FakeStream):
    """A stream whose blocks reach the speakers ``latency`` s after their callback, on a clock
    that each block moves on (``time``, as ``sounddevice.OutputStream.time``)."""

    latency = 0.2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.time = 10.0

    def play(self, frames, status=None):
        out = np.zeros((frames, self.kwargs["channels"]), np.float32)
        info = types.SimpleNamespace(
            outputBufferDacTime=self.time + self.latency, currentTime=self.time
        )
        self.kwargs["callback"](out, frames, info, status or FakeFlags())
        self.time += frames / self.kwargs["samplerate"]
        return out


@pytest.fixture()
def timed_stream(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(TimedStream))


def test_the_heard_frame_is_the_latency_behind_the_transport(rig, timed_stream):
    stems, mixer, transport = rig  # 1000 frames a second: 0.2 s of latency is 200 frames
    output = open_output(stems, mixer, transport)
    stream = output.stream
    assert output.heard_position() is None  # nothing handed out yet
    stream.play(100)
    assert output.heard_position() is None  # silence (stopped) on its way: nothing known
    transport.play()
    for _ in range(3):
        stream.play(100)
    assert transport.position == 300 and stream.time == pytest.approx(10.4)
    assert output.heard_position() == 100  # the second block of song reaches the speakers
    stream.time += 0.05
    assert output.heard_position() == 150

    # Paused and sent elsewhere: what was handed out plays on, then the new place.
    transport.pause()
    stream.play(100)
    transport.seek(2000)
    transport.play()
    stream.time = 10.5
    assert output.heard_position() == 200  # the third block still sounding
    stream.time = 10.62
    assert output.heard_position() == 300  # its last frame, heard to the end
    stream.play(100)  # handed out at 10.62, heard from 10.82; the clock moves to 10.72
    assert output.heard_position() == 2000  # the pause's silence heard: waits at the new place
    stream.time = 10.87
    assert output.heard_position() == 2050

    # A loop's wrap inside one block: two runs, each heard at its own time.
    transport.set_loop(2100, 2150)
    stream.time = 11.0
    stream.play(100)  # 2100..2150 from 11.2, then 2100..2150 again from 11.25
    stream.time = 11.26
    assert output.heard_position() == 2110
    output.close()


def test_the_song_ends_once_its_last_frame_is_heard(rig, timed_stream):
    """The transport stopped as the song's last frame was handed to the device: the window
    showed the song ended (Play, the playhead back at the start) the stream's latency before
    its last notes were heard, 0.2 s here."""
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    stream = output.stream
    transport.seek(FRAMES - 150)
    transport.play()
    stream.play(100)
    stream.play(100)  # the song's last 50 frames, handed out at 10.1, heard 10.3 to 10.35
    for _ in range(2):
        stream.play(100)  # at 10.2 and 10.3: not heard yet
        assert transport.playing and transport.ends == 0
    stream.time = 10.32
    assert output.heard_position() == FRAMES - 30  # the playhead on them
    stream.time = 10.4
    stream.play(100)
    assert transport.state is PlayState.STOPPED and transport.position == 0
    assert transport.ends == 1
    output.close()


def test_a_host_without_dac_times_says_the_song_frame_last_handed_out(rig, fake_stream):
    """Slower, the transport runs ahead of what plays by what the stretcher holds (57 ms of
    song at 50 %): the playhead, drawn at the transport's position when the host said no
    times, showed song not heard yet, and sat at the song's end while its last notes played."""
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    assert output.heard_position() is None  # nothing handed out yet
    output.stream.play(100)  # the fake passes no time information
    assert output.heard_position() == transport.position == 100
    output.transposer.speed = 0.5
    for _ in range(4):
        output.stream.play(100)
    heard = output.heard_position()  # 100 + 400 frames at half speed, to a window's cut
    assert abs(heard - 300) <= output.stretcher.search and transport.position - heard > 30
    output.close()


# --- a stream that stops calling back -----------------------------------------------------
