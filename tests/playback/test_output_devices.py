"""Devices plugged in after PortAudio started, and devices that take one channel only."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from stemgui.playback import sounddevice_output
from stemgui.playback.sounddevice_output import AudioDeviceError, open_output
from tests.playback.output_rig import (
    FADE,
    FakeCallbackAbort,
    FakePortAudioError,
    FakeStream,
    faded_in,
    fake_sounddevice,
    mix_of,
)

pytestmark = pytest.mark.usefixtures("device_list")


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
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(MonoOnlyStream))
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    assert output.channels == 1 and output.stream.kwargs["channels"] == 1
    transport.play()
    out = output.stream.play(256)
    assert out.shape == (256, 1) and transport.position == 256
    expected = faded_in(mix_of(stems, 0, 256)).mean(axis=1, keepdims=True)
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

    sd = fake_sounddevice(Stream)
    sd.query_devices = lambda device, kind: {"name": "headset", "max_output_channels": 1}
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    monkeypatch.setattr(sounddevice_output, "_DOWNMIX_FRAMES", 1000)
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    assert opened == [1]  # asked for mono at once, no refused try
    transport.play()
    out = output.stream.play(4000)  # a block larger than the buffer made beforehand
    expected = faded_in(mix_of(stems, 0, 4000)).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    output.close()

    sd.query_devices = lambda device, kind: {"name": "speakers", "max_output_channels": 8}
    open_output(stems, mixer, transport).close()
    assert opened == [1, 2]  # the stems' channels, not the device's
