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


# The synthetic songs of the synth tests, rendered once for all the modules that ask for them (the
# imports wait for those modules' pytest.importorskip("fluidsynth")).
@pytest.fixture(scope="session")
def soundfont():
    from training.synth import fluid

    return fluid.bundled_soundfont()


@pytest.fixture(scope="session")
def song(soundfont):
    from tests.training.synth_rig import ENGINE
    from training.synth.recipe import make_recipe
    from training.synth.song import render_song

    return render_song(make_recipe(5, 4.0, vocal_engine=ENGINE), soundfont)


@pytest.fixture(scope="session")
def other_song(soundfont):
    from tests.training.synth_rig import ENGINE
    from training.synth.recipe import make_recipe
    from training.synth.song import render_song

    return render_song(make_recipe(6, 4.0, vocal_engine=ENGINE), soundfont)
