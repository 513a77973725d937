"""Recipes: every setting is checked when the recipe is read, and errors name the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.pipes import without_waiting
from training import config as config_mod
from training.fit import Trainer


def test_every_setting_has_a_rule_its_default_passes():
    keys = {f"{section}.{key}" for section, values in config_mod.DEFAULTS.items() for key in values}
    assert keys == set(config_mod.RULES)
    assert config_mod.from_dict({}) == config_mod.DEFAULTS


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("data", "roots", "songs"),  # one folder, not a list
        ("data", "validation", "all"),
        ("data", "samplerate", 44100.5),
        ("data", "samplerate", 10**9),  # killed for memory, without a word
        ("data", "segment", 0),
        ("data", "segment", 176400),  # 4 s in frames: 64 GB asked, blamed on [model.kwargs]
        ("data", "shift", -0.5),
        ("data", "max_tracks", -1),
        ("model", "architecture", "Nope"),
        ("model", "kwargs", 4),
        ("optim", "lr", "fast"),
        ("optim", "lr", 0),
        ("optim", "lr", float("inf")),  # TOML writes inf: the run trained on NaN
        ("optim", "source_weights", [float("nan"), 1, 1, 1]),
        ("optim", "beta2", 1.0),
        ("optim", "batch_size", 0),
        ("optim", "batch_size", True),  # true in a recipe is not one excerpt
        ("optim", "clip_grad", -1),
        ("optim", "ema", 1),
        ("optim", "source_weights", [0, 0, 0, 0]),
        ("optim", "source_weights", [1, -1, 1, 1]),
        ("optim", "source_weights", [1e308] * 4),  # a sum past the largest float: NaN loss
        ("schedule", "steps", 1.5),
        ("schedule", "eval_every", 0),
        ("schedule", "anneal", 1.5),
        ("schedule", "warmup", 2.5),
        ("augment", "sign_flip", "yes"),
        ("augment", "gain", [1.25, 0.25]),
        ("augment", "gain", [0, 1]),
        ("augment", "remix_group", -2),
        ("quant", "diffq", -1e-4),
        ("quant", "group_size", 0),
        ("eval", "overlap", 1),
        ("eval", "overlap", 0.99999),  # a frame a step: 132,301 chunks of a 7 s preview
        ("eval", "segment", 1e9),  # 160 TiB asked at the first validation, after training
        ("seed", "value", "forty-two"),
        ("seed", "value", -1),  # failed in numpy after the data were decoded
        ("seed", "value", 2**63),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting_and_the_value(section, key, value):
    expected = rf"^{section}\.{key} must be .*, got {re.escape(repr(value))}$"
    with pytest.raises(ValueError, match=expected):
        config_mod.from_dict({section: {key: value}})


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match=r"unknown setting optim\.lrr"):
        config_mod.from_dict({"optim": {"lrr": 1}})


def test_reading_a_recipe_names_its_file(tmp_path):
    recipe = tmp_path / "mine.toml"
    recipe.write_text('[optim]\nlr = "fast"\n')
    with pytest.raises(ValueError, match=rf"^{re.escape(str(recipe))}: optim\.lr must be"):
        config_mod.load(recipe)
    recipe.write_text("[optim\nlr = 1\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(recipe))}: "):
        config_mod.load(recipe)


def test_a_missing_recipe_or_a_folder_is_said_in_words_naming_it(tmp_path):
    """Said as "[Errno 2] No such file or directory: '...'" and "[Errno 21] Is a directory"."""
    example = "name a recipe, such as training/configs/htdemucs_cpu.toml"
    with pytest.raises(ValueError) as caught:
        config_mod.load(tmp_path / "absent.toml")
    assert str(caught.value) == f"{tmp_path / 'absent.toml'}: no such file; {example}"
    with pytest.raises(ValueError) as caught:
        config_mod.load(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder; {example}"


def test_a_named_pipe_or_a_device_is_no_recipe(tmp_path):
    """A named pipe given for the recipe was read for ever, waiting for a writer (fit hung);
    /dev/null was read as an empty recipe, said as one that names no data roots."""
    import os

    example = "name a recipe, such as training/configs/htdemucs_cpu.toml"
    pipe = tmp_path / "recipe.toml"
    os.mkfifo(pipe)
    for path in (pipe, Path(os.devnull)):
        with pytest.raises(ValueError) as caught:
            without_waiting(lambda path=path: config_mod.load(path), pipe)
        said = f"{path}: is not a regular file (a named pipe, a socket or a device); {example}"
        assert str(caught.value) == said


def test_a_file_that_is_not_text_is_no_recipe(tmp_path):
    """A song given for the recipe was refused as "'utf-8' codec can't decode byte 0xac in
    position 25: invalid start byte"."""
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\xac\x44")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(song))}: is not text, so no recipe; "):
        config_mod.load(song)


def test_a_recipe_saved_with_a_byte_order_mark_reads(tmp_path):
    """Saved by Windows Notepad (UTF-8 with a BOM), it was refused: "Invalid statement (at line
    1, column 1)", pointing at nothing to be seen."""
    recipe = tmp_path / "mine.toml"
    recipe.write_bytes(b"\xef\xbb\xbf[optim]\r\nlr = 1e-4\r\n")
    assert config_mod.load(recipe)["optim"]["lr"] == 1e-4


def test_network_arguments_it_does_not_take_are_refused_before_any_data(tmp_path):
    config = config_mod.from_dict(
        {"data": {"roots": [str(tmp_path / "absent")]}, "model": {"kwargs": {"chanels": 4}}}
    )
    with pytest.raises(ValueError, match=r"\[model\.kwargs\] do not make a Demucs: .*chanels"):
        Trainer(config, tmp_path / "run")  # not "no such data folder": the network came first


def test_a_network_that_builds_but_cannot_run_is_refused_before_any_data(tmp_path, recwarn):
    recipe = config_mod.load(ROOT / "training/configs/htdemucs_cpu.toml")
    recipe["data"]["roots"] = [str(tmp_path / "absent")]
    recipe["model"]["kwargs"]["channels"] = 4  # taken by HTDemucs; leaves layers of 0 channels
    with pytest.raises(ValueError, match=r"\[model\.kwargs\] make a HTDemucs that cannot run"):
        Trainer(config_mod.from_dict(recipe), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # was a conv1d traceback after the decode
    assert not recwarn.list  # torch's warnings about its empty layers hid the one line


def test_fit_names_the_recipe_whose_network_or_data_settings_cannot_train(tmp_path, caplog):
    from training.__main__ import main

    recipe = tmp_path / "mine.toml"
    recipe.write_text("[data]\nroots = []\n[model.kwargs]\nchanels = 4\n")
    assert main(["fit", str(recipe), "--run", str(tmp_path / "run")]) == 1
    assert f"{recipe}: [model.kwargs] do not make a Demucs" in caplog.text  # named no file
    recipe.write_text("[data]\nroots = []\n")
    assert main(["fit", str(recipe), "--run", str(tmp_path / "run")]) == 1
    assert f"{recipe}: the recipe names no data roots" in caplog.text
