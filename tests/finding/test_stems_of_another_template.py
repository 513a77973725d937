"""Stems written with a file name template neither the one given now nor the default (an
earlier run's ``--filename``, an export's own) found in a folder given to ``stemgui-separate``
or dropped on the window: told from songs by a stem's name beside the name of the song they
were made from (``find_tracks``), a song named like a stem alone still a song."""

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
        ["one_vocals.wav", "one_no_vocals.wav"],  # {track}_{stem}.{ext}, --two-stems
        ["one - vocals.mp3"],  # {track} - {stem}.{ext}, one stem exported
        ["htdemucs/one-drums.flac", "htdemucs/two 80%-bass.flac"],  # {model}/{track}-{stem}
        ["vocals_one.wav"],  # {stem}_{track}.{ext}
        ["deep/one/vocals.wav", "deep/one/htdemucs_ft/mix.wav"],  # {track}/{stem}, {track}/{model}
    ],
)
def test_stems_of_a_third_template_beside_their_song_are_left_out(stems, caplog):
    """Written by ``-o album --filename "{track}_{stem}.{ext}"`` (say), then found by a run with
    another --filename or the window's settings: separated as songs, stems of stems written;
    only this run's template and the default one were known."""
    one, two = touch("album/one.wav", "album/two.mp3")
    touch(*(f"album/{name}" for name in stems))
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")]) == ([one, two], [])
        assert find_tracks([Path("album")], Path("album"), "{track}/{model}.{stem}.{ext}") == (
            [one, two],
            [],
        )
    assert f"album: left out {len(stems)} file(s) that look like stems" in caplog.text


def test_songs_named_like_stems_without_a_song_of_that_name_stay_songs():
    """No song's name beside the stem's (vocals.mp3 alone or beside one.wav, three - vocals.wav
    with no three): songs. Nor is a name with the stem inside a word, or a stem written as we
    never write it (capitals, a format we do not write), nor one whose name goes on after the
    song's with more than the part or pace exported."""
    songs = touch(
        "album/encore_vocals.wav",
        "album/one (Vocals).mp3",
        "album/one - live - mix.wav",  # {track} - {stem} of no song: "one - live" is none
        "album/one - original mix.wav",  # a version of one, not its mix at a pace
        "album/one - vocals.m4a",
        "album/one.wav",
        "album/one_another.wav",
        "album/three - vocals.wav",
        "album/vocals.mp3",
        "live/vocals.mp3",
    )
    assert find_tracks([Path("album"), Path("live")]) == (songs, [])
    assert find_tracks([Path("album"), Path("live")], None, "{track} - {stem}.{ext}") == (songs, [])
