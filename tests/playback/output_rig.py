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
