"""Random excerpts of the training tracks, reproducible from (seed, step): ``ExcerptSampler``.

The tracks are the (1 + sources, channels, frames) arrays ``training.data`` caches, mixture
first; a batch holds excerpts of their sources alone, (size, sources, channels, frames): the
training step augments them and adds them up into the mixture it feeds the network.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)


class ExcerptSampler:
    """Random excerpts of the sources of cached tracks, reproducible from (seed, step).

    ``batch(step, size)`` returns float32 (size, sources, channels, frames): each item a random
    track and a random start; the same (seed, step, rank) always gives the same batch, so a
    resumed run sees exactly the batches an uninterrupted one would, and distributed ranks draw
    disjoint items of the same global batch. ``weights`` (one per track, default all alike) make
    some tracks drawn more often than others.
    """

    def __init__(
        self,
        tracks: Sequence[np.ndarray],
        frames: int,
        seed: int = 0,
        weights: Sequence[float] | None = None,
    ) -> None:
        if weights is None:
            weights = [1.0] * len(tracks)
        if len(weights) != len(tracks) or min(weights, default=0) < 0:
            raise ValueError("the sampler needs one non-negative weight per track")
        usable = [(t, w) for t, w in zip(tracks, weights) if t.shape[-1] >= frames]
        if not usable:
            longest = max((t.shape[-1] for t in tracks), default=0)
            raise ValueError(
                f"no track is at least {frames} frames long (one excerpt); the longest has "
                f"{longest}"
            )
        if len(usable) < len(tracks):
            log.warning(
                "%d of %d training tracks are shorter than an excerpt (%d frames) and are never "
                "drawn",
                len(tracks) - len(usable),
                len(tracks),
                frames,
            )
        self.tracks = [t for t, _ in usable]
        kept = np.array([w for _, w in usable], dtype=np.float64)
        if kept.sum() <= 0:
            raise ValueError("every track long enough to sample has weight 0")
        # None when all are alike: then tracks are drawn as before weights existed, so runs
        # started then resume with the same batches.
        self.p = None if np.all(kept == kept[0]) else kept / kept.sum()
        self.frames = frames
        self.seed = seed

    def picks(self, step: int, size: int, rank: int = 0, world: int = 1) -> list[tuple[int, int]]:
        """(track index, start frame) of each item of ``batch(step, size, rank, world)``."""
        rng = np.random.default_rng([self.seed, step])
        if self.p is None:
            tracks = rng.integers(0, len(self.tracks), size * world)
        else:
            tracks = rng.choice(len(self.tracks), size * world, p=self.p)
        starts = rng.random(size * world)
        out = []
        for index in range(rank * size, (rank + 1) * size):
            length = self.tracks[tracks[index]].shape[-1]
            out.append((int(tracks[index]), int(starts[index] * (length - self.frames + 1))))
        return out

    def batch(self, step: int, size: int, rank: int = 0, world: int = 1) -> np.ndarray:
        items = [
            np.asarray(self.tracks[track][1:, :, start : start + self.frames])
            for track, start in self.picks(step, size, rank, world)
        ]
        return np.stack(items).astype(np.float32, copy=False)
