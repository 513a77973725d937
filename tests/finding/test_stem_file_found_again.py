"""A Stems file (``.stem.mp4``) the app exported beside a song, found again in a folder dropped
on the window or given to ``stemgui-separate``: left out as the song's stems are, not queued as
a song of its own (``find_tracks``); one of a Beatport download, named after no song, stays a
song (it decodes as its mix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")


def test_a_stem_file_exported_beside_its_song_is_left_out():
    """The default template: album/htdemucs/one/stems.stem.mp4 beside album/one.wav."""
    one, _stem_file = touch("album/one.wav", "album/htdemucs/one/stems.stem.mp4")
    found, problems = find_tracks([Path("album")])
    assert found == [one]
    assert [p.stems for p in problems] == []


def test_a_stem_file_with_its_song_above_the_folder_given_is_left_out():
    touch("album/one.wav")
    (stem_file,) = touch("album/htdemucs/one/stems.stem.mp4")
    found, problems = find_tracks([Path("album/htdemucs")])
    assert found == []
    assert [p.stems for p in problems] == [(stem_file,)]


def test_a_stem_file_named_after_no_song_stays_a_song():
    kept = touch("album/one.wav", "album/Artist - Track.stem.mp4")
    assert sorted(find_tracks([Path("album")])[0]) == sorted(kept)
