"""Pitch and tempo changes of whole tracks, done once before training (no external binary).

The official Demucs recipes change pitch (up to 2 semitones) and tempo (up to 12 %) with the
``soundstretch`` program, on the fly. Here each training track gets ``[augment] repitch`` changed
copies when the run starts, and the sampler draws excerpts from originals and copies alike. A
copy is the track played up to ``repitch_percent`` faster or slower, as a tape would: pitch and
tempo change together (12 % is 1.96 semitones up, 2.2 down), by resampling (julius), which adds
no artifacts (a phase vocoder, the way to change them apart, took a steady tone down to a tenth
of its amplitude in a trial here). Every stem of a copy changes alike and its mixture is the
sum of its stems.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import torch

log = logging.getLogger(__name__)


def change_speed(audio: np.ndarray, percent: int) -> np.ndarray:
    """``audio`` (..., frames) played ``percent`` % faster (negative: slower), pitch with it.

    Returns float32 (..., frames * 100 // (100 + percent)); the same samples for 0.
    """
    if percent == 0:
        return np.asarray(audio, dtype=np.float32)
    import julius

    # A copy: cached tracks are read-only memory maps, which torch will not wrap.
    signals = torch.from_numpy(np.array(audio, dtype=np.float32))
    out = julius.resample_frac(signals, 100 + percent, 100)  # faster: fewer samples, higher
    return out.numpy()


def semitones(percent: int) -> float:
    """The pitch change of a ``percent`` speed change, in semitones."""
    return 12 * math.log2(1 + percent / 100)


def draw_changes(count: int, seed: int, max_percent: int = 12) -> list[int]:
    """``count`` different speed changes in whole percents, none 0, up to ``max_percent``
    either way (all of them when ``count`` asks for more)."""
    choices = [p for p in range(-max_percent, max_percent + 1) if p]
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(choices), size=min(count, len(choices)), replace=False)
    return [choices[int(i)] for i in picked]


def copies(tracks: Sequence[np.ndarray], count: int, seed: int, max_percent: int = 12) -> list:
    """``count`` changed copies of every track (1 + sources, channels, frames): the stems
    changed alike, the mixture their sum. Reproducible from ``seed``."""
    started = time.monotonic()
    out = []
    for number, track in enumerate(tracks):
        for percent in draw_changes(count, seed * 1_000_003 + number, max_percent):
            stems = change_speed(np.asarray(track[1:]), percent)
            out.append(np.concatenate([stems.sum(axis=0, keepdims=True), stems]))
    seconds = time.monotonic() - started
    log.info("repitch: %d changed copies of %d tracks in %.1f s", len(out), len(tracks), seconds)
    return out
