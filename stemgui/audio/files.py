"""Which files are songs: the extensions :mod:`stemgui.audio.decode` reads, and the songs in the
folders given (searched recursively, in the order a file manager lists them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {
        # libsndfile
        ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".aifc", ".mp3",
        # FFmpeg (PyAV): audio containers
        ".m4a", ".m4b", ".aac", ".wma", ".mka", ".ac3", ".caf", ".wv", ".mp2", ".tta",
        # FFmpeg (PyAV): videos, first audio stream
        ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".wmv",
    }
)  # fmt: skip


def find_audio_files(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> list[Path]:
    """Expand ``paths`` into the songs to process.

    Files are kept as given whatever their extension (decode reports what is wrong with them).
    Folders are searched recursively for files with a supported extension (any case), skipping
    hidden files and folders (names starting with "."), and their finds are sorted by path,
    component by component, ignoring case ("cd1/02.mp3" < "cd2/01.mp3" < "Intro.mp3"). The order of
    ``paths`` is kept and each file appears once, by the first path that reaches it (a link to
    it, or ``sub/../a.wav``, is the same file). A path that does not exist is kept, so that the
    caller reports it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    seen: set[str] = set()

    def add(candidate: Path) -> None:
        key = os.path.realpath(candidate)  # the file: a link to it, or sub/../a.wav, is the same
        if key not in seen:
            seen.add(key)
            found.append(candidate)

    for item in paths:
        path = Path(item)
        if not os.path.isdir(path):  # Path.is_dir raises on a name too long for the disk
            add(path)
            continue
        matches = []
        for root, dirs, files in os.walk(path):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_EXTENSIONS:
                    matches.append(Path(root) / name)
        for match in sorted(matches, key=lambda p: _sort_key(p.relative_to(path))):
            add(match)
    return found


def _sort_key(relative: Path) -> tuple:
    """Folder by folder as a file manager lists them: numbers by value ("2 Song" before "10
    Outro"), ignoring case first ("b.mp3" before "C.mp3"), then exactly."""
    return tuple((_natural(part.casefold()), part) for part in relative.parts)


def _natural(text: str) -> list[str | int]:
    """ "track10a" as ["track", 10, "a"]: text at even places, numbers at odd ones."""
    return [int(run) if i % 2 else run for i, run in enumerate(re.split(r"(\d+)", text))]
