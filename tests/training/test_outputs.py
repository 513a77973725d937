"""What the ``python -m training`` commands write: never over an existing file unless asked, never
into a folder they cannot write (said before the work), and official Demucs ``.th`` files read."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import torch

from stemgui.separation.checkpoint import load_model, read_checkpoint, save_model
from stemgui.separation.official import import_official
from stemgui.separation.rewrite import save_bag_of_files
from stemgui.separation.store import ModelStore
from tests.disk import unwritable_folder
from tests.separation.model_files_helpers import tiny_htdemucs
from tests.training.fitting import make, two_members
from training.__main__ import main
from training.export import export_model


def one_error(caplog) -> str:
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert not errors[0].exc_info  # one line, no traceback
    return errors[0].getMessage()


# ----------------------------------------------------------------------------- existing outputs


def _argv(command: str, model: Path, target: Path) -> list[str]:
    members = two_members(model) if command == "bag" else []
    return {
        "quantize": ["quantize", str(model), str(target)],
        "segment": ["segment", str(model), str(target), "--seconds", "2"],
        "bag": ["bag", str(target), *members],
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


@pytest.mark.parametrize("command", ["quantize", "segment", "bag", "member", "eval"])
def test_an_output_name_too_long_is_refused_naming_it_and_the_limit(
    tmp_path, a_model, caplog, command
):
    """Was "[Errno 36] File name too long", after the data were read."""
    target = tmp_path / "out" / ("a" * 250 + ".stemgui")
    target.parent.mkdir()
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(_argv(command, a_model, target)) == 1
    assert one_error(caplog) == (
        f"{target}: the name {target.name!r} is 258 bytes long; a file or folder name has at "
        "most 240 (UTF-8), so that every disk takes it; name it shorter"
    )
    assert list(target.parent.iterdir()) == []


# ----------------------------------------------------------------------------- unwritable folders


@pytest.mark.parametrize("command", ["quantize", "segment", "bag", "eval"])
def test_an_output_in_a_folder_it_cannot_write_is_refused_before_any_work(
    tmp_path, a_model, caplog, command
):
    """eval --json ran the whole evaluation, then failed naming its hidden temporary file."""
    folder = unwritable_folder(tmp_path)
    target = folder / ("s.json" if command == "eval" else "s.stemgui")
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


# ----------------------------------------------------------------------------- over an input


@pytest.mark.parametrize("b_is", ["absent", "a folder"])
def test_a_member_after_data_is_never_taken_for_the_bag_to_write(
    tmp_path,
    monkeypatch,
    capsys,
    official_file,
    musdb_like,
    b_is,
):
    """``bag --data ROOT b official.th m.stemgui --overwrite``, the bag ``b`` named without its
    suffix, took b for data, the member official.th for the bag to write and m.stemgui for its
    only member: with a folder b, the bag was written over official.th."""
    monkeypatch.chdir(tmp_path)
    member = tmp_path / "m.stemgui"  # of the official file's sources: the bag is made
    save_model(tiny_htdemucs(sources=["drums", "bass", "other", "vocals"]), member)
    if b_is == "a folder":
        (tmp_path / "b").mkdir()
    files = {path: path.read_bytes() for path in (official_file, member)}
    argv = ["bag", "--data", str(musdb_like[0]), "b", "official.th", "m.stemgui", "--overwrite"]
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--cache", str(tmp_path / "cache")])
    assert stop.value.code == 2
    said = "argument output: official.th: the model file to write is told by its suffix, "
    said += ".stemgui; name it official.stemgui"
    if b_is == "absent":
        said += " (after --data, b was taken for a data folder, and there is none)"
    assert f"error: {said}\n" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in files} == files
    left = {"b", "m.stemgui", "official.th"} - ({"b"} if b_is == "absent" else set())
    assert {p.name for p in tmp_path.iterdir()} == left


def _input_by_another_name(how: str, model: Path) -> str:
    """The model file ``model`` (in the current folder) named as OUTPUT by ``how``."""
    if how == "link":
        Path("link.stemgui").symlink_to(model.name)
    elif how == "hard link":  # and M.stemgui on a disk that ignores case: the same file
        os.link(model.name, "hard.stemgui")
    return {"same": model.name, "./": f"./{model.name}", "link": "link.stemgui"}.get(
        how, "hard.stemgui"
    )


@pytest.mark.parametrize("how", ["same", "./", "link", "hard link"])
@pytest.mark.parametrize("after_data", [False, True], ids=["before --data", "after --data"])
@pytest.mark.parametrize("command", ["quantize", "segment", "bag"])
def test_an_input_is_never_written_over_whatever_its_name_or_place(
    tmp_path, monkeypatch, a_model, caplog, how, after_data, command
):
    """Even with --overwrite: a hard link was written over (as ``M.stemgui`` would be on a disk
    that ignores case, where it is ``m.stemgui`` itself, lost)."""
    monkeypatch.chdir(tmp_path)
    output = _input_by_another_name(how, a_model)
    names = {
        "quantize": ["m.stemgui", output],
        "segment": ["m.stemgui", output, "--seconds", "2"],
        "bag": [output, "m.stemgui", "n.stemgui"],  # n: not read, OUTPUT refused first
    }[command]
    argv = ["--data", "absent", *names] if after_data else [*names, "--data", "absent"]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main([command, *argv, "--overwrite"]) == 1
    shown = Path(output)  # ./m.stemgui is m.stemgui
    named = "" if str(shown) == "m.stemgui" else " (m.stemgui)"
    assert (
        one_error(caplog) == f"{shown}: is also an input of this command{named}; name another file"
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ----------------------------------------------------------------------------- official .th files


@pytest.fixture
def official_file(tmp_path):
    """A tiny official Demucs v2 file, written by the reference package itself."""
    demucs = pytest.importorskip("demucs.demucs")
    from demucs.states import serialize_model
    from omegaconf import OmegaConf

    torch.manual_seed(3)
    reference = demucs.Demucs(
        sources=["drums", "bass", "other", "vocals"],
        channels=4,
        depth=2,
        lstm_layers=0,
        rewrite=False,
        resample=False,
        dconv_mode=0,  # as the tiny recipe of tests.training.fitting
        normalize=True,
    )
    path = tmp_path / "official.th"
    torch.save(serialize_model(reference, OmegaConf.create({})), path)
    return path


def test_an_official_file_is_quantized_with_its_origin_recorded(tmp_path, official_file):
    pytest.importorskip("diffq")
    out = tmp_path / "q8.stemgui"
    assert main(["quantize", str(official_file), str(out)]) == 0
    provenance = read_checkpoint(out)["provenance"]
    assert provenance["imported_from"]["file"] == "official.th"
    assert provenance["quantization"]["from"] == "official.th"
    imported, quantized = import_official(official_file), load_model(out)
    assert type(quantized) is type(imported) and quantized.sources == imported.sources


def test_an_official_file_exports_as_a_stemgui_model_with_the_same_outputs(tmp_path, official_file):
    models = tmp_path / "models"
    assert main(["export", str(official_file), "--name", "v2", "--models-dir", str(models)]) == 0
    entry = json.loads((models / "manifest.json").read_text())["models"][0]
    assert entry["file"].startswith("v2-") and entry["file"].endswith(".stemgui")
    assert entry["imported_from"]["file"] == "official.th"
    shipped = ModelStore(bundled_dir=models, user_dir=tmp_path / "user").load("v2")
    mix = torch.randn(1, 2, 8000)
    with torch.no_grad():
        assert torch.equal(shipped(mix), import_official(official_file)(mix))


def test_an_official_file_named_in_capitals_is_imported_as_the_app_opens_it(
    tmp_path, official_file, caplog
):
    """OFFICIAL.TH (a FAT drive, an 8.3 copy), which the app opens, was refused by export and
    segment as "not a readable stemgui model file ... an official Demucs .th file?"."""
    capitals = tmp_path / "OFFICIAL.TH"
    shutil.copy(official_file, capitals)
    models = tmp_path / "models"
    assert main(["export", str(capitals), "--name", "v2", "--models-dir", str(models)]) == 0
    entry = json.loads((models / "manifest.json").read_text())["models"][0]
    assert entry["imported_from"]["file"] == "OFFICIAL.TH"
    segment = tmp_path / "s.stemgui"
    assert main(["segment", str(capitals), str(segment), "--seconds", "2"]) == 0
    assert read_checkpoint(segment)["provenance"]["imported_from"]["file"] == "OFFICIAL.TH"
    assert "ERROR" not in caplog.text


def test_an_official_file_joins_a_bag_and_changes_its_chunks(tmp_path, official_file):
    bag = tmp_path / "bag.stemgui"
    other = tmp_path / "other" / official_file.name  # another run's file of the same name
    other.parent.mkdir()
    shutil.copy(official_file, other)
    assert main(["bag", str(bag), str(official_file), str(other)]) == 0
    members = read_checkpoint(bag)["provenance"]["members"]
    assert [m["imported_from"]["file"] for m in members] == ["official.th"] * 2
    assert len(load_model(bag).models) == 2
    segment = tmp_path / "s.stemgui"
    assert main(["segment", str(official_file), str(segment), "--seconds", "2"]) == 0
    written = read_checkpoint(segment)
    assert written["models"][0]["segment"] == 2.0
    assert written["provenance"]["imported_from"]["file"] == "official.th"


def test_fit_starts_from_an_official_file(tmp_path, official_file):
    """It was "not a readable stemgui model file ... import it instead": no command does."""
    trainer = make(tmp_path, init=official_file)  # the recipe's network: the same Demucs
    expected = import_official(official_file).state_dict()
    for name, tensor in trainer.model.state_dict().items():
        torch.testing.assert_close(tensor, expected[name], rtol=0, atol=0)


def test_eval_scores_an_official_file_as_its_stemgui_copy(
    tmp_path,
    official_file,
    musdb_like,
):
    copy = tmp_path / "copy.stemgui"
    save_model(import_official(official_file), copy)
    scores = []
    for model in (official_file, copy):
        out = tmp_path / f"{model.name}.json"
        argv = ["eval", str(model), "--data", str(musdb_like[0]), "--json", str(out)]
        assert main([*argv, "--cache", str(tmp_path / "cache")]) == 0
        scores.append(json.loads(out.read_text())["global"][model.name])
    assert scores[0] == scores[1]
