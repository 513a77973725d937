"""What the tests of a song's grid share: rock drums at 120 BPM after a silence, as the drums
of a stem set, and how far a grid lies from given times."""

from __future__ import annotations

import numpy as np

from stemgui.stems.stemset import StemSet
from stemgui.stems.tempo import Tempo
from tests.stems.drumkit import RATE, drum_track


def _rock(start: float, seconds: float = 20.0) -> np.ndarray:
    """Rock drums at 120 BPM (a kick every second, from ``start``; a snare half a second after
    each), after ``start`` seconds of silence."""
    track = drum_track(120, seconds, "rock", seed=4)
    return np.concatenate([np.zeros((2, round(start * RATE)), np.float32), track], axis=1)


def _stems(drums: np.ndarray, names=("drums", "other")) -> StemSet:
    quiet = 0.01 * drum_track(100, drums.shape[1] / RATE + 1, "four", seed=9)[:, : drums.shape[1]]
    return StemSet(list(names), RATE, np.stack([drums, quiet]), mix=drums + quiet)


def _off_grid(tempo: Tempo, times: np.ndarray) -> float:
    """Seconds from the farthest of ``times`` to the beat of ``tempo``'s grid nearest it."""
    beats = np.round((times - tempo.first_beat) / tempo.beat)
    return float(np.max(np.abs(tempo.first_beat + beats * tempo.beat - times)))
