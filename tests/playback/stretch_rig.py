"""The song and the player the stretcher's tests play (``tests/playback/test_stretch.py``,
``tests/playback/test_stretch_notes.py``)."""

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
