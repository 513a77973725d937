"""What the ``python -m training`` commands write: never over an existing file unless asked, never
into a folder they cannot write (said before the work)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import torch

from stemgui.separation.checkpoint import read_checkpoint, save_bag_of_files, save_model
from tests.separation.model_files_helpers import tiny_htdemucs
from training.__main__ import main
from training.export import export_model


@pytest.fixture
def a_model(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "m.stemgui"
    save_model(tiny_htdemucs(), path)
    return path


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder a new file cannot be made in: made read-only, or for root (who writes there
    anyway) /sys, where the kernel refuses new files; the test is skipped where neither holds."""
    if getattr(os, "geteuid", lambda: 0)() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    try:
        (Path("/sys") / ".stemgui-probe").open("xb").close()
    except OSError:
        return Path("/sys")
    Path("/sys/.stemgui-probe").unlink()
    pytest.skip("no folder here refuses a new file")


def one_error(caplog) -> str:
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert not errors[0].exc_info  # one line, no traceback
    return errors[0].getMessage()


# ----------------------------------------------------------------------------- existing outputs


def _argv(command: str, model: Path, target: Path) -> list[str]:
    return {
        "quantize": ["quantize", str(model), str(target)],
        "segment": ["segment", str(model), str(target), "--seconds", "2"],
        "bag": ["bag", str(target), str(model)],
        "member": ["member", str(model), "0", str(target)],
        "eval": ["eval", str(model), "--data", str(target.parent), "--json", str(target)],
    }[command]


@pytest.mark.parametrize("command", ["quantize", "segment", "bag", "member", "eval"])
def test_an_existing_output_is_refused_unless_overwrite_is_given(
    tmp_path, a_model, caplog, command
):
    """``quantize model.stemgui runB/best.stemgui`` replaced another run's best model."""
    if command == "member":  # takes a bag
        bag = tmp_path / "bag.stemgui"
        save_bag_of_files([a_model], bag)
        a_model = bag
    target = tmp_path / "runB" / "best.stemgui"
    target.parent.mkdir()
    target.write_bytes(b"another run's best model")
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(_argv(command, a_model, target)) == 1
    said = one_error(caplog)
    assert said == f"{target}: exists; name another file, or add --overwrite to replace it"
    assert target.read_bytes() == b"another run's best model"
    assert sorted(p.name for p in target.parent.iterdir()) == ["best.stemgui"]


@pytest.mark.parametrize("command", ["quantize", "segment", "bag", "member"])
def test_overwrite_replaces_an_existing_output(tmp_path, a_model, command):
    if command == "member":
        bag = tmp_path / "bag.stemgui"
        save_bag_of_files([a_model], bag)
        a_model = bag
    target = tmp_path / "out.stemgui"
    target.write_bytes(b"old")
    assert main([*_argv(command, a_model, target), "--overwrite"]) == 0
    assert read_checkpoint(target)["kind"] == ("bag" if command == "bag" else "model")


# ----------------------------------------------------------------------------- unwritable folders


@pytest.mark.parametrize("command", ["quantize", "segment", "bag", "eval"])
def test_an_output_in_a_folder_it_cannot_write_is_refused_before_any_work(
    tmp_path, a_model, caplog, command
):
    """eval --json ran the whole evaluation, then failed naming its hidden temporary file."""
    folder = unwritable_folder(tmp_path)
    target = folder / "s.json"
    with caplog.at_level(logging.WARNING):
        assert main(_argv(command, a_model, target)) == 1
    said = one_error(caplog)
    assert said.startswith(f"{target}: its folder {folder}: cannot be written: ")
    assert said.endswith("; name another folder")
    assert ".stemgui-part" not in caplog.text
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_export_into_a_folder_it_cannot_write_is_refused_naming_it(tmp_path, a_model, caplog):
    folder = unwritable_folder(tmp_path)
    with caplog.at_level(logging.WARNING):
        argv = ["export", str(a_model), "--name", "x", "--models-dir", str(folder / "models")]
        assert main(argv) == 1
    said = one_error(caplog)
    assert said.startswith(f"--models-dir {folder / 'models'}: cannot be written (nor its parent")
    assert not (folder / "models").exists()


def test_export_into_a_file_is_refused_naming_it(tmp_path, a_model, caplog):
    """Was "[Errno 17] File exists", naming nothing."""
    blocker = tmp_path / "models"
    blocker.write_text("")
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["export", str(a_model), "--name", "x", "--models-dir", str(blocker)]) == 1
    assert one_error(caplog) == f"--models-dir {blocker}: is a file, not a folder; name a folder"


# ----------------------------------------------------------------------------- export --replace


def test_export_of_a_name_already_shipped_is_refused_unless_replace(tmp_path, a_model, caplog):
    models = tmp_path / "models"
    first = export_model(a_model, "small", models)
    other = tmp_path / "other.stemgui"
    save_model(tiny_htdemucs(), other, provenance={"steps": 1})  # another file
    manifest = (models / "manifest.json").read_bytes()
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["export", str(other), "--name", "small", "--models-dir", str(models)]) == 1
    assert one_error(caplog) == (
        f"{models / 'manifest.json'}: already ships a model named 'small' ({first['file']}); "
        "choose another --name, or add --replace to replace it (its file is deleted)"
    )
    assert (models / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in models.iterdir()) == sorted([first["file"], "manifest.json"])

    argv = ["export", str(other), "--name", "small", "--models-dir", str(models), "--replace"]
    assert main(argv) == 0
    entries = json.loads((models / "manifest.json").read_text())["models"]
    assert [e["name"] for e in entries] == ["small"] and entries[0]["file"] != first["file"]
    assert not (models / first["file"]).exists()
