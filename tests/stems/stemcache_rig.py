"""What the stem cache tests share: a seeded four-stem ``StemSet`` and cache keys of known
song, model and options."""

from __future__ import annotations

import numpy as np

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet

NAMES = ("drums", "bass", "other", "vocals")
OPTIONS = {"segment": None, "overlap": 0.25, "shifts": 0}


def _stems(seed: int = 0, frames: int = 1000) -> StemSet:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((4, 2, frames)).astype(np.float32)
    mix = data.sum(axis=0)
    return StemSet(NAMES, 8000, data, mix)


def _key(song: str = "a" * 64, model: str = "tiny|" + "b" * 64, **options) -> str:
    return StemCache.key(song, model, {**OPTIONS, **options})
