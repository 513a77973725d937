"""Model files named after ``--data`` are the command's own, as if named before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.__main__ import build_parser, main


def _refused(argv: list[str], capsys) -> str:
    """What ``main(argv)`` writes to stderr as its parser refuses ``argv`` (exit status 2)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def _argv_id(value) -> str:
    """A parameter's test id: an argument list joined by spaces, the others left out."""
    return " ".join(value) if isinstance(value, list) else ""


# The same command, its model files before --data (the README's order) and after it (the usage
# line's order, --data first): quantize, segment and bag said to name them before --data.
FORMS = {
    "quantize": [
        ["m.stemgui", "q.stemgui", "--data", "d"],
        ["--data", "d", "m.stemgui", "q.stemgui"],
        ["m.stemgui", "--data", "d", "q.stemgui"],
        ["--data", "d", "m.stemgui", "--bits", "8", "q.stemgui"],  # --bits 8 in each other
    ],
    "segment": [
        ["m.th", "s.stemgui", "--seconds", "4", "--data", "d", "e"],
        ["--seconds", "4", "--data", "d", "e", "m.th", "s.stemgui"],
        ["--data", "d", "m.th", "e", "s.stemgui", "--seconds", "4"],
    ],
    "bag": [
        ["b.stemgui", "m.stemgui", "n.th", "--data", "d"],
        ["--data", "d", "b.stemgui", "m.stemgui", "n.th"],
        ["b.stemgui", "--data", "d", "m.stemgui", "n.th"],
        ["b.stemgui", "m.stemgui", "--data", "d", "n.th"],
        ["--data", "d", "b.stemgui", "m.stemgui", "--overwrite", "n.th"],
    ],
    "eval": [
        ["m.stemgui", "n.th", "--data", "d"],
        ["--data", "d", "m.stemgui", "n.th"],
        ["m.stemgui", "--data", "d", "n.th"],
    ],
}
EXPECTED = {
    "quantize": {"model": "m.stemgui", "output": "q.stemgui", "data": ["d"]},
    "segment": {"model": "m.th", "output": "s.stemgui", "data": ["d", "e"]},
    "bag": {"output": "b.stemgui", "models": ["m.stemgui", "n.th"], "data": ["d"]},
    "eval": {"models": ["m.stemgui", "n.th"], "data": ["d"]},
}


@pytest.mark.parametrize(
    ("command", "argv"),
    [(command, argv) for command, forms in FORMS.items() for argv in forms],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_model_files_after_data_are_the_commands_own(command, argv):
    parsed = vars(build_parser().parse_args([command, *argv]))
    assert {key: parsed[key] for key in EXPECTED[command]} == EXPECTED[command]
    assert not [key for key in parsed if "data" in key and key != "data"]  # none left over


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        # a model file without its suffix is a data folder after --data: output not named;
        # there is no folder q, so q is the file to write, without the suffix that tells it
        (
            ["quantize", "--data", "d", "m.stemgui", "q"],
            "the following arguments are required: output (after --data, q was taken for a data "
            "folder, and there is none: the model file to write is told by its suffix, "
            ".stemgui; name it q.stemgui)",
        ),
        (
            ["segment", "--data", "d", "m.th", "runs/s", "--seconds", "4"],
            "the following arguments are required: output (after --data, runs/s was taken for a "
            "data folder, and there is none: the model file to write is told by its suffix, "
            ".stemgui; name it runs/s.stemgui)",
        ),
        (["bag", "b.stemgui"], "the following arguments are required: models"),
        (  # a member without its suffix: it was said how model files are told, not which
            ["bag", "--data", "d", "b.stemgui", "n"],
            "the following arguments are required: models (after --data, n was taken for a data "
            "folder, and there is none; model files are told by their suffix: .th, .yaml, .yml, "
            ".stemgui, .pt, .safetensors)",
        ),
        (["segment", "--seconds", "4"], "the following arguments are required: model, output"),
        (
            ["quantize", "m.th", "--data", "d", "q.stemgui", "x.th"],
            "x.th: more names than model, output; name each once, before --data or after its "
            "folders",
        ),
    ],
    ids=_argv_id,
)
def test_a_model_file_missing_or_too_many_is_said_by_the_parser(
    tmp_path, monkeypatch, capsys, argv, said
):
    monkeypatch.chdir(tmp_path)
    assert f"error: {said}\n" in _refused(argv, capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_output_without_its_suffix_that_is_a_folder_is_said_as_data(
    tmp_path, monkeypatch, capsys
):
    """A folder of that name is data as named: only the suffixes that tell model files apart
    are said, not a file name to write."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q").mkdir()
    assert (
        "error: the following arguments are required: output (after --data, model files are "
        "told by their suffix: .th, .yaml, .yml, .stemgui, .pt, .safetensors)\n"
    ) in _refused(["quantize", "--data", "d", "m.stemgui", "q"], capsys)


def test_a_model_file_after_data_is_checked_as_the_argument_it_becomes(capsys):
    """A model's name too long for the disk is no such file (as it is named before --data);
    OUTPUT's is left to the output check, which names the limit of the names it writes."""
    long = "x" * 300 + ".stemgui"
    assert build_parser().parse_args(["quantize", "--data", "d", "m.th", long]).output == long
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["quantize", "--data", "d", long, "q.stemgui"])
    assert stop.value.code == 2
    assert (
        f"argument model: {long}: no such file or folder: the name {long!r} is 308 bytes long, "
        "more than the disk takes (255); check the path"
    ) in capsys.readouterr().err


