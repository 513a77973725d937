"""The audio room's tests resample short clips: one torch thread is plenty.

On a machine shared by many processes, two OpenMP threads spinning on a tiny julius convolution
can take a hundred times longer than one; the previous setting is restored after each test.
"""

from __future__ import annotations

import pytest

from tests.torch_threads import torch_threads


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with torch_threads(1):
        yield
