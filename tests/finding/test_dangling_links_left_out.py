"""Links to nothing (their file or folder deleted, or on a drive not connected) inside a folder
searched for songs (``find_audio_files``, under ``find_tracks``: ``stemgui-separate``'s stderr
and the window's status bar): said, with what to do, whatever their name, in the words decoding
says them in; one with an audio extension is kept, for decoding to say so."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from stemgui.audio.decode import decode
from stemgui.audio.files import find_audio_files
from stemgui.cli.tracks import find_tracks
from stemgui.errors import DecodeError
from tests.finding.song_trees import album_of_one_song

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="links need privileges there")

NOTHING = "is a link to {0}, which does not exist; fix or remove the link"


@pytest.fixture
def album(in_tmp) -> Path:
    """album/one.wav, album/Disc 2 (a link to a folder not there, meant for a folder of
    songs), album/gone.mp3 (a link to a song not there), album/.hidden (one hidden, to
    nothing) and album/notes.txt (a file)."""
    album = album_of_one_song()
    os.symlink("/media/usb/Disc 2", album / "Disc 2")
    os.symlink("../deleted.mp3", album / "gone.mp3")
    os.symlink("nowhere", album / ".hidden")
    return album


def test_a_link_to_nothing_without_an_audio_extension_is_said(album, caplog):
    """album/Disc 2, a link to a drive not connected, was left out without a word, while
    album/gone.mp3 was said (by decoding): the album came in short and nothing said why."""
    said = []
    with caplog.at_level(logging.WARNING):
        found = find_audio_files([album], lambda path, why: said.append((path, why)))
    assert found == [album / "gone.mp3", album / "one.wav"]  # kept: decoding says it
    assert said == [(album / "Disc 2", NOTHING.format("/media/usb/Disc 2"))]
    assert f"album/Disc 2: left out: {NOTHING.format('/media/usb/Disc 2')}" in caplog.text
    assert "notes.txt" not in caplog.text and ".hidden" not in caplog.text


def test_both_are_said_in_the_same_words(album):
    with pytest.raises(DecodeError) as caught:
        decode(album / "gone.mp3")
    assert caught.value.reason == NOTHING.format("../deleted.mp3")


def test_the_command_line_and_the_window_are_told_by_the_song_finding(album):
    said = []
    found, problems = find_tracks([album], on_unread=lambda path, why: said.append((path, why)))
    assert (found, problems) == ([album / "gone.mp3", album / "one.wav"], [])
    assert said == [(album / "Disc 2", NOTHING.format("/media/usb/Disc 2"))]
