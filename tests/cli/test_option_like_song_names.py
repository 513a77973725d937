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
