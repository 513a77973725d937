"""The audio callback's whole chain (renderer, stretcher, transposer, click) under a musician's
random hands: speed, key, click, seeks, loops, pause and play, at any block size, for a while.
It must never raise (the device would stop), never give a sample that is not finite, and never
pass full scale."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.null_output import NullOutput
from stemgui.playback.pitch import SEMITONES
from stemgui.playback.stretch import SPEEDS
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet

RATE = 22050


@pytest.mark.parametrize("seed", range(4))
def test_random_hands_never_break_the_chain(seed):
    rng = np.random.default_rng(seed)
    frames = 6 * RATE
    data = (0.4 * rng.standard_normal((3, 2, frames))).astype(np.float32)  # loud: limited
    stems = StemSet(("drums", "bass", "vocals"), RATE, data)
    mixer = MixerState(stems.names)
    transport = Transport(frames, RATE)
    output = NullOutput(stems, mixer, transport)
    output.clicker.beats = lambda: (100.0, RATE / 2)
    transport.play()
    heard = 0
    for _ in range(400):
        what = rng.integers(9)
        if what == 0:
            output.transposer.speed = float(rng.choice(SPEEDS))
        elif what == 1:
            output.transposer.semitones = int(rng.choice(SEMITONES))
        elif what == 2:
            output.clicker.on = not output.clicker.on
        elif what == 3:
            transport.seek(int(rng.integers(frames + 1)))
        elif what == 4:
            start = int(rng.integers(frames - 100))
            transport.set_loop(start, start + int(rng.integers(50, RATE)))
        elif what == 5:
            transport.toggle()
        elif what == 6:
            mixer.set_gain_db("vocals", float(rng.uniform(-60, 6)))
        block = output.pump(int(rng.choice([1, 7, 64, 256, 512, 1024, 4096])))
        assert np.isfinite(block).all() and float(np.abs(block).max(initial=0.0)) <= 1.0
        heard += block.shape[0]
    assert heard > RATE  # it went on playing
