"""Where the stretcher's windows join in the quiet more than a quarter of a period out of phase
(``joins.crossfade``): a pad under the beats keeps its level after each beat too."""

from __future__ import annotations

import numpy as np
import pytest

from tests.playback.stretch_rig import RATE, play, player
from tests.playback.test_stretch_beats import PAD_DB, pad_under_beats


def dips_after_beats(heard: np.ndarray) -> list[float]:
    """The pad's lowest level (RMS of 10 ms, in dB against ``PAD_DB``) from 5 to 100 ms after
    each beat heard (the click is over in 2 ms)."""
    onsets = np.flatnonzero(np.diff((np.abs(heard) > 0.05).astype(np.int8), prepend=0) == 1)
    onsets = onsets[np.r_[True, np.diff(onsets) > RATE // 20]]  # a beat's first frame
    step, dips = RATE // 100, []
    for onset in onsets:
        after = heard[onset + RATE // 200 : onset + RATE // 10]
        energy = np.concatenate([[0.0], np.cumsum(after**2)])
        rms = np.sqrt((energy[step:] - energy[:-step]) / step)
        dips.append(float(20 * np.log10(rms.min()) - PAD_DB))
    return dips


@pytest.mark.parametrize(("speed", "semitones"), [(0.25, 0), (0.5, 3), (0.25, -3), (0.25, 3)])
@pytest.mark.parametrize("hz", [55.0, 82.41, 110.0])  # A1, E2, A2
def test_a_pad_joined_out_of_phase_keeps_its_level_after_each_beat(speed, semitones, hz):
    """Windows joined in the quiet crossfade at the power they make for how alike they are,
    which was taken as 0 below it: halves more than a quarter of a period out of phase made
    less, and the pad dipped after the beats up to 9 dB 10 ms at a time (A1 and E2 at 25 %
    down 3 semitones; 7-8 dB A1 at 50 % up 3 and 25 % up 3, 3 dB A2 at 25 %)."""
    output, transport = player(pad_under_beats(hz, 4 * RATE))
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.seek(RATE // 4)
    transport.play()
    heard = play(output, round(3 * RATE / speed))[:, 0].astype(np.float64)
    dips = dips_after_beats(heard)
    assert len(dips) == 6  # the beats in 3 s of song
    assert min(dips) >= -6.0  # no dip deeper than 6 dB (5 dB at most now)
