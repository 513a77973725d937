"""The statistics of a whole mix, by which every chunk is normalised before the network.

As the reference (``demucs.api``) does: the mono mix's mean and unbiased standard deviation over
the whole song. Every chunk goes into the network as ``(chunk - mean) / (std + 1e-8)`` and its
estimates come out as ``estimate * (std + 1e-8) + mean`` (``Separator``); the floor keeps a
silent song finite. The statistics take one pass over the song, block by block, before the
first chunk.
"""

from __future__ import annotations

import math

import numpy as np

_STD_FLOOR = 1e-8
"""Added to the mix's standard deviation, as the reference's api does: silence stays finite."""
_STATISTICS_BLOCK = 1 << 20
"""Frames per block when the mix's statistics are computed (bounds the temporary memory)."""


def mix_statistics(buffer: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (unbiased) of the mono mix of ``buffer`` (channels, frames).

    Computed block by block in float64 (Chan's parallel update), so a long song or an
    ``np.memmap`` costs one block of temporary memory; the pages of a memmap (the app's copy of
    a long song) are let go of as they are read. A song under 2 frames has std 0; a NaN or
    infinite sample makes the mean or the std NaN or infinite (without a warning: ``Separator``
    refuses such a song).
    """
    from stemgui.spool import release_pages

    count, mean, squares = 0, 0.0, 0.0
    frames = buffer.shape[-1]
    for start in range(0, frames, _STATISTICS_BLOCK):
        mono = buffer[:, start : start + _STATISTICS_BLOCK].mean(axis=0, dtype=np.float64)
        release_pages(buffer, start, start + _STATISTICS_BLOCK, flush=False)
        n = mono.shape[0]
        block_mean = float(mono.mean())
        with np.errstate(invalid="ignore"):  # inf - inf is NaN: said by the caller
            block_squares = float(((mono - block_mean) ** 2).sum())
        delta = block_mean - mean
        total = count + n
        mean += delta * n / total
        squares += block_squares + delta * delta * count * n / total
        count = total
    std = math.sqrt(squares / (count - 1)) if count > 1 else 0.0
    return mean, std


def normalisation(buffer: np.ndarray) -> tuple[float, float]:
    """(mean, std) that the chunks of ``buffer`` (channels, frames) are normalised by: the mix's
    statistics, the standard deviation with its floor added."""
    mean, std = mix_statistics(buffer)
    return mean, std + _STD_FLOOR
