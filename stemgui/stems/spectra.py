"""Magnitude spectra of a song, block by block: what the tempo and key estimates read.

The song is read a block at a time (a ``BlockReader``: a memory-mapped 60-minute song is never
whole in memory), mixed to mono, decimated by a whole factor to about ``analysis_rate`` (the
mean of every ``factor`` samples: the estimates look far below the new Nyquist) and cut into
Hann-windowed frames of ``n_fft`` samples, ``hop`` apart; what is left past a block's last
whole frame waits for the next block.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stemgui.audio.stream import BlockReader, block_peak, finite

BLOCK_FRAMES = 1 << 18
"""Input frames read at a time (2 MiB of stereo float32)."""


class Spectra:
    """The magnitude frames of ``frames`` frames of ``read``; iterate once.

    Attributes:
        factor: the decimation factor.
        rate: analysis samples per second (``samplerate / factor``); frames come ``rate / hop``
            a second.
        peak: the loudest |sample| read so far (the whole song's once iterated).
    """

    def __init__(
        self,
        read: BlockReader,
        frames: int,
        samplerate: int,
        *,
        analysis_rate: float,
        n_fft: int,
        hop: int,
    ) -> None:
        self._read, self._frames = read, frames
        self.n_fft, self.hop = n_fft, hop
        self.factor = max(1, round(samplerate / analysis_rate))
        self.rate = samplerate / self.factor
        self.peak = 0.0

    def __iter__(self) -> Iterator[np.ndarray]:
        """Each block's (whole frames, n_fft // 2 + 1) magnitudes, in order (none for a block
        that completes no frame)."""
        n_fft, hop, factor = self.n_fft, self.hop, self.factor
        window = np.hanning(n_fft + 1)[:n_fft].astype(np.float32) * np.float32(2.0 / (n_fft / 2))
        block_frames = BLOCK_FRAMES // factor * factor
        pending = np.zeros(0, dtype=np.float32)  # decimated samples not yet in a whole frame
        for start in range(0, self._frames, block_frames):
            block = finite(self._read(start, min(start + block_frames, self._frames)))
            self.peak = max(self.peak, block_peak(block))
            mono = block.mean(axis=0, dtype=np.float32)
            whole = mono.shape[0] // factor * factor
            mono = mono[:whole].reshape(-1, factor).mean(axis=1, dtype=np.float32)
            pending = np.concatenate([pending, mono])
            count = (pending.shape[0] - n_fft) // hop + 1
            if count <= 0:
                continue
            framed = np.lib.stride_tricks.sliding_window_view(pending, n_fft)[::hop][:count]
            yield np.abs(np.fft.rfft(framed * window, axis=1))
            pending = pending[count * hop :].copy()
