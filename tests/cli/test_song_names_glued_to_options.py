"""Songs named like an option that takes a value (``-notes.mp3``: ``-n otes.mp3``, the model
"otes.mp3"; ``-odd.wav``: ``-o dd.wav``; ``-vocals.mp3``: ``-v -o cals.mp3``), or a flag
(``-h.mp3``), which argparse reads as that option with the rest of the name glued to it: said
how to name them (``./-notes.mp3``, or after ``--``), with no song separated; exit status 2."""

from __future__ import annotations

import pytest

from stemgui import cli
from tests.reliability.helpers import write_song


def _error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("name", ["-notes.wav", "-odd.wav", "-drums.wav", "-vocals.wav"])
def test_a_file_named_like_an_option_with_its_value_is_told_how_to_name_it(
    tmp_path, model_file, capsys, name
):
    """``song.wav -odd.wav`` separated song.wav into a folder dd.wav, -notes.mp3 looked for
    the model otes.mp3, -drums.wav the device rums.wav; the file given was never a song."""
    write_song(tmp_path / "song.wav")
    write_song(tmp_path / name)
    line = _error_line(capsys, ["song.wav", name, "-n", str(model_file)])
    assert line == (
        f"stemgui-separate: error: {name} is a file, not the option {name[:2]}: write "
        f"./{name}, or put -- before it (-- {name})"
    )
    assert not (tmp_path / "separated").exists() and not (tmp_path / name[2:]).exists()


def test_a_song_named_like_an_option_that_is_not_there_is_told_how_to_name_it(capsys):
    """A typo, or another folder's song: its audio extension says it is meant as one."""
    assert _error_line(capsys, ["-h.mp3"]) == (
        "stemgui-separate: error: -h.mp3 looks like a song, not the option -h: write ./-h.mp3, "
        "or put -- before it (-- -h.mp3)"
    )


def test_a_folder_named_like_an_option_is_told_so(tmp_path, capsys):
    (tmp_path / "-new").mkdir()
    assert _error_line(capsys, ["-new"]) == (
        "stemgui-separate: error: -new is a folder, not the option -n: write ./-new, or put -- "
        "before it (-- -new)"
    )


def test_after_two_dashes_and_as_a_path_such_a_song_is_separated(tmp_path, model_file, capsys):
    write_song(tmp_path / "-notes.wav")
    write_song(tmp_path / "-odd.wav")
    argv = ["-n", str(model_file), "./-notes.wav", "--", "-odd.wav"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / "separated" / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == ["-notes", "-odd"]


def test_an_option_with_its_value_glued_is_still_taken(tmp_path, model_file, capsys):
    """``-ostems`` is ``-o stems`` where no file of that name is there and it names no song."""
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", f"-n{model_file}", "-ostems"]) == 0, capsys.readouterr().err
    assert (tmp_path / "stems" / "tiny" / "song" / "vocals.wav").is_file()