def test_a_parser_that_cannot_place_them_refuses_model_files_after_data(capsys):
    """A command's parser built on its own (argparse's, not ``CommandParser``) would drop them:
    bag's last member, unscored and left out of the bag."""
    import argparse

    from training import bag

    parser = argparse.ArgumentParser()
    bag.add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["bag", "b.stemgui", "m.th", "--data", "d", "n.th"])
    assert "argument --data: n.th: model files; name them before --data" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "output", "named"),
    [
        (["quantize", "m.th", "q"], "q", "q.stemgui"),  # wrote a file q, which the app skips
        (["quantize", "m.th", "--data", "d", "q.th"], "q.th", "q.stemgui"),
        (["quantize", "--data", "d", "m.th", "runs/q.pt"], "runs/q.pt", "runs/q.stemgui"),
        (["segment", "m.th", "s.v2", "--seconds", "4"], "s.v2", "s.v2.stemgui"),
        (["segment", "--data", "d", "m.th", "s.th", "--seconds", "4"], "s.th", "s.stemgui"),
        (["bag", "b", "m.stemgui", "n.th"], "b", "b.stemgui"),
        (["bag", "--data", "d", "b.yaml", "m.stemgui", "n.th"], "b.yaml", "b.stemgui"),
        (["member", "b.stemgui", "0", "m"], "m", "m.stemgui"),
    ],
    ids=_argv_id,
)
def test_an_output_without_the_stemgui_suffix_is_refused_wherever_it_stands(
    tmp_path, monkeypatch, capsys, argv, output, named
):
    """After --data only .stemgui tells the file to write from a data folder, and it was said
    to need it there; before --data, ``quantize m.th q`` wrote a file ``q``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    assert (
        f"error: argument output: {output}: the model file to write is told by its suffix, "
        f".stemgui; name it {named}\n"
    ) in _refused(argv, capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_an_output_in_capitals_or_a_folder_is_left_to_the_output_check():
    """``Q.STEMGUI`` is a model file, as the app and --data tell them; a folder is said to be
    one when the command checks its output, naming a file in it."""
    parsed = build_parser().parse_args(["quantize", "m.th", "Q.STEMGUI"])
    assert parsed.output == "Q.STEMGUI"
    assert build_parser().parse_args(["bag", ".", "m.th", "n.th"]).output == "."


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["quantize", "m.th", ".stemgui"], ".stemgui"),
        (["bag", "runs/.STEMGUI", "m.th", "n.th"], "runs/.STEMGUI"),
        (["member", "b.stemgui", "0", ".th"], ".th"),
    ],
    ids=_argv_id,
)
def test_an_output_named_by_a_suffix_alone_is_told_to_take_a_name(
    tmp_path, monkeypatch, capsys, argv, named
):
    """``quantize m.th .stemgui`` was told to name it .stemgui.stemgui, a hidden file of no
    name again."""
    monkeypatch.chdir(tmp_path)
    where = str(Path(named).with_name("NAME.stemgui"))
    assert (
        f"error: argument output: {named}: the model file to write is told by its suffix, "
        f".stemgui, after its name; give it a name, like {where}\n"
    ) in _refused(argv, capsys)
    with pytest.raises(SystemExit):  # after --data: taken for a data folder, the same said
        main(["quantize", "--data", "d", "m.th", named])
    assert (
        f"(after --data, {named} was taken for a data folder, and there is none: the model file "
        f"to write is told by its suffix, .stemgui, after its name; give it a name, like {where})"
    ) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "output", "misread"),
    [
        (["bag", "--data", "d", "b", "m.th", "n.th", "e"], "m.th", "b"),  # named e, after them
        (["bag", "--data", "d", "b", "m.th", "n.th", "d"], "m.th", "b"),  # d a folder: none
        (["quantize", "--data", "d", "q", "m.th", "x.th", "e"], "x.th", "q"),
    ],
    ids=_argv_id,
)
def test_a_refused_model_file_after_data_names_the_folder_taken_in_its_stead(
    tmp_path, monkeypatch, capsys, argv, output, misread
):
    """The hint named the last data root given, which may come after the model files (and
    none when that one is a folder), not the one before them that shifted them along."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    assert (
        f"error: argument output: {output}: the model file to write is told by its suffix, "
        f".stemgui; name it {Path(output).stem}.stemgui (after --data, {misread} was taken for "
        "a data folder, and there is none)\n"
    ) in _refused(argv, capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


# --data given twice: its roots join the earlier ones, as if named in one --data (the last one's
# alone were kept: d1's tracks were never scored, and nothing said so)
TWICE = {
    "eval": (
        ["--data", "d1", "m.stemgui", "--data", "d2", "n.th"],
        {"models": ["m.stemgui", "n.th"], "data": ["d1", "d2"]},
    ),
    "quantize": (
        ["--data", "d1", "--data", "d2", "m.th", "q.stemgui"],
        {"model": "m.th", "output": "q.stemgui", "data": ["d1", "d2"]},
    ),
    "segment": (
        ["m.th", "--data", "d1", "--seconds", "4", "--data", "d2", "e", "s.stemgui"],
        {"model": "m.th", "output": "s.stemgui", "data": ["d1", "d2", "e"]},
    ),
    "bag": (
        ["--data", "d1", "b.stemgui", "m.th", "--data", "d2", "n.th"],
        {"output": "b.stemgui", "models": ["m.th", "n.th"], "data": ["d1", "d2"]},
    ),
}


@pytest.mark.parametrize("command", TWICE)
def test_data_given_twice_keeps_the_roots_of_both(command):
    argv, expected = TWICE[command]
    parsed = vars(build_parser().parse_args([command, *argv]))
    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize(
    "data",
    [
        ["--data", "d", "--data", "m.th", "q.stemgui"],
        ["--data", "m.th", "--data", "d", "q.stemgui"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("command", [["eval"], ["quantize"], ["segment", "--seconds", "4"]])
def test_a_data_of_model_files_alone_is_taken_with_the_other_data(command, data):
    """``--data d --data m.th`` is ``--data d m.th``: not refused for naming no data folder."""
    parsed = build_parser().parse_args([*command, *data])
    assert parsed.data == ["d"]
    placed = parsed.models if command == ["eval"] else [parsed.model, parsed.output]
    assert placed == ["m.th", "q.stemgui"]


def test_a_refused_model_file_after_a_second_data_names_the_root_before_it(
    tmp_path, monkeypatch, capsys
):
    """The root that shifted m.th into OUTPUT was named in the first --data: said as in one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    assert (
        "error: argument output: m.th: the model file to write is told by its suffix, .stemgui; "
        "name it m.stemgui (after --data, b was taken for a data folder, and there is none)\n"
    ) in _refused(["bag", "--data", "d", "b", "--data", "m.th", "n.th"], capsys)


@pytest.mark.parametrize(
    ("argv", "misread"),
    [
        (["quantize", "--data", "d", "m.th", "q", "e"], "q"),  # said nothing of q: e a folder
        (["quantize", "--data", "d", "m.th", "q", "x"], "q"),  # named x, after q
        (["segment", "--data", "d", "m.th", "--data", "s", "e", "--seconds", "4"], "s"),
        (["quantize", "m.th", "--data", "q", "e"], "q"),  # none after --data: the last, no folder
    ],
    ids=_argv_id,
)
def test_a_missing_output_names_the_root_taken_in_its_place(
    tmp_path, monkeypatch, capsys, argv, misread
):
    """OUTPUT stands just after the model files named after --data: the hint named the last
    data root given, and only the general suffix rule when that one was a folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "e").mkdir()
    assert (
        f"error: the following arguments are required: output (after --data, {misread} was taken "
        "for a data folder, and there is none: the model file to write is told by its suffix, "
        f".stemgui; name it {misread}.stemgui)\n"
    ) in _refused(argv, capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "e"]
