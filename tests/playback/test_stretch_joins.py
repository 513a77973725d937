"""Where the stretcher's windows join in the quiet under the notes (``Stretcher``, WSOLA): a
soft passage after a loud one, taken for silence so that the beats keep time, plays at its
level, not dipping where the windows meet."""

from __future__ import annotations

import numpy as np
import pytest

from tests.playback.stretch_rig import RATE, play, player

PAD_DB = -45.0


def pad_after_a_fill(hz: float) -> tuple[np.ndarray, int]:
    """A pad held at ``PAD_DB`` dBFS (RMS, a sine at ``hz``) under a drum fill at -6 dBFS
    (hits of decaying noise, a sixteenth apart at 120 BPM, 0.1-0.6 s), 2 s in all: (the song,
    the frame where the fill ends). The pad after the fill is 39 dB under it, quiet for the
    2 s the stretcher holds the loudest."""
    frames, lead, end = 2 * RATE, RATE // 10, 6 * RATE // 10
    t = np.arange(frames) / RATE
    song = 10 ** (PAD_DB / 20) * 2**0.5 * np.sin(2 * np.pi * hz * t)
    hit = np.random.default_rng(0).standard_normal(2000) * np.exp(-np.arange(2000) / 300)
    hit *= 0.5 / np.abs(hit).max()  # -6 dBFS
    for at in range(lead, end, RATE // 8):
        song[at : at + hit.size] += hit
    return song.astype(np.float32), end


def levels_db(heard: np.ndarray, step: int) -> np.ndarray:
    """The RMS of each ``step`` frames of ``heard``, in dB against the pad's level."""
    chunks = heard[: heard.size // step * step].astype(np.float64).reshape(-1, step)
    return 20 * np.log10(np.sqrt(np.mean(chunks**2, axis=1))) - PAD_DB


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("hz", [146.83, 220.0, 261.63])  # D3, A3, C4
def test_a_pad_after_a_loud_fill_keeps_its_level_where_the_windows_join(speed, hz):
    """Cut for timing alone, nearest where the speed aims them, the windows in the quiet
    joined out of phase wherever the pad's period did not divide what they skip: 10 ms at a
    time it dipped 9 dB under its level at each join (D3 and C4 at 25 %, A3 at 50 %, C4 at
    75 %; 16 dB 5 ms at a time), a pumping a musician practising slowly hears."""
    song, end = pad_after_a_fill(hz)
    output, transport = player(song)
    output.transposer.speed = speed
    transport.play()
    heard = play(output, round(song.size / speed))[:, 0]
    # the pad alone: from 50 ms of song after the fill to 150 ms before the song's end
    alone = heard[round((end + RATE // 20) / speed) : round((song.size - 3 * RATE // 20) / speed)]
    levels = levels_db(alone, RATE // 100)
    assert levels.size > 100
    assert levels.min() > -3.0  # no dip deeper than 3 dB
