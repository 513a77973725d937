"""Min/max peak envelopes of a signal, for drawing any visible range of a waveform quickly.

``Waveform`` reads the samples once and keeps the minimum and maximum (over channels) of every
bin of ``frames_per_bin[0]`` frames, then of the coarser levels (each a whole multiple of the one
before) built from the finer one. ``envelope(start, stop, bins)`` answers the exact minimum and
maximum of every pixel column of any range: a column's inside is covered by the coarsest whole
bins that fit, its two ragged ends by finer bins and finally by raw samples (less than one bin
of ``frames_per_bin[0]`` on each side), so a query costs about ``bins * frames_per_bin[0]``
sample reads whatever the zoom.

While a separation runs, ``extend(frames_ready)`` adds the frames that became final; only
whole bins are stored, and the ragged tail is read from the samples.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stemgui.stems.cues import NO_CUES, Cues
from stemgui.stems.stemset import StemSet

if TYPE_CHECKING:
    from stemgui.stems.analysis import Analysis

logger = logging.getLogger(__name__)

DEFAULT_FRAMES_PER_BIN = (64, 256, 1024, 4096)
_CHUNK_BINS = 1024  # base bins read per step by extend(): bounds the temporary memory
# Base bins per column from which ``envelope`` moves inner column edges onto bin boundaries
# (by less than a bin: under 1/16 of a column). Reading every column's ragged ends from a
# memory-mapped file brought most of a long song's stems file into the app's memory at each
# redraw during a separation (a 60-minute song: 5.7 GB resident instead of 1.9 GB).
SNAP_BINS = 16


class Waveform:
    """The peak envelope of one signal.

    Args:
        samples: (channels, frames) or (frames,) float array, an ``np.memmap`` allowed; kept by
            reference (not copied), since ``envelope`` reads the ragged ends from it.
        frames_per_bin: the zoom levels, increasing, each a whole multiple of the previous.
        frames_ready: frames [0, frames_ready) to take in now; default all of them.
    """

    def __init__(
        self,
        samples: np.ndarray,
        frames_per_bin: Sequence[int] = DEFAULT_FRAMES_PER_BIN,
        *,
        frames_ready: int | None = None,
    ) -> None:
        samples = np.asarray(samples)
        if samples.ndim == 1:
            samples = samples[None, :]
        if samples.ndim != 2 or samples.shape[0] < 1:
            raise ValueError(f"samples must have shape (channels, frames), got {samples.shape}")
        levels = tuple(int(f) for f in frames_per_bin)
        if not levels or levels[0] < 1:
            raise ValueError(f"frames_per_bin must be positive, got {frames_per_bin}")
        for fine, coarse in itertools.pairwise(levels):
            if coarse <= fine or coarse % fine:
                raise ValueError(
                    f"each level must be a larger multiple of the previous, got {frames_per_bin}"
                )
        self.samples = samples
        self.frames_per_bin: tuple[int, ...] = levels
        frames = samples.shape[1]
        self._mins = [np.empty(frames // f, dtype=np.float32) for f in levels]
        self._maxs = [np.empty(frames // f, dtype=np.float32) for f in levels]
        self._counts = [0] * len(levels)  # whole bins computed so far, per level
        self._ready = 0
        self.extend(frames if frames_ready is None else frames_ready)

    @property
    def frames(self) -> int:
        """Length of the signal in frames."""
        return self.samples.shape[1]

    @property
    def frames_ready(self) -> int:
        """Frames [0, frames_ready) are taken into account by ``envelope``."""
        return self._ready

    def extend(self, frames_ready: int) -> None:
        """Take in the frames up to ``frames_ready`` (which never goes back)."""
        frames_ready = min(int(frames_ready), self.frames)
        if frames_ready <= self._ready:
            return
        self._ready = frames_ready
        base = self.frames_per_bin[0]
        channels = self.samples.shape[0]
        whole = frames_ready // base
        while self._counts[0] < whole:
            first = self._counts[0]
            last = min(whole, first + _CHUNK_BINS)
            block = self.samples[:, first * base : last * base].reshape(channels, -1, base)
            self._mins[0][first:last] = block.min(axis=(0, 2))
            self._maxs[0][first:last] = block.max(axis=(0, 2))
            self._counts[0] = last
        for k in range(1, len(self.frames_per_bin)):
            ratio = self.frames_per_bin[k] // self.frames_per_bin[k - 1]
            first, last = self._counts[k], self._counts[k - 1] // ratio
            if last > first:
                finer = slice(first * ratio, last * ratio)
                self._mins[k][first:last] = self._mins[k - 1][finer].reshape(-1, ratio).min(1)
                self._maxs[k][first:last] = self._maxs[k - 1][finer].reshape(-1, ratio).max(1)
                self._counts[k] = last

    def level(self, frames_per_bin: int) -> tuple[np.ndarray, np.ndarray]:
        """The whole bins of one zoom level so far: (mins, maxs), views of shape (bins,)."""
        k = self.frames_per_bin.index(int(frames_per_bin))
        n = self._counts[k]
        return self._mins[k][:n], self._maxs[k][:n]

    def envelope(self, start: int, stop: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact (mins, maxs) of frames [start, stop) in ``bins`` columns, each (bins,) float32.

        Column i covers frames [e(i), max(e(i + 1), e(i) + 1)) with
        ``e(i) = start + i * (stop - start) // bins``, whatever part of the range lies before
        frame 0 or past the end (a view past the song keeps its columns' width); frames outside
        [0, frames_ready) are left out, and a column with none left reads 0 (silence, as the
        player hears it). When ``stop - start`` is at least ``bins * SNAP_BINS *
        frames_per_bin[0]``, the inner edges e(1)..e(bins - 1) are rounded down to a multiple of
        ``frames_per_bin[0]``.
        """
        bins = int(bins)
        if bins < 1:
            raise ValueError(f"bins must be at least 1, got {bins}")
        start = int(start)
        stop = max(int(stop), start)
        edges = start + (np.arange(bins + 1, dtype=np.int64) * (stop - start)) // bins
        base = self.frames_per_bin[0]
        if stop - start >= bins * SNAP_BINS * base:
            edges[1:-1] -= edges[1:-1] % base
        lo = np.clip(edges[:-1], 0, self._ready)
        hi = np.clip(np.maximum(edges[1:], edges[:-1] + 1), 0, self._ready)
        mins = np.zeros(bins, dtype=np.float32)
        maxs = np.zeros(bins, dtype=np.float32)
        full = np.flatnonzero(lo < hi)  # columns holding at least one ready frame
        if full.size:
            lo, hi = lo[full], hi[full]
            low = np.full(full.size, np.inf, dtype=np.float32)
            high = np.full(full.size, -np.inf, dtype=np.float32)
            ragged = np.flatnonzero((lo % base != 0) | (hi % base != 0))  # else whole bins
            if ragged.size:
                ends_low, ends_high = low[ragged], high[ragged]
                self._ragged_ends(lo[ragged], hi[ragged], ends_low, ends_high)
                low[ragged], high[ragged] = ends_low, ends_high
            self._whole_bins(lo, hi, low, high)
            mins[full], maxs[full] = low, high
        return mins, maxs

    def _ragged_ends(self, lo, hi, mins, maxs) -> None:
        """Fold in the raw samples of the base bins holding each column's first and last frame.

        Columns must not be empty (``lo < hi``); indices outside a column are clipped onto its
        own frames, which changes neither its minimum nor its maximum.
        """
        base = self.frames_per_bin[0]
        width = int(min(base, np.max(hi - lo)))  # a narrow column needs no more than itself
        offsets = np.arange(width, dtype=np.int64)
        index = np.empty((lo.size, 2, width), dtype=np.int64)
        index[:, 0] = lo[:, None] + offsets  # from the first frame on
        index[:, 1] = (hi - width)[:, None] + offsets  # up to the last frame
        np.clip(index, lo[:, None, None], (hi - 1)[:, None, None], out=index)
        window = self.samples[:, index]  # (channels, bins, 2, width)
        np.minimum(mins, window.min(axis=(0, 2, 3)), out=mins, casting="unsafe")
        np.maximum(maxs, window.max(axis=(0, 2, 3)), out=maxs, casting="unsafe")

    def _whole_bins(self, lo, hi, mins, maxs) -> None:
        """Fold in the stored bins that lie wholly inside each column, coarsest first inward."""
        base = self.frames_per_bin[0]
        a = -(-lo // base)  # first whole base bin of each column
        b = hi // base  # one past the last
        b = np.maximum(a, b)
        last_level = len(self.frames_per_bin) - 1
        for k in range(len(self.frames_per_bin)):
            stored = self._counts[k]
            if stored == 0 or not np.any(a < b):
                return
            low_k, high_k = self._mins[k][:stored], self._maxs[k][:stored]
            if k == last_level:
                self._fold_ranges(low_k, high_k, a, b, mins, maxs)
                return
            ratio = self.frames_per_bin[k + 1] // self.frames_per_bin[k]
            coarse_a = -(-a // ratio)
            coarse_b = np.maximum(b // ratio, coarse_a)
            # Ends of [a, b) not covered by whole coarser bins: fewer than `ratio` bins each.
            head = (a, np.minimum(b, coarse_a * ratio))
            tail = (np.maximum(a, coarse_b * ratio), b)
            steps = np.arange(ratio, dtype=np.int64)
            for first, stop in (head, tail):
                index = first[:, None] + steps
                inside = index < stop[:, None]
                index = np.minimum(index, stored - 1)
                np.minimum(mins, np.where(inside, low_k[index], np.inf).min(axis=1), out=mins)
                np.maximum(maxs, np.where(inside, high_k[index], -np.inf).max(axis=1), out=maxs)
            a, b = coarse_a, coarse_b

    @staticmethod
    def _fold_ranges(low, high, a, b, mins, maxs) -> None:
        """mins[i] <- min(mins[i], low[a[i]:b[i]]) for the non-empty ranges, which are ordered."""
        keep = np.flatnonzero(a < b)
        bounds = np.empty(2 * keep.size, dtype=np.int64)
        bounds[0::2], bounds[1::2] = a[keep], b[keep]
        low = np.append(low, np.float32(np.inf))  # so that an end equal to len(low) is valid
        high = np.append(high, np.float32(-np.inf))
        mins[keep] = np.minimum(mins[keep], np.minimum.reduceat(low, bounds)[0::2])
        maxs[keep] = np.maximum(maxs[keep], np.maximum.reduceat(high, bounds)[0::2])


_BLOCK_FRAMES = 1 << 21  # 2 Mi frames: 64 MiB of four stereo stems


class StemWaveforms:
    """One ``Waveform`` per stem of a ``StemSet`` (and one of its mix when it has one).

    ``update()`` follows ``stemset.frames_ready`` while a separation runs. ``analysis`` is the
    song's tempo, beat grid and key (``stemgui.stems.analysis``) once the separation worker has
    made it, else None; ``cues`` the song's cue points (``stemgui.stems.cues``), read from its
    stem cache entry with the analysis (``worker_cache.cached_waveforms``) and set by the window.
    """

    def __init__(
        self, stemset: StemSet, frames_per_bin: Sequence[int] = DEFAULT_FRAMES_PER_BIN
    ) -> None:
        self.stemset = stemset
        self.analysis: Analysis | None = None
        self.cues: Cues = NO_CUES
        ready = stemset.frames_ready
        # A long song's stems file (or the stem cache's): the pages read are let go as the
        # envelopes are made, or the whole file counts in the app's memory (4.9 GB for 60 min).
        self._released = 0
        self.stems: dict[str, Waveform] = {
            name: Waveform(stemset.stem(name), frames_per_bin, frames_ready=0)
            for name in stemset.names
        }
        for stop in range(_BLOCK_FRAMES, ready + _BLOCK_FRAMES, _BLOCK_FRAMES):
            self.update_to(min(stop, ready))
        self.mix: Waveform | None = None
        if stemset.mix is not None:  # whole from the start; a long song's file let go of too
            from stemgui.spool import release_pages

            self.mix = Waveform(stemset.mix, frames_per_bin, frames_ready=0)
            for start in range(0, stemset.frames, _BLOCK_FRAMES):
                self.mix.extend(min(start + _BLOCK_FRAMES, stemset.frames))
                release_pages(stemset.mix, start, start + _BLOCK_FRAMES, flush=False)

    def __getitem__(self, name: str) -> Waveform:
        return self.stems[name]

    def rebind(self, stemset: StemSet) -> None:
        """Read the same stems from ``stemset`` from now on (e.g. their copy in the stem cache,
        memory-mapped), keeping the envelopes computed so far."""
        if stemset.names != self.stemset.names or stemset.data.shape != self.stemset.data.shape:
            raise ValueError(f"{stemset!r} does not hold the stems of {self.stemset!r}")
        self.stemset = stemset
        for name, waveform in self.stems.items():
            waveform.samples = np.asarray(stemset.stem(name))
        if self.mix is not None and stemset.mix is not None:
            self.mix.samples = np.asarray(stemset.mix)

    def update(self) -> int:
        """Take in the frames that became final; return the frames now ready."""
        return self.update_to(self.stemset.frames_ready)

    def update_to(self, ready: int) -> int:
        """Take in the frames up to ``ready``; return it."""
        for waveform in self.stems.values():
            waveform.extend(ready)
        from stemgui.spool import release_done  # an array in RAM: nothing to let go

        # on the GUI thread too: no wait for the disk
        self._released = release_done(self.stemset.data, self._released, ready, flush=False)
        return ready
