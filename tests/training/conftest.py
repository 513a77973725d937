"""Fixtures the training tests share: a tiny model file, a MUSDB-like data folder and a model
trained on it, synthetic songs."""

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


@pytest.fixture(scope="module")
def musdb_like(tmp_path_factory):
    """Stem folders: two with MUSDB validation names and one training track."""
    import soundfile as sf

    from tests.training.fitting import VALID, generated_tracks

    root = tmp_path_factory.mktemp("data")
    tracks = generated_tracks(3, seconds=2.5, seed=3)
    for name, track in zip([*VALID, "Song A"], tracks):
        folder = root / name
        folder.mkdir()
        for stem, signal in zip(["mixture", "drums", "bass", "other", "vocals"], track):
            sf.write(folder / f"{stem}.wav", signal.T, 44100, subtype="FLOAT")
    return root, tracks[:2]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """The best.stemgui of a tiny Demucs trained for two steps (the ``make`` recipe)."""
    from tests.training.fitting import make

    folder = tmp_path_factory.mktemp("model")
    make(folder, overrides={"schedule": {"steps": 2, "eval_every": 2}}).run()
    return folder / "run" / "best.stemgui"


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
