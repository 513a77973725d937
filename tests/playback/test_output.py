"""Outputs: the shared callback through NullOutput, and sounddevice with a fake stream."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest

from stemgui.errors import StemguiError
from stemgui.playback import sounddevice_output as output_module
from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.sounddevice_output import (
    AudioDeviceError,
    SoundDeviceOutput,
    open_output,
)
from stemgui.playback.transport import PlayState, Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet

FRAMES = 5000
FADE = round(FADE_SECONDS * 1000)  # the ramps and fades at the rig's 1000 frames a second


@pytest.fixture()
def rig():
    rng = np.random.default_rng(0)
    data = (0.05 * rng.standard_normal((3, 2, FRAMES))).astype(np.float32)  # below the limiter
    stems = StemSet(("drums", "bass", "vocals"), 1000, data)
    mixer = MixerState(stems.names)
    transport = Transport(stems.frames, stems.samplerate)
    return stems, mixer, transport


def _mix(stems, start, stop, gains=(1.0, 1.0, 1.0)):
    """(frames, channels) reference in float64."""
    block = stems.data[:, :, start:stop].astype(np.float64)
    return np.einsum("s,scf->fc", np.asarray(gains, np.float64), block)


def _faded_in(block):
    """``block`` (frames, channels) as a start from silence plays it: its first frames fade in."""
    block = block.copy()
    block[:FADE] *= (np.arange(1, FADE + 1) / FADE)[:, None]
    return block


# --- NullOutput ---------------------------------------------------------------------------


def test_pumping_advances_the_position_exactly(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    blocks = [output.pump(n) for n in (256, 100, 1, 999)]
    assert transport.position == 256 + 100 + 1 + 999
    played = np.concatenate(blocks)
    np.testing.assert_allclose(played, _faded_in(_mix(stems, 0, 1356)), rtol=1e-5, atol=1e-6)


def test_paused_or_stopped_pumps_silence_and_holds(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    assert not output.pump(128).any() and transport.position == 0
    transport.play()
    output.pump(128)
    transport.pause()
    assert output.pump(FADE).any()  # what played fades out
    assert not output.pump(128).any() and transport.position == 128


def test_seek_while_playing_plays_from_the_new_place(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    output.pump(300)
    transport.seek(4000)
    rise = (np.arange(1, FADE + 1) / FADE)[:, None]
    cross = _mix(stems, 300, 300 + FADE) * (1 - rise) + _mix(stems, 4000, 4000 + FADE) * rise
    expected = np.concatenate([cross, _mix(stems, 4000 + FADE, 4200)])
    np.testing.assert_allclose(output.pump(200), expected, rtol=1e-5, atol=1e-6)
    assert transport.position == 4200


def test_loop_wrap_inside_one_callback_block(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.set_loop(1000, 1100)
    transport.seek(1060)
    transport.play()
    block = output.pump(64)
    rise = (np.arange(1, FADE + 1) / FADE)[:, None]
    cross = _mix(stems, 1100, 1100 + FADE) * (1 - rise) + _mix(stems, 1000, 1000 + FADE) * rise
    expected = np.concatenate(
        [_faded_in(_mix(stems, 1060, 1100)), cross, _mix(stems, 1000 + FADE, 1024)]
    )
    np.testing.assert_allclose(block, expected, rtol=1e-5, atol=1e-6)
    assert transport.position == 1024


def test_end_of_song_gives_silence_and_stops(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.seek(FRAMES - 10)
    transport.play()
    block = output.pump(64)
    np.testing.assert_allclose(
        block[:10], _faded_in(_mix(stems, FRAMES - 10, FRAMES)), rtol=1e-5, atol=1e-6
    )
    assert not block[10:].any()  # past the end: nothing to fade out
    assert transport.state is PlayState.STOPPED and transport.position == 0


def test_mixer_changes_ramp_in_on_the_next_block(rig):
    """A change of gains goes in a straight line from the old to the new over FADE frames
    (a step would click), then the new gains hold."""
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    output.pump(100)
    mixer.set_solo("bass")
    mixer.set_gain_db("bass", -20.0)
    block = output.pump(100)
    for i in range(FADE):
        w = (i + 1) / FADE
        gains = (1.0 - w, 1.0 + (0.1 - 1.0) * w, 1.0 - w)
        np.testing.assert_allclose(block[i], _mix(stems, 100 + i, 101 + i, gains)[0], rtol=1e-5)
    np.testing.assert_allclose(
        block[FADE:], _mix(stems, 100 + FADE, 200, (0.0, 0.1, 0.0)), rtol=1e-5, atol=1e-6
    )


def test_frames_not_yet_separated_play_as_silence():
    data = np.full((2, 1, 1000), 0.25, np.float32)
    stems = StemSet(("a", "b"), 1000, data, frames_ready=600)
    transport = Transport(stems.frames, stems.samplerate)
    output = NullOutput(stems, MixerState(stems.names), transport)
    transport.seek(500)
    transport.play()
    block = output.pump(200)
    np.testing.assert_allclose(block[:FADE, 0], 0.5 * np.arange(1, FADE + 1) / FADE)  # fade-in
    assert np.all(block[FADE:100] == 0.5) and not block[100:].any()
    assert transport.position == 700  # time goes on through the silence


def test_pump_into_a_given_buffer(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    buffer = np.full((512, 2), 9.0, np.float32)
    transport.play()
    block = output.pump(100, out=buffer)
    assert np.shares_memory(block, buffer) and block.shape == (100, 2)
    assert np.all(buffer[100:] == 9.0)


def test_the_thread_drives_the_callback(rig):
    stems, mixer, transport = rig
    seen = []
    got_blocks = threading.Event()

    def sink(block):
        seen.append(block.copy())
        if len(seen) >= 3:
            got_blocks.set()

    transport.play()
    with NullOutput(stems, mixer, transport, blocksize=64, speed=100.0, sink=sink) as output:
        output.start()
        assert got_blocks.wait(10.0)
    position = transport.position
    assert position >= 3 * 64 and position % 64 == 0
    assert output.error is None
    np.testing.assert_allclose(seen[0], _faded_in(_mix(stems, 0, 64)), rtol=1e-5, atol=1e-6)


# --- SoundDeviceOutput with a fake sounddevice ---------------------------------------------


class FakePortAudioError(Exception):
    pass


class FakeCallbackAbort(Exception):
    pass


class FakeFlags:
    def __init__(self, output_underflow=False):
        self.output_underflow = output_underflow

    def __bool__(self):
        return self.output_underflow


class FakeStream:
    """Stands for sounddevice.OutputStream: keeps the callbacks, plays on request."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.active = False

    def start(self):
        self.active = True

    def close(self):
        if self.active:
            self.active = False
            self.kwargs["finished_callback"]()  # PortAudio calls it when a stream ends

    def play(self, frames, status=None):
        out = np.full((frames, self.kwargs["channels"]), 9.0, np.float32)
        self.kwargs["callback"](out, frames, None, status or FakeFlags())
        return out

    def vanish(self):
        """The device is unplugged: the stream ends without being asked to."""
        self.active = False
        self.kwargs["finished_callback"]()


