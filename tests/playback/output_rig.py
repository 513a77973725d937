"""What the output tests share: a three-stem song at 1000 frames a second, the mix it should
play, and a fake sounddevice module whose streams play on request."""

from __future__ import annotations

import types

import numpy as np

from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet

FRAMES = 5000
FADE = round(FADE_SECONDS * 1000)  # the ramps and fades at the rig's 1000 frames a second


def make_rig():
    """(stems, mixer, transport) of a song of FRAMES frames, three stems below the limiter."""
    rng = np.random.default_rng(0)
    data = (0.05 * rng.standard_normal((3, 2, FRAMES))).astype(np.float32)
    stems = StemSet(("drums", "bass", "vocals"), 1000, data)
    return stems, MixerState(stems.names), Transport(stems.frames, stems.samplerate)


def mix_of(stems, start, stop, gains=(1.0, 1.0, 1.0)):
    """(frames, channels) reference in float64."""
    block = stems.data[:, :, start:stop].astype(np.float64)
    return np.einsum("s,scf->fc", np.asarray(gains, np.float64), block)


def faded_in(block):
    """``block`` (frames, channels) as a start from silence plays it: its first frames fade in."""
    block = block.copy()
    block[:FADE] *= (np.arange(1, FADE + 1) / FADE)[:, None]
    return block


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


def fake_sounddevice(stream_class):
    return types.SimpleNamespace(
        OutputStream=stream_class,
        PortAudioError=FakePortAudioError,
        CallbackAbort=FakeCallbackAbort,
    )


class CardStream(FakeStream):
    """A ``FakeStream`` that says whether it was closed (PortAudio must not end under it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.closed = False

    def close(self):
        self.closed = True
        super().close()


class SoundCards:
    """A sounddevice module with sound cards to plug in and pull out, numbered as PortAudio does.

    PortAudio lists the devices when it is initialised, in the order found, and not again until
    ``_terminate(); _initialize()``: a card plugged in since is not listed, one pulled out stays
    listed but does not open, and the numbers move only then. The system default is the first
    output listed. Terminating under an open stream is a test failure (PortAudio closes it).

    Args:
        plugged: the world: (name, host API, output channels) of each card, inputs with 0.
        hostapis: the host APIs' names, in PortAudio's order.
    """

    PortAudioError = FakePortAudioError
    CallbackAbort = FakeCallbackAbort

    def __init__(self, plugged, hostapis=("Core Audio",)):
        self.plugged = list(plugged)
        self.busy: set[str] = set()  # the names of cards another program holds
        self.hostapis = tuple(hostapis)
        self.streams: list[CardStream] = []
        self._initialized = 0
        self.initialisations = 0
        self._initialize()

    def _initialize(self):
        self._initialized += 1
        self.initialisations += 1
        self.listed = list(self.plugged)

    def _terminate(self):
        assert all(stream.closed for stream in self.streams), "PortAudio ended under a stream"
        self._initialized -= 1

    def _device(self, index):
        name, hostapi, channels = self.listed[index]
        return {
            "name": name,
            "index": index,
            "hostapi": self.hostapis.index(hostapi),
            "max_input_channels": 0 if channels else 2,
            "max_output_channels": channels,
        }

    def query_devices(self, device=None, kind=None):
        if device is None and kind is None:
            return [self._device(index) for index in range(len(self.listed))]
        index = self._default() if device is None else device
        if index is None or not 0 <= index < len(self.listed):
            raise FakePortAudioError(f"Error querying device {-1 if index is None else index}")
        return self._device(index)

    def query_hostapis(self):
        return tuple({"name": name} for name in self.hostapis)

    def _default(self):
        return next((i for i, card in enumerate(self.listed) if card[2] > 0), None)

    def OutputStream(self, **kwargs):
        index = kwargs["device"] if kwargs["device"] is not None else self._default()
        if index is None or not 0 <= index < len(self.listed):
            raise FakePortAudioError(f"Error querying device {-1 if index is None else index}")
        if self.listed[index] not in self.plugged:
            raise FakePortAudioError(
                "Error opening OutputStream: Unanticipated host error [PaErrorCode -9999]"
            )
        if self.listed[index][0] in self.busy:
            raise FakePortAudioError(
                "Error opening OutputStream: Device unavailable [PaErrorCode -9985]"
            )
        stream = CardStream(**kwargs)
        stream.card = self.listed[index][0]
        self.streams.append(stream)
        return stream
