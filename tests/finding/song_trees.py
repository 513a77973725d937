"""What the song-finding tests (``find_tracks``) share: trees of empty files, made in the test's
own folder (the ``in_tmp`` fixture of tests/conftest.py), so that names are written as given."""

from __future__ import annotations

from pathlib import Path


def touch(*names: str) -> list[Path]:
    """A file of one byte at each of ``names``, its folders made: nothing in it is decoded."""
    paths = [Path(name) for name in names]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return paths


def album_of_one_song() -> Path:
    """``album`` in the working folder, holding one.wav (one byte: nothing in it is decoded) and
    notes.txt (a file that is no song); returns the folder's path."""
    (song,) = touch("album/one.wav")
    (song.parent / "notes.txt").write_text("liner notes")
    return song.parent
