"""Resampling a song with julius, a block at a time (:mod:`stemgui.audio.decode` uses it, and
an export at the song's own rate, :mod:`stemgui.export.sources`).

``resample_rates`` keeps julius's filter bank small for any rate a file may claim;
``BlockResampler`` gives julius's samples for a whole song without its copies of the song.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

logger = logging.getLogger(__name__)


# julius builds one filter per output phase: (target / gcd) filters of (source / gcd + 2 * width)
# taps. An odd rate (a prime, or a damaged header) makes that bank gigabytes, built in a Python
# loop; above this many values the ratio is approximated instead (see ``resample_rates``).
_MAX_FILTER_VALUES = 1 << 22
_MAX_SOURCE_RATE = 10_000_000  # beyond any real recording: a damaged header
_GOOD_ENOUGH = 1e-4  # relative pitch error of an approximated ratio: 0.17 cent, inaudible


def _filter_width(old: int, new: int) -> int:
    """How many input frames julius's filter reaches either side (its zeros=24, rolloff)."""
    return math.ceil(24 * old / (min(old, new) * 0.945))


def _filter_values(source: int, target: int) -> int:
    """Values in julius's filter bank for ``source`` -> ``target`` Hz."""
    gcd = math.gcd(source, target)
    old, new = source // gcd, target // gcd
    if old == new:
        return 0
    return new * (2 * _filter_width(old, new) + old)


def resample_rates(source: int, target: int) -> tuple[int, int]:
    """The (old, new) rates to hand julius for ``source`` -> ``target`` Hz.

    The exact pair when its filter bank is small (every common rate); otherwise the nearest
    ratio with a small enough bank, which changes the pitch by far less than anyone hears
    (under 0.05 %, less than a cent). ValueError for rates no recording has.
    """
    if not 0 < source <= _MAX_SOURCE_RATE:
        raise ValueError(f"a sample rate of {source} Hz is impossible")
    if _filter_values(source, target) <= _MAX_FILTER_VALUES:
        return source, target
    ratio = Fraction(target, source)
    fitting = []
    for bound in (10, 30, 100, 300, 1000, 3000, 10000):  # smallest bank first: faster
        approx = ratio.limit_denominator(bound)
        if approx and _filter_values(approx.denominator, approx.numerator) <= _MAX_FILTER_VALUES:
            error = abs(approx - ratio) / ratio
            if error <= _GOOD_ENOUGH:
                return approx.denominator, approx.numerator
            fitting.append((error, approx))
    if not fitting:
        raise ValueError(f"cannot resample {source} Hz to {target} Hz")
    best = min(fitting)[1]
    return best.denominator, best.numerator


class BlockResampler:
    """julius's resampling of a song, a block at a time: the samples of one
    ``julius.resample_frac`` of the whole song, without its copies of it (the padded input and
    the convolution's output cost 4.3 times the song at the peak).

    julius cuts the input in periods of ``old`` frames, each giving ``new`` frames; one
    period's output reads ``width`` frames either side of it. A block of periods is resampled
    with a margin of whole periods around it that covers that reach, and its output cut back
    to its own periods; at the ends of the song, julius's own padding applies, as in one call.
    """

    def __init__(self, source: int, target: int, block_frames: int = 1 << 18) -> None:
        import julius

        old, new = resample_rates(source, target)
        if (old, new) != (source, target):
            logger.info("resampling %d Hz as %d/%d of it (an approximation)", source, new, old)
        gcd = math.gcd(old, new)
        self.old, self.new = old // gcd, new // gcd
        self._julius = julius.ResampleFrac(self.old, self.new)
        self._margin = -(-_filter_width(self.old, self.new) // self.old)  # in periods
        self._step = max(block_frames // self.old, 1)  # periods a block

    def length(self, frames: int) -> int:
        """The frames ``frames`` input frames resample to (as julius counts them)."""
        return self.new * frames // self.old

    def blocks(
        self,
        samples: np.ndarray,
        before: Callable[[np.ndarray], np.ndarray] | None = None,
        after: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first output frame, block) of ``samples`` (channels, frames) resampled, in order;
        ``before``/``after`` change each block's channels before or after it is resampled."""

        def read(start: int, stop: int) -> np.ndarray:
            piece = samples[:, start:stop]
            return piece if before is None else before(piece)

        resampled = self.reader(read, samples.shape[1])
        length, step = self.length(samples.shape[1]), self._step * self.new
        for first in range(0, length, step):
            block = resampled(first, min(first + step, length))
            yield first, block if after is None else after(block)

    def reader(
        self, read: Callable[[int, int], np.ndarray], frames: int, length: int | None = None
    ) -> Callable[[int, int], np.ndarray]:
        """``read(start, stop)`` of frames [start, stop) of the ``frames`` frames that ``read``
        gives (channels, stop - start), resampled: julius's samples for the whole signal, in any
        order. Each call reads its own frames and as many either side as the filter reaches
        (whole periods), so memory holds one block, not the signal.

        ``length``: the frames of the result, ``self.length(frames)`` by default. More (a song's
        own count, which its stems at another rate miss by a frame or two in rounding) go on
        as julius would over the signal ending in copies of its last frame: the edge julius
        pads with, so the frames before are the same."""
        import torch

        if length is not None and length > self.length(frames):
            inner, given = read, frames
            frames = -(-length * self.old // self.new)  # input frames that reach ``length``

            def read(start: int, stop: int) -> np.ndarray:
                piece = inner(min(start, given), min(stop, given))
                if stop <= given:
                    return piece
                edge = inner(given - 1, given)
                return np.concatenate([piece, np.repeat(edge, stop - max(start, given), 1)], 1)

        length = self.length(frames) if length is None else length

        def resampled(start: int, stop: int) -> np.ndarray:
            stop = min(stop, length)
            first, last = start // self.new, -(-stop // self.new)  # output periods
            low = max(first - self._margin, 0)
            piece = read(low * self.old, min((last + self._margin) * self.old, frames))
            with torch.inference_mode():
                out = self._julius(torch.from_numpy(np.ascontiguousarray(piece))).numpy()
            skip = start - low * self.new
            return out[:, skip : skip + max(stop - start, 0)]

        return resampled
