"""The audio room's tests resample short clips: one torch thread is plenty.

On a machine shared by many processes, two OpenMP threads spinning on a tiny julius convolution
can take a hundred times longer than one; the previous setting is restored after each test.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
