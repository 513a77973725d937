"""The recipes in training/configs load, and continue the shipped model as the app runs it."""

from __future__ import annotations

import pytest

from stemgui.separation.bag import BagOfModels
from stemgui.separation.store import ModelStore
from tests.paths import ROOT
from training import config as config_mod
from training.network import build_model

RECIPES = sorted((ROOT / "training" / "configs").glob("*.toml"))


def test_there_are_recipes():
    assert {p.name for p in RECIPES} >= {"htdemucs_cpu.toml", "htdemucs_gpu.toml"}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_a_recipe_takes_the_shipped_weights_at_the_shipped_chunk_length(recipe):
    config = config_mod.load(recipe)
    store = ModelStore()
    shipped = store.load(store.default_name())
    # of a bag, --init takes the member closest to the run's loss weights: any of them
    members = shipped.models if isinstance(shipped, BagOfModels) else [shipped]
    for member in members:
        model = build_model(config)
        model.load_state_dict(member.state_dict(), strict=True)  # --init works
        assert model.segment == member.segment == config["data"]["segment"]
