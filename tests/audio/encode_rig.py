"""What the write_audio tests share: a noise buffer, and a check that no partial file is left."""

from __future__ import annotations

import numpy as np

from stemgui.audio.atomic import is_part


def noise(frames=4000, peak=0.9, seed=0):
    """Uniform noise of at most ``peak``: float32 (2, frames)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-peak, peak, (2, frames)).astype(np.float32)


def no_leftovers(folder):
    """Whether ``folder`` holds no partial file of an unfinished write."""
    return not any(is_part(p) for p in folder.iterdir())
