"""``cut_at`` while the song sounds on: the lag in the search whose cross-correlation with the
template is highest, as weighing each lag directly says (the FFTs that compute it wrap
nothing round onto the lags weighed, however much of the search ``heard`` reaches)."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.cuts import cut_at

HOP, SEARCH = 64, 20


@pytest.mark.parametrize("seed", range(12))
def test_the_cut_is_the_lag_that_correlates_best_weighed_directly(seed):
    rng = np.random.default_rng(seed)
    size, low = 2 * HOP, int(rng.integers(HOP, 3 * HOP))
    high = low + 2 * SEARCH
    whole = high + size  # the search and every window in it; or less, cut short
    frames = int(rng.integers(whole - size // 2, whole + 1))
    heard = (1.0 + 0.5 * rng.uniform(-1, 1, frames)).astype(np.float32)  # never quiet
    template = heard[HOP : HOP + size].astype(np.float64)  # previous 0, so from hop on
    padded = np.concatenate([heard[low:].astype(np.float64), np.zeros(whole)])
    weighed = [padded[lag : lag + size] @ template for lag in range(high - low + 1)]
    loudest = float(heard.max())
    cut = cut_at(heard, 0, 0, size, low + SEARCH, low, high, HOP, SEARCH, 1.0, loudest)
    assert cut == low + int(np.argmax(weighed))
