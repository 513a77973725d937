"""A stem of another template is told from a song by its song above it (``find_tracks``): only
a song counts there, a file the search would queue (``one.wav``, ``one.MP3``), not what merely
shares its name (``one.txt``, ``one.jpg``, a folder ``one.wav``, a named pipe ``one.wav``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")

STEMS = ["album/one/vocals.wav", "album/one_vocals.wav", "album/vocals/one.wav"]
PIPE = pytest.param(
    "one.wav|", marks=pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
)


@pytest.mark.parametrize("beside", ["one.txt", "one.jpg", "one.wav/", PIPE])
def test_a_name_shared_with_what_is_no_song_leaves_the_stems_songs(beside):
    """Beside ``one.txt``, ``one.jpg`` or a ``one.wav`` that is no song ("/": a folder, "|": a
    named pipe, which the search leaves out), the files shaped like one's stems are songs: a
    folder named one.wav left one/vocals.wav and the others out, never separated."""
    name = f"album/{beside.rstrip('/|')}"
    if beside.endswith("/"):
        os.makedirs(f"{name}/covers")
    elif beside.endswith("|"):
        os.makedirs("album")
        os.mkfifo(name)
    else:
        touch(name)
    songs = touch(*STEMS)
    assert find_tracks([Path("album")]) == (songs, [])  # in the order listed


@pytest.mark.parametrize("song", ["one.wav", "one.MP3"])
def test_a_song_of_that_name_makes_them_stems(song):
    (one,) = touch(f"album/{song}")
    touch(*STEMS)
    assert find_tracks([Path("album")]) == ([one], [])
