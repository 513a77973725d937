"""Links that loop back on themselves inside a folder searched for songs (``find_audio_files``,
under ``find_tracks``: ``stemgui-separate``'s stderr and the window's status bar): said, with
what to do, whatever their name; one with an audio extension is kept, for decoding to say so."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from stemgui.audio.files import find_audio_files
from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import album_of_one_song

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="links need privileges there")

LOOP = (
    "is a link that loops back on itself (to {0}); give the folder or song it was meant for "
    "instead, or fix or remove the link"
)


@pytest.fixture
def album(in_tmp) -> Path:
    """album/one.wav, album/Disc 2 (a link to itself, meant for a folder of songs), album/cd
    (two links that lead to each other), album/loop.mp3 (a link to itself, named as a song),
    album/.hidden (one hidden) and album/notes.txt (a file)."""
    album = album_of_one_song()
    os.symlink("Disc 2", album / "Disc 2")
    os.symlink("cd.b", album / "cd")
    os.symlink("cd", album / "cd.b")
    os.symlink("loop.mp3", album / "loop.mp3")
    os.symlink(".hidden", album / ".hidden")
    return album


def test_a_looping_link_without_an_audio_extension_is_said(album, caplog):
    """album/Disc 2, a link to itself, was left out without a word, while album/loop.mp3 was
    said (by decoding): the album came in short and nothing said why."""
    said = []
    with caplog.at_level(logging.WARNING):
        found = find_audio_files([album], lambda path, why: said.append((path, why)))
    assert found == [album / "loop.mp3", album / "one.wav"]  # kept: decoding says it
    assert said == [
        (album / "cd", LOOP.format("cd.b")),
        (album / "cd.b", LOOP.format("cd")),
        (album / "Disc 2", LOOP.format("Disc 2")),
    ]
    for path, why in said:
        assert f"{path}: left out: {why}" in caplog.text
    assert "notes.txt" not in caplog.text and ".hidden" not in caplog.text


def test_the_command_line_and_the_window_are_told_by_the_song_finding(album, caplog):
    said = []
    with caplog.at_level(logging.WARNING):
        found, problems = find_tracks([album], on_unread=lambda path, why: said.append(path))
    assert (found, problems) == ([album / "loop.mp3", album / "one.wav"], [])
    assert said == [album / "cd", album / "cd.b", album / "Disc 2"]
    assert f"album/Disc 2: left out: {LOOP.format('Disc 2')}" in caplog.text