def _fake_sounddevice(stream_class):
    return types.SimpleNamespace(
        OutputStream=stream_class,
        PortAudioError=FakePortAudioError,
        CallbackAbort=FakeCallbackAbort,
    )


@pytest.fixture(autouse=True)
def device_list(monkeypatch):
    """A device list of each test's own: an output a test leaves open keeps no other test from
    initialising PortAudio again."""
    monkeypatch.setattr(output_module, "_devices", output_module._DeviceList())


@pytest.fixture()
def fake_stream(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(FakeStream))


def test_open_output_plays_through_the_stream(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport, blocksize=256)
    assert isinstance(output, SoundDeviceOutput) and output.stream.active
    kwargs = output.stream.kwargs
    assert (kwargs["samplerate"], kwargs["channels"], kwargs["dtype"]) == (1000, 2, "float32")
    transport.play()
    out = output.stream.play(256)
    np.testing.assert_allclose(out, _faded_in(_mix(stems, 0, 256)), rtol=1e-5, atol=1e-6)
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

    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(NoStart))
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

    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(busy))
    with pytest.raises(AudioDeviceError) as caught:
        open_output(*rig)
    assert str(caught.value).startswith("The audio output device could not be opened (")
    assert "Device or resource busy" in str(caught.value)


def test_an_unknown_device_name_raises_audio_device_error(rig, monkeypatch):
    def unknown(**kwargs):
        raise ValueError("No output device matching 'Nope'")

    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(unknown))
    with pytest.raises(AudioDeviceError, match="Nope"):
        open_output(*rig, device="Nope")


