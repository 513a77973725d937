"""The fast global SDR used while training (the MDX challenge's), and its mean over tracks; MUSDB's
BSS Eval v4 is ``training.bsseval``.

Shapes: references and estimates are (sources, channels, time) float arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.bsseval import silent_sources

_EPS = 1e-8


def global_sdr(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Per source, ``10 log10(|s|² / |s - ŝ|²)`` over the whole signal (the MDX challenge's SDR).

    A source whose reference is silent (museval's test, ``bsseval.silent_sources``) has no
    score, NaN, as museval gives a silent reference frame: it was ``10 log10(1e-8 / |ŝ|²)``,
    -80 dB and lower, which pulled a mean over tracks down by tens of dB. A silent estimate of
    a reference with sound scores 0 dB.

    (sources, channels, time) x2 -> (sources,)
    """
    references = np.asarray(references, dtype=np.float64)
    estimates = np.asarray(estimates, dtype=np.float64)
    signal = np.sum(references**2, axis=(-2, -1))
    noise = np.sum((references - estimates) ** 2, axis=(-2, -1))
    scores = 10 * np.log10((signal + _EPS) / (noise + _EPS))
    return np.where(silent_sources(references), np.nan, scores)


def mean_over_tracks(per_track: Sequence[np.ndarray]) -> np.ndarray:
    """Per source, the mean of the tracks' scores over the tracks that score it (NaN skipped,
    as MUSDB's medians skip them); NaN, without numpy's warning, for a source none scores.

    [(sources,), ...] -> (sources,)
    """
    values = np.stack([np.asarray(s, dtype=np.float64) for s in per_track])
    scored = ~np.isnan(values)
    counts = scored.sum(axis=0)
    totals = np.where(scored, values, 0.0).sum(axis=0)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
