"""Stems an earlier run wrote with ``--filename "{stem}/{track}.{ext}"`` (a folder a stem,
``vocals/one.wav``), found in a folder given to ``stemgui-separate`` or dropped on the window
by a run with another template: told from songs by their folder, a stem's name, and their
file's, a song's beside that folder or above it (``find_tracks``); songs in a folder named
like a stem, with no song of their name above, stay songs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")


@pytest.mark.parametrize(
    "stems",
    [
        ["vocals/one.wav", "drums/one.wav", "no_vocals/two.flac"],  # -o album
        ["vocals/one 80%.mp3"],  # one stem exported, at a pace
        ["stems/htdemucs/bass/one.wav"],  # -o album/stems, {model}/{stem}/{track}
    ],
)
def test_stems_in_folders_named_for_them_beside_their_song_are_left_out(stems, caplog):
    """Written by ``-o album --filename "{stem}/{track}.{ext}"``, then found by a run with the
    default template or the window's: separated as songs, stems of stems written, unless that
    template was the run's own."""
    one, two = touch("album/one.wav", "album/two.mp3")
    touch(*(f"album/{name}" for name in stems))
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")]) == ([one, two], [])
        assert find_tracks([Path("album")], None, "{track} - {stem}.{ext}") == ([one, two], [])
    assert f"album: left out {len(stems)} file(s) that look like stems" in caplog.text


def test_songs_in_a_folder_named_like_a_stem_stay_songs():
    """No song of their name beside their folder or above it (vocals/take 1.wav beside
    one.wav), nor one beside them alone (vocals/two.flac and vocals/two.wav, two takes):
    songs. Nor is a format we never write (vocals/one.m4a), nor a song named like the stem."""
    songs = touch(
        "album/one.wav",
        "album/vocals/one.m4a",
        "album/vocals/take 1.wav",
        "sessions/vocals/two.flac",
        "sessions/vocals/two.wav",
        "sessions/vocals/vocals.wav",
    )
    assert find_tracks([Path("album"), Path("sessions")]) == (songs, [])
