"""Arguments argparse does not know that are songs named like options (``-x.mp3``): said how
to name them (``./-x.mp3``, or after ``--``), whether the song is there or not; exit status 2."""

from __future__ import annotations

import pytest

from stemgui import cli


def _error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_an_unknown_argument_too_long_for_a_file_name_is_a_usage_error(capsys):
    """A 300-byte ``-aaa….wav`` ended in a traceback (OSError: File name too long) from
    ``Path.exists``, where argparse's usage error was meant."""
    name = f"-{'a' * 300}.wav"
    line = _error_line(capsys, [name])
    assert line.startswith(f"stemgui-separate: error: unrecognized arguments: {name}"), line


def test_a_song_name_like_an_option_that_is_not_there_is_told_how_to_name_it(capsys):
    """``stemgui-separate -x.mp3``, the song not in this folder (a typo, or another folder's),
    said only "unrecognized arguments: -x.mp3": its audio extension says it is meant as one."""
    assert _error_line(capsys, ["-x.mp3", "--flac"]) == (
        "stemgui-separate: error: unrecognized arguments: -x.mp3; -x.mp3 looks like a song: "
        "write ./-x.mp3, or put -- before it (-- -x.mp3)"
    )


def test_an_unknown_option_without_an_audio_extension_is_said_as_argparse_says_it(capsys):
    assert _error_line(capsys, ["--frobnicate", "-x.txt", "song.wav"]) == (
        "stemgui-separate: error: unrecognized arguments: --frobnicate -x.txt"
    )


def test_a_file_there_is_told_before_a_name_that_looks_like_a_song(tmp_path, capsys):
    (tmp_path / "-xnotes").write_text("x")
    line = _error_line(capsys, ["-y.wav", "-xnotes"])
    assert line.endswith("; -xnotes is a file: write ./-xnotes, or put -- before it (-- -xnotes)")
