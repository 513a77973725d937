"""Where the stretcher's windows join just before a beat (``Stretcher``, WSOLA): a pad held
under the beats, taken for silence so that they keep time, plays at its level up to each
beat, not dipping where the window that brings the beat in (cut where it plays it on time)
joins the one before."""

from __future__ import annotations

import numpy as np
import pytest

from tests.playback.stretch_rig import RATE, play, player

PAD_DB = -45.0


def pad_under_beats(hz: float, frames: int) -> np.ndarray:
    """A pad held at ``PAD_DB`` dBFS (RMS, a sine at ``hz``) under clicks at -4.4 dBFS every
    half second (120 BPM), 40 dB over it: quiet between them."""
    t = np.arange(frames) / RATE
    song = 10 ** (PAD_DB / 20) * 2**0.5 * np.sin(2 * np.pi * hz * t)
    for at in range(0, frames, RATE // 2):
        song[at : at + 64] += 0.6 * np.exp(-np.arange(64) / 16)
    return song.astype(np.float32)


def dips_before_beats(heard: np.ndarray) -> list[float]:
    """The pad's lowest level (RMS of 10 ms, in dB against ``PAD_DB``) in the 50 ms before
    each beat heard."""
    onsets = np.flatnonzero(np.diff((np.abs(heard) > 0.05).astype(np.int8), prepend=0) == 1)
    onsets = onsets[np.r_[True, np.diff(onsets) > RATE // 20]]  # a beat's first frame
    step, lead = RATE // 100, RATE // 20
    dips = []
    for onset in onsets:
        energy = np.concatenate([[0.0], np.cumsum(heard[onset - lead : onset] ** 2)])
        rms = np.sqrt((energy[step:] - energy[:-step]) / step)
        dips.append(float(20 * np.log10(rms.min()) - PAD_DB))
    return dips


# A1, D3 and A3 at each speed; D3 and A3 transposed (A1 a tritone down, 39 Hz, rises and
# falls by a decibel 10 ms at a time on its own)
PACES = [(speed, 0, hz) for speed in (0.25, 0.5, 0.75, 1.5) for hz in (55.0, 146.83, 220.0)]
PACES += [(0.5, -6, 220.0), (0.25, 3, 146.83)]


@pytest.mark.parametrize(("speed", "semitones", "hz"), PACES)
def test_a_pad_under_the_beats_keeps_its_level_up_to_each_beat(speed, semitones, hz):
    """The window that brings a beat in is cut where it plays it on time, and the silent one
    before it joined it wherever the pad's phase then was: 20-50 ms before the beats the pad
    dipped up to 9 dB 10 ms at a time (D3 at 25-150 %, A1 at 25 %; 10 dB transposed). The
    first beat after Play too: until a beat is heard, the pad is what plays, not the quiet,
    and at 150 % the beat was not known a window ahead (the pad dipped 4 dB before it)."""
    song = pad_under_beats(hz, 4 * RATE)
    output, transport = player(song)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.seek(RATE // 4)
    transport.play()
    heard = play(output, round(3 * RATE / speed))[:, 0].astype(np.float64)
    dips = dips_before_beats(heard)
    assert len(dips) == 6  # the beats in 3 s of song
    assert min(dips) >= -3.0  # no dip deeper than 3 dB
