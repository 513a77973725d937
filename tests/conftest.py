"""Shared fixtures: offscreen Qt and a small torch thread count."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    """Keep torch on the machine's two cores and out of the way of other processes."""
    try:
        import torch
    except ImportError:
        yield
        return
    torch.set_num_threads(2)
    yield
