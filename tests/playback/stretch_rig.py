"""The songs and the players the stretcher's tests play, the paces they play them at, and the
notes they listen for (``tests/playback/test_stretch*.py``)."""

from __future__ import annotations

import numpy as np

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet

RATE = 44100
FADE = round(FADE_SECONDS * RATE)  # 220 frames
SECONDS = 6
T = np.arange(SECONDS * RATE) / RATE
# a chord (A3, E4, C#5) that changes loudness slowly, as a held part does
CHORD = (
    (0.2 * np.sin(2 * np.pi * 220 * T) + 0.15 * np.sin(2 * np.pi * 330 * T + 1.0))
    + 0.1 * np.sin(2 * np.pi * 554.37 * T + 2.0)
) * (1.0 - 0.3 * T / SECONDS)
CHORD = CHORD.astype(np.float32)


def player(signal: np.ndarray = CHORD) -> tuple[NullOutput, Transport]:
    data = np.zeros((2, 2, signal.size), np.float32)
    data[0] = signal
    stems = StemSet(("vocals", "other"), RATE, data)
    transport = Transport(stems.frames, RATE)
    return NullOutput(stems, MixerState(stems.names), transport, blocksize=512), transport


def play(output: NullOutput, frames: int, block: int = 512) -> np.ndarray:
    return np.concatenate([output.pump(block).copy() for _ in range(frames // block)])


def peaks(signal: np.ndarray, count: int = 3) -> list[float]:
    """The ``count`` strongest frequencies of ``signal`` (Hz, to 0.5 Hz), low to high."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size), 8 * signal.size))
    hz = np.fft.rfftfreq(8 * signal.size, 1 / RATE)
    found: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(hz[index] - f) > 20 for f in found):
            found.append(float(hz[index]))
        if len(found) == count:
            return sorted(found)
    return sorted(found)


# (speed, semitones): slower and faster, in the song's key and transposed
PACES = [(0.5, 0), (0.25, 0), (0.25, 6), (0.5, -6), (1.5, 3), (2.0, -6), (1.0, 4)]


def ramp_player(speed: float, semitones: int) -> tuple[NullOutput, Transport]:
    """A song whose every frame says where it is on its left: 0.2 at its start, 0.8 at its
    end; noise on its right, which the windows follow (on the ramp alone, the louder the
    better it correlates: they would be cut as late as they may)."""
    data = np.zeros((2, 2, T.size), np.float32)
    data[0, 0] = 0.2 + 0.6 * np.arange(T.size) / T.size
    data[0, 1] = 0.2 * np.random.default_rng(0).standard_normal(T.size)
    return vocals_and_other_player(data, speed, semitones)


def vocals_and_other_player(
    data: np.ndarray, speed: float, semitones: int
) -> tuple[NullOutput, Transport]:
    """A player of ``data`` as stems "vocals" and "other", at ``speed`` and ``semitones``."""
    stems = StemSet(("vocals", "other"), RATE, data)
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, MixerState(stems.names), transport, blocksize=512)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    return output, transport


def steady_vocals_player(speed: float, semitones: int) -> tuple[NullOutput, Transport]:
    """Vocals a steady 0.3 on the left, "other" noise on the right (the windows follow it)."""
    data = np.zeros((2, 2, T.size), np.float32)
    data[0, 0] = 0.3
    data[1, 1] = 0.1 * np.random.default_rng(0).standard_normal(T.size)
    return vocals_and_other_player(data, speed, semitones)


def assert_ends_once(heard: np.ndarray, end: float, window: float) -> None:
    """A tone of 0.3 that stops at once, ``end`` frames into ``heard`` as the pace lays them:
    heard whole until ``window`` frames of it at most before, then only falling, to silence
    within a half window (10 ms at a time)."""
    chunk = RATE // 100
    level = np.abs(heard[: heard.size // chunk * chunk]).reshape(-1, chunk).max(axis=1)
    fell = int(np.argmax(level < 0.15))  # the first 10 ms the tone is not heard whole
    assert fell * chunk > end - window  # not cut short
    assert np.all(np.diff(level[fell:]) <= 0)  # then only falls,
    assert np.all(level[fell + 3 :] < 1e-3)  # to silence
