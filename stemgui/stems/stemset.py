"""The stems of one song: a (sources, channels, frames) float32 buffer with names and a rate.

A ``StemSet`` is the value the separation hands to the player, the waveform views and the
exporter. While a separation is still running, ``frames_ready`` says how many frames from the
start are final: the player treats everything after it as silence, the waveforms stop there.
It only grows. For long songs ``data`` may be an ``np.memmap``; nothing here copies it.
``two_stem_set`` makes the pair two-stem mode shows and exports: one stem and the sum of the
others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class StemSet:
    """Named stems that play in sync.

    Args:
        names: one name per source, e.g. ``("drums", "bass", "other", "vocals")``.
        samplerate: frames per second of every stem.
        data: float32 array of shape (sources, channels, frames), an ``np.memmap`` allowed.
            Another float dtype is converted (a copy); float32 is used as is.
        mix: the original mixture, shape (channels, frames), or None.
        frames_ready: frames [0, frames_ready) that are final; default every frame.
        song: (samplerate, frames) of the song as its file holds it, or None when unknown:
            its stems exported at that rate get exactly that many frames (resampled to the
            model's rate and back, they would miss one or two in rounding).
    """

    def __init__(
        self,
        names: Sequence[str],
        samplerate: int,
        data: np.ndarray,
        mix: np.ndarray | None = None,
        *,
        frames_ready: int | None = None,
        song: tuple[int, int] | None = None,
    ) -> None:
        names = tuple(str(n) for n in names)
        if not names:
            raise ValueError("a StemSet needs at least one stem")
        if len(set(names)) != len(names):
            raise ValueError(f"stem names must be unique, got {names}")
        if int(samplerate) <= 0:
            raise ValueError(f"samplerate must be positive, got {samplerate}")
        if not isinstance(data, np.ndarray) or data.dtype != np.float32:
            data = np.asarray(data, dtype=np.float32)
        if data.ndim != 3 or data.shape[0] != len(names):
            raise ValueError(
                f"data must have shape (sources={len(names)}, channels, frames), got {data.shape}"
            )
        if data.shape[1] < 1:
            raise ValueError("data must have at least one channel")
        if mix is not None:
            if not isinstance(mix, np.ndarray) or mix.dtype != np.float32:
                mix = np.asarray(mix, dtype=np.float32)
            if mix.shape != data.shape[1:]:
                raise ValueError(
                    f"mix must have shape (channels, frames) = {data.shape[1:]}, got {mix.shape}"
                )
        self.names: tuple[str, ...] = names
        self.samplerate: int = int(samplerate)
        self.data: np.ndarray = data
        self.mix: np.ndarray | None = mix
        self.song: tuple[int, int] | None = None if song is None else (int(song[0]), int(song[1]))
        self._index = {name: i for i, name in enumerate(names)}
        self._frames_ready = 0
        self.frames_ready = self.frames if frames_ready is None else frames_ready

    @classmethod
    def allocate(
        cls,
        names: Sequence[str],
        samplerate: int,
        channels: int,
        frames: int,
        *,
        mix: np.ndarray | None = None,
        path: str | Path | None = None,
        song: tuple[int, int] | None = None,
    ) -> StemSet:
        """An all-silent StemSet with ``frames_ready == 0``, for a separation to fill in place.

        With ``path`` the buffer is a new ``np.memmap`` file there (long songs stay off the RAM).
        """
        shape = (len(names), int(channels), int(frames))
        if path is None:
            data = np.zeros(shape, dtype=np.float32)
        else:
            from stemgui.spool import reserved_memmap

            data = reserved_memmap(path, shape)
        return cls(names, samplerate, data, mix, frames_ready=0, song=song)

    @property
    def sources(self) -> int:
        """Number of stems."""
        return self.data.shape[0]

    @property
    def channels(self) -> int:
        """Channels of every stem (2 for stereo)."""
        return self.data.shape[1]

    @property
    def frames(self) -> int:
        """Length of the song in frames."""
        return self.data.shape[2]

    @property
    def duration(self) -> float:
        """Length of the song in seconds."""
        return self.frames / self.samplerate

    @property
    def frames_ready(self) -> int:
        """Frames [0, frames_ready) are final; later frames are still being separated."""
        return self._frames_ready

    @frames_ready.setter
    def frames_ready(self, value: int) -> None:
        value = int(value)
        if not 0 <= value <= self.frames:
            raise ValueError(f"frames_ready must lie in [0, {self.frames}], got {value}")
        if value < self._frames_ready:
            raise ValueError(f"frames_ready only grows: {self._frames_ready} -> {value}")
        # One int attribute: the audio thread reads it without a lock.
        self._frames_ready = value

    @property
    def complete(self) -> bool:
        """True once every frame is final."""
        return self._frames_ready == self.frames

    def index(self, name: str) -> int:
        """Position of stem ``name`` in ``names`` (and along the first axis of ``data``)."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(
                f"there is no stem {name!r}; the stems are {', '.join(self.names)}"
            ) from None

    def stem(self, name: str) -> np.ndarray:
        """Stem ``name``: a view of shape (channels, frames), not a copy."""
        return self.data[self.index(name)]

    def block(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) of every stem: a view of shape (sources, channels, stop - start).

        ``stop`` past the end is clipped to ``frames``.
        """
        start, stop = int(start), int(stop)
        if start < 0 or stop < start:
            raise ValueError(f"bad block [{start}, {stop})")
        return self.data[:, :, start : min(stop, self.frames)]

    def __repr__(self) -> str:
        return (
            f"StemSet(names={self.names}, samplerate={self.samplerate}, "
            f"channels={self.channels}, frames={self.frames}, frames_ready={self.frames_ready})"
        )


def is_two_stems(names: Sequence[str]) -> bool:
    """Whether ``names`` are those of two stems made from the full ones (``two_stem_set``): a
    stem, then ``no_`` and its name."""
    return len(names) == 2 and names[1] == f"no_{names[0]}"


_TWO_STEM_BLOCK_FRAMES = 1 << 20  # 32 MiB of four stereo stems summed, then let go of


def two_stem_set(stemset: StemSet, keep: str, path: Path | None = None) -> StemSet:
    """``keep`` and ``no_<keep>`` (the sum of the other stems), as a new complete ``StemSet``.

    The sum is taken stem by stem into the new buffer (an ``np.memmap`` at ``path`` if given),
    so the only extra memory is the result; a block at a time, letting go of the pages of
    memory-mapped stems (a 60-minute song's 7.5 GB read and written stayed in memory).
    """
    from stemgui.spool import release_pages

    index = stemset.index(keep)
    pair = StemSet.allocate(
        [keep, f"no_{keep}"],
        stemset.samplerate,
        stemset.channels,
        stemset.frames,
        mix=stemset.mix,
        path=path,
        song=stemset.song,
    )
    for start in range(0, stemset.frames, _TWO_STEM_BLOCK_FRAMES):
        block = slice(start, start + _TWO_STEM_BLOCK_FRAMES)
        pair.data[0, :, block] = stemset.data[index, :, block]
        for other in range(stemset.sources):
            if other != index:
                pair.data[1, :, block] += stemset.data[other, :, block]
        release_pages(pair.data, start, block.stop)
        release_pages(stemset.data, start, block.stop, flush=False)
    pair.frames_ready = pair.frames
    return pair
