"""Every ``python -m training`` command answers bad input with one line naming it, and exit 1.
What its parser refuses before (exit 2): test_cli_parser.py."""

from __future__ import annotations

import logging
import os

import pytest

from tests.pipes import without_waiting
from training.__main__ import main


@pytest.fixture
def not_a_model(tmp_path):
    path = tmp_path / "notes.stemgui"
    path.write_text("not a model")
    return path


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["eval", "{bad}", "--data", "{tmp}"], "notes.stemgui"),  # before any data
        (["quantize", "{bad}", "{tmp}/q.stemgui"], "notes.stemgui"),
        (["export", "{bad}", "--name", "x", "--models-dir", "{tmp}/models"], "notes.stemgui"),
        (["segment", "{bad}", "{tmp}/s.stemgui", "--seconds", "4"], "notes.stemgui"),
        (["bag", "{tmp}/b.stemgui", "{bad}", "{tmp}/n.stemgui"], "notes.stemgui"),
        (["fit", "{tmp}/absent.toml", "--run", "{tmp}/run"], "absent.toml"),
        # a file as the run folder: said before any track was decoded (was [Errno 17] after)
        (["fit", "training/configs/htdemucs_cpu.toml", "--run", "{bad}"], "is a file"),
        # a run folder that cannot be made: said before the data (was [Errno 20] after them)
        (["fit", "training/configs/htdemucs_cpu.toml", "--run", "{bad}/run"], "under the file"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else "",
)
def test_bad_input_is_one_logged_line_and_exit_1(tmp_path, not_a_model, caplog, command, named):
    argv = [a.format(bad=not_a_model, tmp=tmp_path) for a in command]
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(argv) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert named in errors[0].getMessage()
    assert not errors[0].exc_info  # no traceback unless --verbose


@pytest.mark.parametrize(
    ("output", "said"),
    [
        ("{model}", "is also an input of this command; name another file"),  # lost the input
        ("{tmp}/no such folder/out.stemgui", "its folder does not exist"),  # was a traceback
        ("{tmp}/model-20261130.stemgui", "8 hex digits"),  # written, then refused when loaded
        ("{tmp}", "is a folder"),
        # was "its folder does not exist; create it": it cannot be, a file is in the way
        ("{model}/sub/out.stemgui", "{model} is a file, not a folder; name a file in a folder"),
    ],
    ids=["over its input", "missing folder", "hash-like name", "a folder", "under a file"],
)
@pytest.mark.parametrize("command", ["quantize", "segment", "bag"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    tmp_path, a_model, caplog, output, said, command
):
    target = output.format(model=a_model, tmp=tmp_path)
    said = said.format(model=a_model)
    argv = {
        "quantize": ["quantize", str(a_model), target],
        "segment": ["segment", str(a_model), target, "--seconds", "2"],
        "bag": ["bag", target, str(a_model), str(tmp_path / "n.stemgui")],  # n: not read
    }[command]
    before = a_model.read_bytes()
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(argv) == 1
    assert f"{target}: {said}" in caplog.text if said != "8 hex digits" else said in caplog.text
    assert a_model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.stemgui"]  # nothing written


def test_verbose_adds_the_traceback(tmp_path, not_a_model, caplog):
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["-v", "quantize", str(not_a_model), str(tmp_path / "q.stemgui")]) == 1
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info and error.exc_info[0] is not None


