"""Fixtures the export tests share: four stems whose samples float32 holds exactly."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.stemset import StemSet
from tests.export.export_rig import NAMES, RATE


@pytest.fixture
def stems() -> StemSet:
    """Four distinct stereo stems, 0.05 s, every value exactly representable in float32."""
    rng = np.random.default_rng(0)
    data = (rng.integers(-(2**12), 2**12, size=(4, 2, 2205)) / 2**14).astype(np.float32)
    return StemSet(NAMES, RATE, data, mix=data.sum(axis=0))
