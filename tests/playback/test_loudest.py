"""``Loudest``: the loudest the mix heard over the last ``hold`` input frames, as going
through every level weighed says, however what is weighed lies."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.cuts import Loudest


@pytest.mark.parametrize("seed", range(8))
def test_the_loudest_held_is_that_of_every_level_weighed_in_the_hold(seed):
    """Windows weighed further on, at times less far (slower than a quarter, the windows
    cut before where the speed aims them), louder and quieter: each ``add`` says the loudest
    of those weighed, each where it ends, not gone (``hold`` frames or more before where one
    weighed since ended) when it came."""
    rng = np.random.default_rng(seed)
    hold, loudest, kept, end = 2000, Loudest(2000), [], 0
    for _ in range(400):
        end = max(0, end + int(rng.integers(-300, 700)))
        frames = int(rng.integers(1, 200))
        heard = (rng.random(frames) * rng.choice([0.01, 0.1, 1.0])).astype(np.float32)
        heard *= rng.choice([-1, 1], frames)
        kept = [(at, peak) for at, peak in kept if at > end - hold]
        kept.append((end, float(np.abs(heard).max())))
        assert loudest.add(heard, end - frames) == max(peak for _, peak in kept)
