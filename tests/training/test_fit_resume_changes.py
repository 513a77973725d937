"""A run resumed with another recipe, other data or an --init says so, and keeps what it must."""

from __future__ import annotations

import json

import pytest

from tests.training.fitting import TINY, generated_tracks, make
from training import config as config_mod
from training.fit import Trainer


def test_init_is_not_used_nor_recorded_when_a_run_resumes(tmp_path, caplog):
    make(tmp_path, "first").run(steps=2)
    make(tmp_path).run(steps=5)
    again = make(tmp_path, init=tmp_path / "first" / "best.stemgui")
    with caplog.at_level("WARNING", logger="training.resume"):
        again.run(steps=6)
    assert "--init best.stemgui is not used" in caplog.text
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert provenance["init"] is None  # the run started from scratch, whatever this --init


def test_a_finished_run_asked_again_with_init_says_where_its_weights_started(tmp_path, caplog):
    """Said "(its weights started from best.stemgui)", as a mere note, of a run trained from
    scratch: the --init given was taken for the run's own start when there was no step to do."""
    make(tmp_path, "first").run(steps=2)
    make(tmp_path).run(steps=3)
    again = make(tmp_path, init=tmp_path / "first" / "best.stemgui")
    with caplog.at_level("INFO", logger="training.resume"):
        again.run(steps=3)  # nothing to do
    (said,) = [r for r in caplog.records if "is not used" in r.getMessage()]
    assert said.levelname == "WARNING"
    assert "(its weights started from scratch)" in said.getMessage()


def test_a_resumed_run_takes_the_recipes_learning_rate_and_keeps_the_recipe_before(
    tmp_path, caplog
):
    make(tmp_path, "run").run(steps=2)
    resumed = make(tmp_path, "run", overrides={"optim": {"lr": 1e-4}})
    with caplog.at_level("WARNING", logger="training.provenance"):
        resumed.run(steps=3)
    assert resumed.step == 3
    assert [group["lr"] for group in resumed.optimizer.param_groups] == [1e-4]
    assert resumed.optimizer.state  # Adam's moments came back with the weights
    folder = tmp_path / "run"
    assert config_mod.load(folder / "config-until-step-2.toml")["optim"]["lr"] == 3e-3
    assert config_mod.load(folder / "config.toml")["optim"]["lr"] == 1e-4
    assert "resumes at step 2 with another recipe (optim.lr: 0.003 -> 0.0001)" in caplog.text
    # a session at step 3 that stopped before its first step, then one with yet another rate
    killed = make(tmp_path, "run", overrides={"optim": {"lr": 5e-4}})
    killed.train_step = lambda: (_ for _ in ()).throw(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        killed.run(steps=4)
    make(tmp_path, "run", overrides={"optim": {"lr": 2e-4}}).run(steps=4)
    # the steps up to 3 ran 1e-4, not the 5e-4 of the session that ran none (was overwritten)
    assert config_mod.load(folder / "config-until-step-3.toml")["optim"]["lr"] == 1e-4


def test_recipe_differences_name_each_changed_setting():
    before = config_mod.from_dict(TINY)
    after = config_mod.from_dict({**TINY, "augment": {"remix_group": 2, "repitch": 2}})
    after["model"]["kwargs"]["depth"] = 3
    assert config_mod.differences(before, before) == []
    assert config_mod.differences(before, after) == [
        "model.kwargs.depth: 2 -> 3",
        "augment.repitch: 0 -> 2",
    ]
    del after["model"]["kwargs"]["depth"]
    after["model"]["kwargs"]["new"] = 1
    assert config_mod.differences(before, after)[:2] == [
        "model.kwargs.depth: 2 -> unset",
        "augment.repitch: 0 -> 2",
    ]
    assert config_mod.differences(before, after)[2] == "model.kwargs.new: unset -> 1"


def test_a_fine_tuning_killed_before_its_first_step_resumes(tmp_path, caplog):
    make(tmp_path, "first").run(steps=2)
    start = tmp_path / "first" / "best.stemgui"
    killed = make(tmp_path, init=start)

    def kill():
        raise RuntimeError("killed")

    killed.train_step = kill
    with pytest.raises(RuntimeError, match="killed"):
        killed.run(steps=3)
    assert (tmp_path / "run" / "best.stemgui").exists()  # scored at step 0
    again = make(tmp_path, init=start)
    with caplog.at_level("INFO", logger="training.resume"):
        # time-boxed, as on the GPU machine: the clock's start was once shadowed by a name
        assert again.run(steps=1, max_seconds=3600) and again.step == 1  # resumed, not refused
    (said,) = [r for r in caplog.records if "is not used" in r.getMessage()]
    assert said.levelname == "INFO"  # the same command again: its weights did start there
    assert "(its weights started from best.stemgui)" in said.getMessage()
    assert [e["step"] for e in again.history if "valid_all" in e] == [0, 1]


def test_a_run_resumed_on_other_training_data_says_so(tmp_path, caplog):
    """A track added to the data folder between sessions changed every batch without a word
    (resumed runs promise an uninterrupted run's weights)."""
    make(tmp_path).run(steps=2)
    more = make(tmp_path)
    more_tracks = generated_tracks(5)
    resumed = Trainer(
        more.config, tmp_path / "run", train_tracks=more_tracks, valid_tracks=more.valid_tracks
    )
    with caplog.at_level("WARNING", logger="training.resume"):
        resumed.run(steps=3)
    assert "the training data changed since step 2 (4 tracks" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="training.resume"):
        make(tmp_path, name="same").run(steps=1)
        make(tmp_path, name="same").run(steps=2)
    assert "training data changed" not in caplog.text
