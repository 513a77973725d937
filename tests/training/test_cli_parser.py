"""What the parser of ``python -m training`` refuses before any work, with exit 2 and the
argument named: bad option values, names too long for the disk or the system, empty paths, model
files where data folders go. Errors found once a command runs: test_cli_errors.py."""

from __future__ import annotations

import os

import pytest

from training.__main__ import main


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["fit", "r.toml", "--accumulate", "0"], "--accumulate"),  # was taken as "not given"
        (["fit", "r.toml", "--lr", "0"], "--lr"),
        (["fit", "r.toml", "--steps", "-5"], "--steps"),
        (["fit", "r.toml", "--max-minutes", "-1"], "--max-minutes"),
        (["fit", "r.toml", "--device", "cuda:7"], "--device"),
        (["eval", "m.stemgui", "--data", "d", "--device", "gpu"], "--device"),
        (["quantize", "m.stemgui", "q.stemgui", "--max-tracks", "-1"], "--max-tracks"),
        (["segment", "m.stemgui", "s.stemgui", "--seconds", "0"], "--seconds"),
        (["segment", "m.stemgui", "s.stemgui", "--seconds", "1e9"], "--seconds"),  # wrote it
        (["synth", "--out", "o", "--songs", "0"], "--songs"),
        (["synth", "--out", "o", "--seconds", "nan"], "--seconds"),
        (["synth", "--out", "o", "--seconds", "1e5"], "--seconds"),  # 131 GiB, after rendering
        (["synth", "--out", "o", "--seconds", "0.01"], "--seconds"),  # too short to train on
        (["fit", "r.toml", "--lr", "inf"], "--lr"),  # trained on NaN and said nothing
        (["fit", "r.toml", "--threads", "100000"], "--threads"),  # a segmentation fault
        (["synth", "--out", "o", "--seed", "-1"], "--seed"),  # failed in numpy, folder made
        # "[Errno 36] File name too long" for its song's folder, --out made and left empty
        (["synth", "--out", "o", "--seed", str(10**250)], "--seed"),
        (["synth", "--out", "o", "--seed", str(2**32)], "--seed"),
        # 16 workers on 2 cores, each loading the soundfont (FluidR3: 148 MB)
        (["synth", "--out", "o", "--jobs", str((os.cpu_count() or 1) + 1)], "--jobs"),
        (["quantize", "m.stemgui", "q.stemgui", "--bits", "0"], "--bits"),
        (["quantize", "m.stemgui", "q.stemgui", "--min-size", "-5"], "--min-size"),
        # a waveform Demucs asked 160 TiB at the first track, with a traceback
        (["eval", "m.stemgui", "--data", "d", "--segment", "1e9"], "--segment"),
        # a pass over every track each: 1e12 was a traceback, numpy asking 7 TiB for them
        (["eval", "m.stemgui", "--data", "d", "--shifts", "21"], "--shifts"),
        (["eval", "m.stemgui", "--data", "d", "--shifts", "1000000000000"], "--shifts"),
        (["quantize", "m.stemgui", "q.stemgui", "--segment", "1e9"], "--segment"),
    ],
    ids=lambda value: " ".join(value[:1] + value[-2:]) if isinstance(value, list) else "",
)
def test_a_bad_option_is_refused_by_the_parser_before_any_work(tmp_path, capsys, command, option):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / a) if a.endswith((".toml", ".stemgui")) else a for a in command])
    assert stop.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        (["fit", "{long}"], "config"),
        (["fit", "{tmp}/{long}/r.toml"], "config"),
        (["fit", "r.toml", "--init", "{long}"], "--init"),
        (["eval", "{long}", "--data", "d"], "models"),
        (["eval", "--data", "{tmp}/{long}"], "--data"),
        (["quantize", "{long}", "q.stemgui"], "model"),
        (["quantize", "m.stemgui", "q.stemgui", "--data", "{long}"], "--data"),
        (["segment", "{long}", "s.stemgui", "--seconds", "4"], "model"),
        (["bag", "b.stemgui", "m.stemgui", "{long}"], "models"),
        (["member", "{long}", "0", "o.stemgui"], "bag"),
        (["export", "{long}", "--name", "x"], "model"),
        (["synth", "--out", "o", "--remix-from", "{long}"], "--remix-from"),
        (["synth", "--out", "o", "--soundfont", "{long}"], "--soundfont"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else value,
)
def test_an_input_name_too_long_for_the_disk_is_refused_by_the_parser(
    tmp_path, capsys, command, argument
):
    """Each said "[Errno 36] File name too long" with the whole path, naming no option."""
    long = "é" * 130  # 260 bytes
    argv = [a.format(tmp=tmp_path, long=long) for a in command]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    given = next(a for a in argv if long in a)
    said = capsys.readouterr().err
    assert (
        f"argument {argument}: {given}: no such file or folder: the name {long!r} is 260 bytes "
        "long, more than the disk takes (255); check the path"
    ) in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        (["export", "m.stemgui", "--name", "x", "--models-dir", ""], "--models-dir"),  # wrote here
        (["eval", "m.stemgui", "--data", "d", "--cache", ""], "--cache"),  # cached here
        (["synth", "--out", "", "--remix-from", "pool"], "--out"),  # remixed here
        (["synth", "--out", "o", "--remix-from", ""], "--remix-from"),  # rendered instead
        (["synth", "--out", "o", "--soundfont", ""], "--soundfont"),  # the default font
        (["fit", "r.toml", "--run", ""], "--run/--run-dir"),  # runs/r, as if not given
        (["eval", "m.stemgui", "--data", "d", "--json", ""], "--json"),  # none written
        (["eval", "m.stemgui", "--data", ""], "--data"),  # every track under here
        (["fit", ""], "config"),
        (["fit", "r.toml", "--init", ""], "--init"),
        (["quantize", "m.stemgui", ""], "output"),
        (["quantize", "m.stemgui", "q.stemgui", "--cache", ""], "--cache"),
        (["segment", "", "s.stemgui", "--seconds", "4"], "model"),
        (["bag", "", "m.stemgui"], "output"),
        (["member", "b.stemgui", "0", ""], "output"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else value,
)
def test_an_empty_path_is_refused_by_the_parser(tmp_path, monkeypatch, capsys, command, argument):
    """An unset shell variable ("$POOL") was taken for the current folder, or for the option
    not given."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(command)
    assert stop.value.code == 2
    assert (
        f"argument {argument}: an empty path (an unset shell variable?); name a file or folder"
    ) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_input_path_too_long_for_the_system_is_refused_by_the_parser(tmp_path, capsys):
    deep = "/".join(["d" * 200] * 25)  # 5024 bytes, every name short enough
    with pytest.raises(SystemExit) as stop:
        main(["eval", "--data", deep])
    assert stop.value.code == 2
    assert (
        f"argument --data: {deep}: no such file or folder: the path is 5024 bytes long, more "
        "than the system takes (4095)"
    ) in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "option", "stray"),
    [
        (["bag", "--weights", "1,1,0,1", "b.stemgui", "m.stemgui"], "--weights", "b.stemgui"),
        (["bag", "b.stemgui", "--weights", "1,1,0,1", "m.th"], "--weights", "m.th"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_model_after_weights_is_said_to_go_before_it(
    tmp_path, monkeypatch, capsys, command, option, stray
):
    """bag's --weights takes every name after it: bag said "the following arguments are
    required: output, models". (Model files after --data are the command's own:
    test_model_arguments.)"""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(command)
    assert stop.value.code == 2
    said = capsys.readouterr().err
    assert (
        f"argument {option}: {stray}: a model file, given after {option}, which takes every "
        f"name after it; name the model files before {option}"
    ) in said
    assert "required" not in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [["eval"], ["quantize"], ["segment", "--seconds", "4"], ["bag"]]
)
@pytest.mark.parametrize("models", [["m.stemgui"], ["m.stemgui", "n.th"]])
def test_data_of_model_files_alone_is_refused_by_the_parser(
    tmp_path, monkeypatch, capsys, command, models
):
    """Model files after --data are the command's own (``eval --data ROOT MODEL``); with no
    data folder among them, nothing is left to score them on."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main([*command, "--data", *models])
    assert stop.value.code == 2
    assert (
        f"argument --data: {' '.join(models)}: model files, and no data folder; name the folders "
        "of tracks after --data"
    ) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "--data", "{file}"],
        ["eval", "--data", "{tmp}", "{file}"],
        ["quantize", "m.stemgui", "q.stemgui", "--data", "{file}"],
        ["quantize", "--data", "{file}", "m.stemgui", "q.stemgui"],  # the usage line's order
    ],
    ids=lambda value: " ".join(value[:1] + value[-2:]),
)
@pytest.mark.parametrize("name", ["best", "bass.wav"])  # a model without its suffix, one stem
def test_a_file_given_to_data_says_what_data_takes_and_where_a_model_goes(
    tmp_path, monkeypatch, capsys, command, name
):
    """It said "best: is a file, not a track (...) nor a folder of tracks; name its folder, .",
    after the models had been loaded, and nothing of where the model goes; then that a model is
    the positional argument, named before --data, where model files after it are taken too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(b"PK\x03\x04 a model saved without its suffix")
    argv = [a.format(file=name, tmp=tmp_path) for a in command]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert (
        f"argument --data: {name}: a file; --data takes data folders, each holding tracks or "
        "being one (a .stem.mp4 file or a folder of drums, bass, other and vocals files), or "
        ".stem.mp4 files; model files are told by their suffix (.th, .yaml, .yml, .stemgui, .pt, "
        f".safetensors), before --data or after its folders: if {name} is one, rename it with "
        "its suffix"
    ) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
