"""``stemgui.cli.tracks.find_tracks``, the songs in the folders given to ``stemgui-separate`` and
dropped on the window: which files are songs and which are stems an earlier run or export wrote,
on trees of empty files (nothing is decoded)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stemgui.cli.tracks import find_tracks

STEMS = ("drums", "bass", "other", "vocals")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def touch(*names: str) -> list[Path]:
    paths = [Path(name) for name in names]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return paths


def stems_of(folder: str, ext: str = "wav", names=STEMS) -> list[Path]:
    return touch(*(f"{folder}/{stem}.{ext}" for stem in names))


def test_stems_written_into_the_folder_given_are_not_songs_the_next_time(caplog):
    """``stemgui-separate album -o album`` writes album/htdemucs/one/vocals.wav...; the same
    album given again with another -o (the default one) had its stems separated as songs: only
    output folders above the folder given were looked for, not the folder itself nor one
    inside it (-o album/stems)."""
    songs = touch("album/one.wav", "album/two.mp3")
    for song in songs:
        stems_of(f"album/htdemucs/{song.stem}")
    stems_of("album/stems/htdemucs/one", "flac")
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")]) == (songs, [])
    assert "album: left out 12 file(s) that look like stems of an earlier run" in caplog.text


def test_a_song_named_like_a_stem_alone_is_a_song():
    """A song named vocals.mp3 alone in its folder was left out ("this folder holds nothing but
    1 file(s) that look like stems"), for its path matched {model}/{track}/{stem}.{ext} from
    the folder above; and mix.wav too, beside another song, in the window, whose templates
    looked for stems exported beside each song. Only the stems of one export, together, are
    left out."""
    alone = touch("solo/demo/drums.wav", "solo/live/crowd.wav", "solo/live/vocals.mp3")
    assert find_tracks([Path("solo")]) == (alone, [])
    songs = touch("album/mix.wav", "album/one.wav")
    assert find_tracks([Path("album")], template="{stem}.{ext}") == (songs, [])


def test_the_stems_of_one_export_together_are_left_out(caplog):
    """Their path from an output folder matches a template, and so does another's with only
    the stem changed: of another format (exported twice), of two-stem mode (no_vocals), beside
    the song they were made from (which kept them as songs), or at a pace."""
    stems_of("album/htdemucs/one", "wav", ("vocals", "mix"))
    stems_of("album/htdemucs/one", "flac", ("drums",))
    stems_of("album", "wav", ("one_vocals", "one_no_vocals"))
    stems_of("album/tiny", "mp3", ("vocals 80%", "drums 80%"))
    one, two = touch("album/one.wav", "album/two.wav")
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        paced = [Path("album/tiny/drums 80%.mp3"), Path("album/tiny/vocals 80%.mp3")]
        assert find_tracks([Path("album")], template="{track}_{stem}.{ext}") == (
            [one, *paced, two],
            [],
        )
        halves = [Path("album/one_no_vocals.wav"), Path("album/one_vocals.wav")]
        assert find_tracks([Path("album")], template="{model}/{stem}.{ext}") == (
            [one, *halves, two],
            [],
        )
    assert "album: left out 5 file(s)" in caplog.text
