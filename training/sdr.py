"""Signal-to-distortion ratios: the fast global SDR used while training, and MUSDB's BSS Eval v4.

Shapes: references and estimates are (sources, channels, time) float arrays.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-8


def global_sdr(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Per source, ``10 log10(|s|² / |s - ŝ|²)`` over the whole signal (the MDX challenge's SDR).

    (sources, channels, time) x2 -> (sources,)
    """
    references = np.asarray(references, dtype=np.float64)
    estimates = np.asarray(estimates, dtype=np.float64)
    signal = np.sum(references**2, axis=(-2, -1))
    noise = np.sum((references - estimates) ** 2, axis=(-2, -1))
    return 10 * np.log10((signal + _EPS) / (noise + _EPS))
