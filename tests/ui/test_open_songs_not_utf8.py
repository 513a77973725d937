"""File ▸ Open songs… and Open folder… with a name that is not UTF-8 (Latin-1 bytes from an old
archive, on Linux; Python keeps them as surrogates): the song is queued by its name as it is.
The dialog is played as Qt's is: the user's choice comes as URLs, the name's bytes
percent-encoded (as a native dialog hands them over), and the file names Qt makes of them have
U+FFFD for those bytes."""

from __future__ import annotations

import os
from urllib.parse import quote_from_bytes

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QFileDialog

from tests.ui.conftest import write_song


class ChosenInDialog:
    """``QFileDialog``'s static functions, the user choosing ``paths``: the ones giving file
    names make them of the URLs, as Qt does (``QUrl.toLocalFile``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *paths: str) -> None:
        urls = [
            QUrl.fromEncoded(b"file://" + quote_from_bytes(os.fsencode(p)).encode()) for p in paths
        ]
        names = [url.toLocalFile() for url in urls]
        for name, answer in [
            ("getOpenFileUrls", (urls, "")),
            ("getOpenFileNames", (names, "")),
            ("getExistingDirectoryUrl", urls[0]),
            ("getExistingDirectory", names[0]),
        ]:
            monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, _=answer, **k: _))


@pytest.fixture
def latin1_song(tmp_path):
    """tmp_path/Café/caf\\xe9.wav, both names in Latin-1 bytes."""
    folder = tmp_path / os.fsdecode(b"Caf\xe9")
    folder.mkdir()
    return write_song(tmp_path / "cafe.wav").rename(folder / os.fsdecode(b"caf\xe9.wav"))


def test_a_song_opened_whose_name_is_not_utf8_is_queued_as_it_is(window, latin1_song, monkeypatch):
    """Its name came out of the dialog with U+FFFD for the byte: 'does not exist'."""
    ChosenInDialog(monkeypatch, str(latin1_song))
    window.intake.open_songs()
    (job,) = window.controller.model.jobs
    assert job.path == latin1_song and job.path.is_file()


def test_a_folder_opened_whose_name_is_not_utf8_has_its_songs_queued(
    window, latin1_song, monkeypatch
):
    """The folder came out of the dialog with U+FFFD for the byte: 'no audio files'."""
    ChosenInDialog(monkeypatch, str(latin1_song.parent))
    window.intake.open_folder()
    assert [job.path for job in window.controller.model.jobs] == [latin1_song]
