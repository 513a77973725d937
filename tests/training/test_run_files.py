"""The files of a run folder: written whole or not at all, read back or refused naming the one
that is damaged (before any data are decoded), and one ``fit`` at a time in a folder."""

from __future__ import annotations

import json
import math
import os
import shutil

import pytest
import torch

from tests.disk import fill_disk
from tests.training.test_fit import TINY, make
from training import config as config_mod

RUN_FILES = ["config.toml", "provenance.json", "history.json", "history.csv", "curves.png"]


@pytest.fixture(scope="module")
def at_step_2(tmp_path_factory):
    """A run folder of TINY's recipe with last.pt, best.stemgui and the rest at step 2."""
    folder = tmp_path_factory.mktemp("made")
    make(folder).run(steps=2)
    return folder / "run"


@pytest.fixture
def run_at_step_2(tmp_path, at_step_2):
    """A copy of ``at_step_2`` of this test's own, as ``tmp_path / "run"``."""
    shutil.copytree(at_step_2, tmp_path / "run")
    return tmp_path / "run"


def absent_data(tmp_path):
    """TINY's recipe with data roots that are not there: a Trainer that reads its folder's
    files first refuses them before it looks for the data."""
    values = json.loads(json.dumps(TINY))
    values["data"]["roots"] = [str(tmp_path / "absent")]
    return config_mod.from_dict(values)


@pytest.mark.parametrize(
    ("name", "resumes_at"),  # the run files come before step 3, the history after last.pt at 4
    [(name, 4 if name.startswith(("history", "curves")) else 2) for name in RUN_FILES]
    + [("last.pt", 2), ("best.stemgui", 2)],  # at step 4, best.stemgui before last.pt
)
def test_a_full_disk_keeps_each_run_file_as_it_was_and_says_which_and_where_to_resume(
    tmp_path, run_at_step_2, monkeypatch, name, resumes_at
):
    """Written in place, config.toml was left cut to what fitted ("ERROR training: [Errno 27]
    File too large", naming nothing) and then refused the run as another model's; last.pt
    stopped with torch's traceback "unexpected pos 64 vs 0" and a .last.pt.part left."""
    path = run_at_step_2 / name
    before = path.read_bytes()
    fill_disk(monkeypatch, name)
    trainer = make(tmp_path)

    def always_better(step, loss):  # best.stemgui is written at every evaluation
        trainer.best_sdr = -math.inf

    with pytest.raises(OSError) as caught:
        trainer.run(steps=4, on_step=always_better)
    assert str(caught.value) == (
        f"{path}: could not be written (No space left on device); free space on its disk, "
        f"the same command resumes the run from step {resumes_at} (its last.pt)"
    )
    assert path.read_bytes() == before
    assert [p.name for p in run_at_step_2.iterdir() if p.name.startswith(".")] == []
    assert not (run_at_step_2 / "fit.lock").exists()
    monkeypatch.undo()  # space freed: the same command resumes and ends
    again = make(tmp_path)
    again.run(steps=4)
    assert again.step == 4


def test_a_model_file_that_cannot_be_written_is_named_and_the_one_before_kept(
    tmp_path, monkeypatch
):
    """checkpoint's writer said "[Errno 28] No space left on device", naming no file."""
    from stemgui.separation.checkpoint import save_model

    trainer = make(tmp_path)
    path = tmp_path / "model.stemgui"
    save_model(trainer.model, path)
    before = path.read_bytes()
    fill_disk(monkeypatch, "model.stemgui")
    with pytest.raises(OSError) as caught:
        save_model(trainer.model, path, provenance={"steps": 1})
    assert str(caught.value) == (
        f"{path}: could not be written (No space left on device); free space on its disk "
        "and try again"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.stemgui"]


def test_the_first_files_of_a_new_run_that_cannot_be_written_say_it_starts_again(
    tmp_path, monkeypatch
):
    fill_disk(monkeypatch, "config.toml")
    with pytest.raises(
        OSError, match=r"config\.toml: could not be written .* starts the run again"
    ):
        make(tmp_path).run(steps=1)
    assert not (tmp_path / "run" / "config.toml").exists()


def test_each_process_writes_its_own_temporary_state(tmp_path, monkeypatch):
    """The state was written to .last.pt.part, one name for every process in the folder."""
    names = []
    real_save = torch.save

    def save(value, stream, *args, **kwargs):
        names.append(os.path.basename(stream.name))
        return real_save(value, stream, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    make(tmp_path).run(steps=1)
    states = [n for n in names if "last.pt" in n]
    assert states and all(n.startswith(f".last.pt.{os.getpid()}-") for n in states)
