"""The files of a run folder: written whole or not at all, read back or refused naming the one
that is damaged (before any data are decoded), and one ``fit`` at a time in a folder."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys

import pytest
import torch

from tests.disk import fill_disk
from tests.training.fitting import TINY, make
from training import config as config_mod
from training.fit import Trainer

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


@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        # cut in a table's name: was refused as "run7/config.toml: Expected ']'...", not
        # saying what to do
        ("config.toml", lambda b: b[: b.index(b"[model.kwargs]") + 5], r"Expected ']'"),
        # cut where it still parses: was read as the defaults and refused as another model
        ("config.toml", lambda b: b[: b.index(b"[model]")], "cut short"),
        ("config.toml", lambda b: b"", "cut short"),
        ("provenance.json", lambda b: b"", r"Expecting value"),
        ("provenance.json", lambda b: b"[]", r"not an object"),
        ("last.pt", lambda b: b[:1000], ""),
    ],
)
def test_a_damaged_run_file_is_refused_naming_it_before_any_data(
    tmp_path, run_at_step_2, name, damage, reason
):
    """A cut config.toml that still parsed read as the defaults: refused as "another model";
    an empty provenance.json said "Expecting value: line 1 column 1 (char 0)" and nothing else,
    after the decode; a damaged last.pt was found after the decode too."""
    path = run_at_step_2 / name
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError) as caught:
        Trainer(absent_data(tmp_path), run_at_step_2)
    said = str(caught.value)
    assert said.startswith(f"{path}: ")
    assert reason in said or reason == ""
    assert "another model" not in said and "absent" not in said
    assert any(words in said for words in ("put it back", "another --run folder"))


def test_a_saved_state_of_another_network_is_refused_before_any_data(tmp_path, run_at_step_2):
    (run_at_step_2 / "config.toml").unlink()  # nothing else to tell it by
    values = json.loads(json.dumps(TINY))
    values["model"]["kwargs"]["channels"] = 8
    values["data"]["roots"] = [str(tmp_path / "absent")]
    with pytest.raises(ValueError, match=r"last\.pt: this run's saved weights do not fit .*\[8,"):
        Trainer(config_mod.from_dict(values), run_at_step_2)


def test_resuming_with_another_diffq_group_size_names_it(tmp_path):
    """Was "last.pt: ... does not fit the recipe's network (Error(s) in loading state_dict for
    Demucs:)", the line that said what did not fit cut off."""
    wider = {**TINY["model"]["kwargs"], "channels": 16}  # weights big enough to quantize
    quant = {"optim": {"ema": 0.0}, "model": {"kwargs": wider}, "quant": {"diffq": 1e-2}}
    make(tmp_path, overrides=quant).run(steps=1)
    other = {**quant, "quant": {"diffq": 1e-2, "group_size": 4}}
    with pytest.raises(ValueError, match=r"another quant\.group_size \(8 there, 4 now\)"):
        make(tmp_path, overrides=other)
    (tmp_path / "run" / "config.toml").unlink()  # the state alone says what does not fit
    with pytest.raises(ValueError, match=r"last\.pt: .* \(Error\(s\) in loading .* size mismatch"):
        make(tmp_path, overrides=other).run(steps=2)


def finished_process() -> int:
    """The id of a process that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_a_folder_another_fit_trains_in_is_refused_naming_it(tmp_path, run_at_step_2):
    """Two fits in one folder both went ahead, writing the same .last.pt.part."""
    trainer = make(tmp_path)  # made while the other was starting: refused when it starts
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = run_at_step_2 / "fit.lock"
        lock.write_text(f"{other.pid} {socket.gethostname()}\n")
        with pytest.raises(ValueError) as caught:  # before the decode
            Trainer(absent_data(tmp_path), run_at_step_2)
        assert str(caught.value) == (
            f"{run_at_step_2}: another fit trains in this folder (process {other.pid} on this "
            f"machine, {lock}): let it finish or stop it, or train into another --run folder"
        )
        with pytest.raises(ValueError, match=f"process {other.pid} on this machine"):
            trainer.run(steps=3)
        assert trainer.step == 0 and lock.read_text() == f"{other.pid} {socket.gethostname()}\n"
    finally:
        other.kill()
        other.wait()


def test_the_lock_of_a_fit_that_is_gone_is_taken_over_and_released(tmp_path, run_at_step_2):
    lock = run_at_step_2 / "fit.lock"
    lock.write_text(f"{finished_process()} {socket.gethostname()}\n")
    os.utime(lock, (0, 0))
    left = run_at_step_2 / f".last.pt.{finished_process()}-0a1b2c3d.stemgui-part"
    left.write_bytes(b"half a state")  # what a fit killed mid-write left
    held = []

    def look(step, loss):
        held.append(lock.read_text())

    make(tmp_path).run(steps=3, on_step=look)
    assert held == [f"{os.getpid()} {socket.gethostname()}\n"]
    assert not lock.exists() and not left.exists()


def test_a_lock_of_another_machine_is_not_taken_over(tmp_path, run_at_step_2):
    (run_at_step_2 / "fit.lock").write_text("123 another-host\n")
    with pytest.raises(ValueError, match="process 123 on another-host; if that run has stopped"):
        Trainer(absent_data(tmp_path), run_at_step_2)


def test_a_run_folder_holding_the_recipe_itself_is_refused(tmp_path, caplog):
    """``fit proj/config.toml --run proj`` rewrote the user's recipe: comments gone, folders
    made absolute."""
    from training.__main__ import main

    folder = tmp_path / "proj"
    folder.mkdir()
    recipe = folder / "config.toml"
    text = '# my recipe\n[data]\nroots = ["data"]\n'
    recipe.write_text(text)
    assert main(["fit", str(recipe), "--run", str(folder), "--steps", "1"]) == 1
    assert f"its config.toml is the recipe {recipe} itself" in caplog.text
    assert recipe.read_text() == text


@pytest.mark.parametrize("inside", ["sub", "a/b"])
def test_a_folder_inside_another_run_s_folder_is_refused_before_any_data(
    tmp_path, run_at_step_2, inside
):
    """``fit --run runs/a/sub`` with runs/a a run started training without a word, its files
    among the other run's."""
    nested = run_at_step_2 / inside
    with pytest.raises(ValueError) as caught:
        Trainer(absent_data(tmp_path), nested)
    assert str(caught.value) == (
        f"{nested} is inside the folder of another run, {run_at_step_2} (its last.pt, "
        "best.stemgui, history.json): train into a --run folder outside it"
    )
    assert not (run_at_step_2 / inside.split("/")[0]).exists()


def test_a_folder_holding_other_runs_folders_is_refused_before_any_data(tmp_path, run_at_step_2):
    """``fit --run runs`` (the folder of the runs) trained there, among the runs' folders, and
    every run made in it later would be inside that one's."""
    (tmp_path / "cache").mkdir()  # not a run: no last.pt
    with pytest.raises(ValueError) as caught:
        Trainer(absent_data(tmp_path), tmp_path)
    assert str(caught.value) == (
        f"{tmp_path} holds the folders of other runs (run): train into a --run folder of this "
        "run's own, such as a new one in it"
    )
    assert not (tmp_path / "last.pt").exists()