def test_synth_refuses_a_folder_it_cannot_make_before_rendering(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["synth", "--out", str(blocker / "songs"), "--songs", "1"]) == 1
    assert str(blocker / "songs") in caplog.text


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["synth", "--out", "{tmp}/songs/{long}"], "--out {tmp}/songs/{long}"),
        # rendered the whole song before failing
        (["synth", "--out", "{tmp}/songs", "--demo", "{long}", "--seconds", "1"], "--demo {long}"),
        (
            ["fit", "training/configs/htdemucs_cpu.toml", "--run", "{tmp}/{long}"],
            "--run {tmp}/{long}",
        ),
        (
            ["export", "{tmp}/m.stemgui", "--name", "x", "--models-dir", "{tmp}/{long}/models"],
            "--models-dir {tmp}/{long}/models",
        ),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else "",
)
def test_a_folder_or_file_name_too_long_is_refused_before_any_work(tmp_path, caplog, argv, what):
    """Each failed with "[Errno 36] File name too long", naming no option, after the work."""
    long = "é" * 130  # 260 bytes
    fill = {"tmp": str(tmp_path), "long": long}
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main([a.format(**fill) for a in argv]) == 1
    name = f"{long}.mp3" if "--demo" in argv else long
    size = len(name.encode())
    assert (
        f"{what.format(**fill)}: the name {name!r} is {size} bytes long; a file or folder name "
        "has at most 240 (UTF-8), so that every disk takes it; name it shorter"
    ) in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["fit", "training/configs/htdemucs_cpu.toml", "--run", "{deep}"], "--run {deep}"),
        (["synth", "--out", "{deep}", "--remix-from", "{tmp}"], "--out {deep}"),
        (
            ["export", "{tmp}/m.stemgui", "--name", "x", "--models-dir", "{deep}"],
            "--models-dir {deep}",
        ),
        (["quantize", "{tmp}/m.stemgui", "{deep}/q.stemgui"], "{deep}/q.stemgui"),
        (["eval", "--data", "{tmp}", "--json", "{deep}/s.json"], "{deep}/s.json"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else "",
)
def test_a_path_too_long_for_the_system_is_refused_before_any_work(tmp_path, caplog, argv, what):
    """Each failed with "[Errno 36] File name too long", naming no option: every name in it
    short enough, the whole path over the system's 4095 bytes."""
    deep = str(tmp_path / "/".join(["d" * 200] * 25))
    fill = {"tmp": str(tmp_path), "deep": deep}
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main([a.format(**fill) for a in argv]) == 1
    what = what.format(**fill)
    size = len(os.fsencode(what.split()[-1]))
    assert (
        f"{what}: the path is {size} bytes long from the root; the system takes at most 4095; "
        "name a shorter one"
    ) in caplog.text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("absent.sf2", "no such soundfont"),
        ("fonts", "is a folder"),  # was "no such soundfont", of a folder that is there
        ("pipe.sf2", "is not a file"),
        # was said without what to do, after the folder was made (left behind, empty)
        ("notes.sf2", "FluidSynth cannot load this soundfont (damaged, or not a soundfont)"),
    ],
)
def test_synth_refuses_a_soundfont_it_cannot_load_before_making_its_folder(
    tmp_path, caplog, name, said
):
    import os

    (tmp_path / "fonts").mkdir()
    os.mkfifo(tmp_path / "pipe.sf2")
    (tmp_path / "notes.sf2").write_text("not a soundfont")
    font = tmp_path / name
    with caplog.at_level(logging.ERROR, logger="training"):
        command = ["synth", "--out", str(tmp_path / "songs"), "--soundfont", str(font)]
        assert without_waiting(lambda: main(command), tmp_path / "pipe.sf2") == 1
    assert f"{font}: {said}; name an .sf2 or .sf3 file" in caplog.text
    assert not (tmp_path / "songs").exists()  # was left behind, empty


@pytest.mark.parametrize("weights", ["", "1,x"])
def test_source_weights_that_are_no_numbers_are_refused_naming_the_option(
    tmp_path, caplog, weights
):
    """ "" (an unset shell variable) trained with the recipe's weights, a general model where a
    specialist was asked for; "1,x" was said without naming --source-weights."""
    recipe = tmp_path / "r.toml"
    recipe.write_text('[data]\nroots = ["absent"]\n')  # no data: a run that starts says so
    argv = ["fit", str(recipe), "--run", str(tmp_path / "run"), "--source-weights", weights]
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(argv) == 1
    assert (
        f"--source-weights: weights {weights!r}: give one number from 0 per source, like 1,1,0,1"
    ) in caplog.text
    assert list(tmp_path.iterdir()) == [recipe]


def test_every_fit_option_passes_through_torchrun():
    # torchrun parses its own options first and refuses an abbreviation of two of them: `--run`
    # could be its --run-path or --run_path, so under torchrun the folder is given as --run-dir.
    from torch.distributed.run import get_args_parser

    ours = ["fit", "r.toml", "--run-dir", "x", "--steps", "2", "--device", "cpu", "--init", "m"]
    ours += ["--accumulate", "2", "--lr", "1e-4", "--threads", "1", "--max-minutes", "3"]
    ours += ["--source-weights", "0,0,1,0"]
    parsed = get_args_parser().parse_args(["--nproc-per-node", "2", "-m", "training", *ours])
    assert (parsed.training_script, parsed.training_script_args) == ("training", ours)


def test_a_second_ctrl_c_is_one_line_and_exit_130(monkeypatch, caplog):
    import training.__main__ as entry

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(entry, "_fit", interrupted)
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", "r.toml"]) == 130  # was a traceback
    assert "stopped (Ctrl-C); the run resumes from its last saved step" in caplog.text


def test_running_out_of_memory_is_one_line_saying_what_to_ask_for(monkeypatch, caplog):
    """A recipe's optim.batch_size = 100000000 ended in a traceback of MemoryError."""
    import training.__main__ as entry

    def too_much(args):
        raise MemoryError

    monkeypatch.setattr(entry, "_fit", too_much)
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", "r.toml"]) == 1
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        "fit: out of memory; ask for less: a smaller batch (optim.batch_size), or more "
        "micro-batches (--accumulate)"
    )
    assert not error.exc_info


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--source-weights", "0,0,1"], "--source-weights: optim.source_weights has 3 weights"),
        (["--source-weights", "0,0,0,0"], "--source-weights: optim.source_weights must be"),
        (["--accumulate", "3"], "--accumulate: optim.accumulate must divide"),
    ],
)
def test_a_bad_fit_option_is_named_as_the_option_not_as_the_recipe(tmp_path, caplog, option, said):
    """They read "htdemucs_cpu.toml: optim.source_weights ...": the recipe was blamed."""
    recipe = tmp_path / "r.toml"
    recipe.write_text('[model]\narchitecture = "Demucs"\n[optim]\nbatch_size = 4\n')
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", str(recipe), "--run", str(tmp_path / "run"), *option]) == 1
    assert said in caplog.text


