"""A lone stem (one stem of an export, the rest deleted or never written) found again in a
folder given to ``stemgui-separate`` or dropped on the window: left out by its song whether or
not ``-o`` names its output folder again, so that a batch re-run, or the album dropped again,
separates the same songs (``find_tracks``)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")


@pytest.mark.parametrize("out", [None, "album/stems"], ids=["another -o", "-o again"])
def test_a_lone_stem_in_an_output_folder_beside_its_song_is_left_out(out, caplog):
    """``stemgui-separate album -o album/stems`` (or the app's export into "stems", beside each
    song) of the vocals alone wrote album/stems/htdemucs/one/vocals.wav: re-run with another
    -o, it was separated as a song, for its song was looked for in album/stems, not beside it;
    with -o album/stems again it was left out."""
    one, two = touch("album/one.wav", "album/two.mp3")
    touch("album/stems/htdemucs/one/vocals.wav", "album/stems/htdemucs/two 80%/bass.flac")
    exclude = Path(out) if out else None
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")], exclude) == ([one, two], [])
    assert "album: left out 2 file(s) that look like stems of an earlier run" in caplog.text


def test_a_lone_stem_with_its_song_above_the_folder_given_is_left_out():
    """album/stems/htdemucs given alone after that run: its song is two folders up."""
    touch("album/one.wav")
    (stem,) = touch("album/stems/htdemucs/one/vocals.wav")
    found, problems = find_tracks([Path("album/stems/htdemucs")])
    assert found == []
    assert [p.stems for p in problems] == [(stem,)]


def test_a_lone_file_named_like_a_stem_whose_track_is_no_song_stays_a_song():
    """Nothing ties it to a song (encore.wav is not there, the template has no {track}): a
    song named like a stem, as before."""
    kept = touch("album/one.wav", "album/stems/htdemucs/encore/vocals.wav", "album/vocals.mp3")
    assert sorted(find_tracks([Path("album")])[0]) == sorted(kept)
