"""Synthetic songs in a known key, for the key estimate's tests: a cadence (I IV V I, or
i iv V i with the raised leading tone) of harmonic tones, a bass on the roots and a melody on
the scale that comes home to the tonic every four bars."""

from __future__ import annotations

import numpy as np

RATE = 44100
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)
CADENCE = (0, 3, 4, 0)  # scale degrees of the chords' roots: I IV V I
C4 = 261.63


def _tone(hz: float, frames: int, rng: np.random.Generator) -> np.ndarray:
    """A plucked harmonic tone: six partials falling off by 0.6 each, decaying over 1.5 s."""
    t = np.arange(frames) / RATE
    partials = sum(
        0.6**k * np.sin(2 * np.pi * hz * (k + 1) * t + rng.uniform(0, 2 * np.pi)) for k in range(6)
    )
    return partials * np.minimum(1.0, t / 0.02) * np.exp(-t / 1.5)


def key_song(
    tonic: int, mode: str, seconds: float = 12.0, *, cents: float = 0.0, seed: int = 0
) -> np.ndarray:
    """(2, frames) float32: a song in ``tonic`` (pitch class, 0 = C) ``mode``, tuned ``cents``
    away from A = 440 Hz, a bar of 2 s per chord."""
    rng = np.random.default_rng(seed)
    steps = MAJOR_STEPS if mode == "major" else MINOR_STEPS
    bar = 2 * RATE
    out = np.zeros(int(seconds * RATE) + bar)
    tune = 2 ** (cents / 1200)

    def hz(semitones: float, base: float = C4) -> float:
        return base * 2 ** ((tonic + semitones) / 12) * tune

    for i in range(int(seconds * RATE) // bar):
        degree, at = CADENCE[i % 4], i * bar
        chord = [steps[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        if mode == "minor" and degree == 4:
            chord[1] += 1  # V major: the leading tone a semitone below the tonic
        for semitones in chord:
            out[at : at + bar] += 0.2 * _tone(hz(semitones), bar, rng)
        out[at : at + bar] += 0.3 * _tone(hz(steps[degree], C4 / 4), bar, rng)
        quarter = bar // 4
        for q in range(4):
            home = i % 4 == 3 and q == 3
            note = steps[0 if home else int(rng.integers(0, 7))]
            out[at + q * quarter : at + (q + 1) * quarter] += 0.15 * _tone(
                hz(note, 2 * C4), quarter, rng
            )
    mono = out[: int(seconds * RATE)] * 0.5
    return np.stack([mono, mono]).astype(np.float32)