def test_the_callback_body_allocates_nothing_large(rig):
    """Blocks of 4096 frames x 2 channels (32 KiB): no temporary of that size per callback."""
    import tracemalloc

    stems, mixer, transport = rig
    mixer.set_gain_db("bass", -6.0)
    output = NullOutput(stems, mixer, transport)
    out = np.empty((4096, 2), np.float32)
    transport.set_loop(0, FRAMES)
    transport.play()
    output.pump(4096, out=out)  # warm up
    tracemalloc.start()
    try:
        for _ in range(20):
            output.pump(4096, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024


class TimedStream(FakeStream):
    """A stream whose blocks reach the speakers ``latency`` s after their callback, on a clock
    that each block moves on (``time``, as ``sounddevice.OutputStream.time``)."""

    latency = 0.2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.time = 10.0

    def play(self, frames, status=None):
        out = np.zeros((frames, self.kwargs["channels"]), np.float32)
        info = types.SimpleNamespace(outputBufferDacTime=self.time + self.latency)
        self.kwargs["callback"](out, frames, info, status or FakeFlags())
        self.time += frames / self.kwargs["samplerate"]
        return out


@pytest.fixture()
def timed_stream(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(TimedStream))


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


def test_a_host_without_dac_times_leaves_the_transport_s_position(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    transport.play()
    output.stream.play(100)  # the fake passes no time information
    assert output.heard_position() is None
    output.close()


# --- a stream that stops calling back -----------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _run(output, clock, seconds, block=0, every=0.03):
    """Poll every ``every`` s for ``seconds`` s, the stream calling back with ``block`` frames
    each ``block`` ms (1000 frames a second; 0: no callbacks); return the last poll's answer."""
    message, due = None, 0.0
    for _ in range(round(seconds / every)):
        clock.now += every
        due += every
        if block and due >= block / 1000 - 1e-9:
            due -= block / 1000
            output.stream.play(block)
        message = output.poll()
    return message


def test_a_stream_that_stops_calling_back_is_taken_for_lost(rig, fake_stream):
    """CoreAudio can leave a removed device's stream "active" with no callbacks, for good."""
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    output.clock = clock = FakeClock()
    transport.set_loop(0, FRAMES)
    transport.play()
    assert _run(output, clock, 10.0, block=500) is None  # half-second blocks: no stall
    assert _run(output, clock, 10.0, block=30) is None  # healthy: never taken for lost
    position = transport.position
    assert _run(output, clock, 1.95) is None and transport.playing  # the device is removed
    assert "unplugged" in _run(output, clock, 0.1)
    assert transport.state is PlayState.PAUSED and transport.position == position
    assert output.stream.active  # PortAudio never said a word
    output.close()


def test_no_callbacks_are_no_stall_when_none_are_due(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    output.clock = clock = FakeClock()
    transport.set_loop(0, FRAMES)
    # Paused or stopped: nothing is expected of the stream.
    assert _run(output, clock, 10.0) is None
    # Playing before the stream's first callback: a slow device gets 5 s to begin.
    transport.play()
    assert _run(output, clock, 4.9) is None
    assert _run(output, clock, 1.0, block=30) is None
    # The computer slept (or the UI hung) between two polls: the watch starts again.
    clock.now += 60.0
    assert _run(output, clock, 1.5) is None and transport.playing
    assert "unplugged" in _run(output, clock, 0.6)
    output.close()


def test_waiting_for_separation_is_no_stall(monkeypatch):
    """The transport holds at the first frame not separated; the callback gives silence."""
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(FakeStream))
    stems = StemSet(("a", "b"), 1000, np.ones((2, 2, 1000), np.float32), frames_ready=100)
    transport = Transport(stems.frames, stems.samplerate, lambda: stems.frames_ready)
    output = open_output(stems, MixerState(stems.names), transport)
    output.clock = clock = FakeClock()
    transport.play()
    output.stream.play(200)  # 100 frames of song, then waits
    assert transport.waiting
    assert _run(output, clock, 10.0) is None
    output.close()


# --- devices plugged in after PortAudio started ------------------------------------------


class PortAudioWithDevices:
    """A sounddevice module whose device list is taken when PortAudio is initialised."""

    PortAudioError = FakePortAudioError
    CallbackAbort = FakeCallbackAbort

    def __init__(self, plugged):
        self.plugged = plugged  # the world
        self.fail_next_initialisation = False
        self._initialized = 0
        self.initialisations = 0
        self._initialize()

    def _initialize(self):
        if self.fail_next_initialisation:
            self.fail_next_initialisation = False
            raise FakePortAudioError("Error initializing PortAudio: Internal PortAudio error")
        self._initialized += 1
        self.initialisations += 1
        self.listed = self.plugged

    def _terminate(self):
        if not self._initialized:
            raise FakePortAudioError("Error terminating PortAudio: PortAudio not initialized")
        self._initialized -= 1

    def OutputStream(self, **kwargs):
        if not self._initialized:
            raise FakePortAudioError("Error opening OutputStream: PortAudio not initialized")
        if not self.listed:
            raise FakePortAudioError("Error querying device -1")
        return FakeStream(**kwargs)


def test_portaudio_lists_the_devices_again_only_after_a_failure(rig, monkeypatch):
    sd = PortAudioWithDevices(plugged=False)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    with pytest.raises(AudioDeviceError, match="No audio output device was found"):
        open_output(*rig)
    assert sd.initialisations == 1
    sd.plugged = True  # plugged in: PortAudio is initialised again, and finds it
    first = open_output(*rig)
    assert sd.initialisations == 2 and sd._initialized == 1
    first.close()
    open_output(*rig).close()  # nothing failed: the list stands (initialising takes time)
    assert sd.initialisations == 2

    # Lost while another stream of ours is open: not before that one is closed too.
    lost, other = open_output(*rig), open_output(*rig)
    lost.stream.vanish()
    lost.close()
    open_output(*rig).close()
    assert sd.initialisations == 2
    other.close()
    open_output(*rig).close()
    assert sd.initialisations == 3 and sd._initialized == 1


def test_a_failed_initialisation_is_tried_again(rig, monkeypatch):
    sd = PortAudioWithDevices(plugged=False)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    with pytest.raises(AudioDeviceError, match="No audio output device was found"):
        open_output(*rig)
    sd.plugged, sd.fail_next_initialisation = True, True
    with pytest.raises(AudioDeviceError, match="PortAudio not initialized"):
        open_output(*rig)
    assert sd._initialized == 0
    open_output(*rig).close()  # initialised (not terminated first: it is not initialised)
    assert sd._initialized == 1 and sd.initialisations == 2


# --- mono-only devices --------------------------------------------------------------------


class MonoOnlyStream(FakeStream):
    """A Bluetooth headset in call mode: PortAudio refuses two channels."""

    def __init__(self, **kwargs):
        if kwargs["channels"] != 1:
            raise FakePortAudioError(
                "Error opening OutputStream: Invalid number of channels [PaErrorCode -9998]"
            )
        super().__init__(**kwargs)


def test_a_device_refusing_two_channels_plays_their_mean(rig, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(MonoOnlyStream))
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    assert output.channels == 1 and output.stream.kwargs["channels"] == 1
    transport.play()
    out = output.stream.play(256)
    assert out.shape == (256, 1) and transport.position == 256
    expected = _faded_in(_mix(stems, 0, 256)).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    transport.pause()
    assert not output.stream.play(256)[FADE:].any()  # silence once the pause faded out
    output.close()


def test_a_device_with_one_output_channel_is_opened_mono(rig, monkeypatch):
    opened = []

    class Stream(FakeStream):
        def __init__(self, **kwargs):
            opened.append(kwargs["channels"])
            super().__init__(**kwargs)

    sd = _fake_sounddevice(Stream)
    sd.query_devices = lambda device, kind: {"name": "headset", "max_output_channels": 1}
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    monkeypatch.setattr(output_module, "_DOWNMIX_FRAMES", 1000)
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    assert opened == [1]  # asked for mono at once, no refused try
    transport.play()
    out = output.stream.play(4000)  # a block larger than the buffer made beforehand
    expected = _faded_in(_mix(stems, 0, 4000)).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    output.close()

    sd.query_devices = lambda device, kind: {"name": "speakers", "max_output_channels": 8}
    open_output(stems, mixer, transport).close()
    assert opened == [1, 2]  # the stems' channels, not the device's
