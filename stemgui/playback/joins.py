"""How the stretcher's windows join in the quiet under the notes (``stemgui.playback.cuts``).

The window that brings a beat in is cut where it plays the beat on time, not where it continues
the window before: the silent window before it is the one that joins both, the one before and
the beat's, as well as it can (``between``): each join a quarter of a period out of phase at
worst, where Hann halves dip 3 dB. Wherever two windows join in the quiet, they crossfade at
the power each has, for how alike they are (``crossfade``), and such a join does not dip.
(Before, the pad under the beats dipped 4-10 dB 20-50 ms before each.)"""

from __future__ import annotations

import numpy as np

ALIKE = 0.9
"""Halves that overlap this alike or more (normalized cross-correlation) join with Hann
halves: the constant-power gains are within a quarter dB of them."""
UNLIKE = -0.9
"""Halves less alike than this are taken as this alike: nearly half a period out of phase, they
cancel at the middle, and the gains that make up for it grow without bound (4.5 at most so)."""


def between(
    region: np.ndarray, before: np.ndarray, beat: np.ndarray, fits: np.ndarray, n: int
) -> int:
    """The lag in ``region`` (frames,) where a window (``2 * hop`` frames, ``hop`` the length
    of ``before`` and ``beat``) best joins both ``before`` (what followed the previous window,
    which its first half overlaps) and ``beat`` (the first half of the beat's window, which
    its second half overlaps): the one whose worse join is the least out of phase (the
    normalized cross-correlations; a sum of them was as high with one join in phase and the
    other half a period out), of those ``fits`` allows; ``n`` the FFTs' length."""
    hop = before.shape[0]
    lags = fits.shape[0]
    spectrum = np.fft.rfft(region, n)
    one = np.fft.irfft(spectrum * np.conj(np.fft.rfft(before, n)), n)[:lags]
    two = np.fft.irfft(spectrum * np.conj(np.fft.rfft(beat, n)), n)[hop : hop + lags]
    energy = np.concatenate([[0.0], np.cumsum(region.astype(np.float64) ** 2)])
    halves = energy[hop:] - energy[:-hop]  # of each hop frames from each lag on
    one /= np.sqrt(np.maximum(halves[:lags] * float(before @ before), 1e-30))
    two /= np.sqrt(np.maximum(halves[hop : hop + lags] * float(beat @ beat), 1e-30))
    worse = np.minimum(one, two)
    worse[~fits] = -np.inf
    return int(np.argmax(worse))


def crossfade(
    leaving: np.ndarray, coming: np.ndarray, rise: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The gains (fall, rise), (hop,) each, that join ``leaving`` (hop,), what the mix heard
    of the previous window's second half, to ``coming`` (hop,), of the next one's first half,
    at the power each has: Hann halves (``rise`` and one less it) over the square root of
    the power they make of two halves as alike as these (their normalized cross-correlation,
    ``UNLIKE`` at least): 1/sqrt(2) at the middle where they are unlike (in phase quadrature,
    or noise), where Hann halves dip 3 dB; more where they are out of phase (taken as unlike,
    a pad transposed dipped up to 9 dB 10 ms at a time after the beats over it at 25-50 %).
    None where they are ``ALIKE`` or more."""
    power = float(leaving @ leaving) * float(coming @ coming)
    alike = float(leaving @ coming) / np.sqrt(power) if power > 0 else 1.0
    if alike >= ALIKE:
        return None
    fall = 1.0 - rise
    gain = 1.0 / np.sqrt(fall**2 + rise**2 + 2.0 * max(alike, UNLIKE) * fall * rise)
    return fall * gain, rise * gain


def join_in_quiet(
    added: np.ndarray,
    leaving: np.ndarray,
    coming: np.ndarray,
    heard: np.ndarray,
    where: tuple[int, int],
    rise: np.ndarray,
    floor: float,
) -> None:
    """Where the halves that overlap are in the quiet (at or below ``floor``, what the mix
    heard of them: ``heard`` (frames,) from ``where``, the previous window's second half and
    the next one's first half), make ``added`` (hop, width), where they are added with Hann
    halves, their ``crossfade`` of ``leaving`` and ``coming`` (hop, width) instead."""
    hop = rise.shape[0]
    if all(quiet_over(heard, at, hop, floor) for at in where):
        gains = crossfade(heard[where[0] :][:hop], heard[where[1] :][:hop], rise)
        if gains is not None:
            added[:] = leaving * gains[0][:, None]
            added += coming * gains[1][:, None]


def quiet_over(heard: np.ndarray, at: int, frames: int, floor: float) -> bool:
    """Whether ``heard`` (frames,) holds ``frames`` frames from ``at`` on, none over ``floor``."""
    part = heard[at : at + frames] if at >= 0 else heard[:0]
    return bool(part.shape[0] == frames and part.max() <= floor and part.min() >= -floor)
