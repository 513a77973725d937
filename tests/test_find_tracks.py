"""``stemgui.cli.batch.find_tracks``, the songs in the folders given to ``stemgui-separate`` and
dropped on the window: which files are songs and which are stems an earlier run or export wrote,
on trees of empty files (nothing is decoded)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stemgui.cli.batch import find_tracks

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