TINY_NET = (
    '[model]\narchitecture = "Demucs"\n[model.kwargs]\nchannels = 4\ndepth = 2\n'
    "lstm_layers = 0\nrewrite = false\nresample = false\n"
)


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("stride = 0", "[model.kwargs] make a Demucs that cannot run: division by zero"),
        # trained, then failed at the first validation
        ("samplerate = 0", "[model.kwargs] samplerate = 0: the network runs at the data's rate"),
        # trained at 44.1 kHz and shipped as if at 22.05
        ("samplerate = 22050", "[model.kwargs] samplerate = 22050: the network runs at"),
        # a RuntimeError traceback at the first step, after the data were decoded
        ("audio_channels = 1", "[model.kwargs] audio_channels = 1: the network takes the data's"),
    ],
)
def test_network_arguments_it_cannot_use_are_refused_naming_the_recipe(
    tmp_path, caplog, setting, said
):
    recipe = tmp_path / "r.toml"
    recipe.write_text(TINY_NET + setting + "\n")
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", str(recipe), "--run", str(tmp_path / "run")]) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and not errors[0].exc_info  # was a ZeroDivisionError traceback
    assert errors[0].getMessage().startswith(f"{recipe}: {said}")
    assert not (tmp_path / "run").exists()


@pytest.fixture
def without_diffq(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "diffq" or m.startswith("diffq.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "diffq", None)  # import diffq now raises ImportError


def test_quantize_without_diffq_says_how_to_install_it(tmp_path, a_model, without_diffq, caplog):
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["quantize", str(a_model), str(tmp_path / "q.stemgui")]) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and not errors[0].exc_info  # was a RuntimeError traceback
    assert errors[0].getMessage() == (
        "quantization needs the diffq package, which is not installed: pip install diffq cython"
    )
    assert not (tmp_path / "q.stemgui").exists()


def _quantization_aware_fit_refused(recipe, run, caplog) -> str:
    """The one error a quantization-aware fit of the tiny network (written to ``recipe``)
    stops with, before any data."""
    recipe.write_text(TINY_NET + "[optim]\nema = 0\n[quant]\ndiffq = 0.0003\n")
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", str(recipe), "--run", str(run)]) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and not errors[0].exc_info
    return errors[0].getMessage()


def test_quantization_aware_fit_without_diffq_is_refused_before_any_data(
    tmp_path, without_diffq, caplog
):
    recipe = tmp_path / "r.toml"
    assert _quantization_aware_fit_refused(recipe, tmp_path / "run", caplog) == (
        f"{recipe}: [quant] diffq = 0.0003: quantization needs the diffq package, which is not "
        "installed: pip install diffq cython, or set diffq = 0"
    )


def test_quantization_aware_fit_of_a_network_too_small_to_quantize_is_refused_first(
    tmp_path, caplog
):
    """It decoded the data, then said "no parameter is over 0.01 MB: nothing to quantize",
    naming neither the recipe nor what to change."""
    recipe = tmp_path / "r.toml"
    assert _quantization_aware_fit_refused(recipe, tmp_path / "run", caplog) == (
        f"{recipe}: [quant] diffq = 0.0003: the network has no parameter over 0.01 MB, so none "
        "would be quantized; make it larger, or set diffq = 0"
    )


def test_a_data_folder_without_tracks_is_named_with_what_a_track_is(tmp_path, caplog):
    """It said "no training tracks found under X", naming neither the recipe nor the layout
    (a folder of stems in an unknown format, or only validation tracks, gave the same)."""
    from training import config as config_mod

    (tmp_path / "data" / "Leaf - Summerghost").mkdir(parents=True)  # a validation name, empty
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        config_mod.dumps(config_mod.DEFAULTS).replace("roots = []", 'roots = ["data"]')
    )
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(["fit", str(recipe), "--run", str(tmp_path / "run")]) == 1
    assert f"{recipe}: no training tracks under {tmp_path / 'data'}" in caplog.text
    assert "a .stem.mp4 file or a folder of drums, bass, other and vocals files" in caplog.text


def test_every_option_says_what_it_does_and_its_default():
    """``eval --cache``, ``--split``, ``--device``, ``--max-tracks``, ``-v`` and others said
    nothing, or nothing of what they do when not given."""
    import argparse

    from training.__main__ import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = {"python -m training": parser, **commands.choices}
    silent = [
        f"{name} {action.option_strings[-1]}"
        for name, each in parsers.items()
        for action in each._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
        if not any(word in (action.help or "") for word in ("default", "required"))
    ]
    assert silent == []
