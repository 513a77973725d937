"""Fixtures the training tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def a_model(tmp_path):
    """A tiny HTDemucs saved as a stemgui model file (seeded: the same weights every time)."""
    import torch

    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import tiny_htdemucs

    torch.manual_seed(0)
    path = tmp_path / "m.stemgui"
    save_model(tiny_htdemucs(), path)
    return path
