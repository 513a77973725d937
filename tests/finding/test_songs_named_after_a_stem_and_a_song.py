"""A song whose name is a stem's and another song's with a space between ("other side.mp3"
beside "side.mp3", "piano man.mp3" under a folder holding "man.mp3") is a song: found in a
folder given to ``stemgui-separate`` or dropped on the window, it was left out as the stem of
another template, never separated. A stem and its song's name with punctuation or "_" between
them (``{track} - {stem}``, ``{stem}_{track}``) are still told stems."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")


def test_a_song_named_a_stem_and_a_song_is_separated():
    touch("lib/man.mp3")
    songs = touch(
        "lib/album/bass line.flac",
        "lib/album/line.wav",
        "lib/album/other side.mp3",
        "lib/album/piano man.mp3",
        "lib/album/side.mp3",
        "lib/album/vocals only.wav",
    )
    assert find_tracks([Path("lib/album")]) == (songs, [])


def test_a_stem_of_another_template_beside_its_song_is_still_left_out():
    (side,) = touch("lib/album/side.mp3")
    touch("lib/album/other - side.mp3", "lib/album/vocals_side.wav", "lib/album/side-bass.flac")
    assert find_tracks([Path("lib/album")]) == ([side], [])
