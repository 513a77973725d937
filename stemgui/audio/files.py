"""Which files are songs: the extensions :mod:`stemgui.audio.decode` reads, and the songs in the
folders given (searched recursively, in the order a file manager lists them, named pipes and
the like left out unopened)."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

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

NOT_REGULAR_FILE = "not a regular file (a named pipe, a socket or a device)"
"""What every caller says of a path that ``is_special``, after the path and "is"."""


def find_audio_files(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    on_unread: Callable[[Path, str], None] | None = None,
) -> list[Path]:
    """Expand ``paths`` into the songs to process.

    Files are kept as given whatever their extension (decode reports what is wrong with them).
    Folders are searched recursively for files with a supported extension (any case), skipping
    hidden files and folders (names starting with "."), and their finds are sorted by path,
    component by component, ignoring case ("cd1/02.mp3" < "cd2/01.mp3" < "Intro.mp3"). What a
    folder holds that is not a regular file (``is_special``: a named pipe, which a reader waits
    on for ever) is left out unopened, with a warning, and so is a folder that cannot be read
    (another user's: ``unreadable_folder`` says why, to ``on_unread`` too, with the folder, for
    a window to say it where the log file is not seen), and a link that loops back on itself
    (``link_loop``) or leads to nothing (``link_to_nothing``): said alike; one named as a song
    is kept, for decoding to say it. The
    order of ``paths`` is kept and each file appears once, by the first path that reaches it (a
    link to it, or ``sub/../a.wav``, is the same file). A path that does not exist is kept, so
    that the caller reports it.
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
        unread: list[OSError] = []  # os.walk skips them without a word: their songs missed
        # os.walk lists them as files: a link meant for a folder was left out unsaid
        links: list[tuple[Path, str]] = []
        for root, dirs, files in os.walk(path, onerror=unread.append):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                if Path(name).suffix.lower() in SUPPORTED_EXTENSIONS:
                    matches.append(Path(root) / name)
                elif why := _unfollowable(Path(root) / name):  # a song's: decoding says it
                    links.append((Path(root) / name, why))
        left_out = [(Path(error.filename), unreadable_folder(error)) for error in unread]
        left_out += links
        for where, why in sorted(left_out, key=lambda item: _sort_key(item[0].relative_to(path))):
            logger.warning("%s: left out: %s", where, why)
            if on_unread is not None:
                on_unread(where, why)
        for match in sorted(matches, key=lambda p: _sort_key(p.relative_to(path))):
            if is_special(match):  # one named by itself is refused by decoding, in words
                logger.warning("%s: left out: %s", match, NOT_REGULAR_FILE)
            else:
                add(match)
    return found


def unreadable_folder(error: OSError) -> str:
    """Why a folder cannot be searched, from the error of listing it, and what to do."""
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied; check its permissions"
    return f"cannot be read: {error.strerror or error}"


def link_loop(path: str | os.PathLike[str]) -> str:
    """Why ``path`` cannot be opened when a link on its way loops back on itself (ELOOP: "Too
    many levels of symbolic links"), which link, and what to do: words that follow the path."""
    todo = "give the folder or song it was meant for instead, or fix or remove the link"
    parts = Path(path).parts
    for end in range(1, len(parts) + 1):
        link = Path(*parts[:end])
        try:
            os.stat(link)
        except OSError as error:
            if error.errno != errno.ELOOP:
                break
            loop = f"is a link that loops back on itself (to {os.readlink(link)}); {todo}"
            return loop if end == len(parts) else f"cannot be reached: {link} {loop}"
    return f"cannot be reached: a link on the way loops back on itself; {todo}"


def link_to_nothing(path: str | os.PathLike[str]) -> str:
    """Why the link ``path`` cannot be opened when what it leads to is not there (deleted, or
    on a drive not connected), and what to do: words that follow the path."""
    return f"is a link to {os.readlink(path)}, which does not exist; fix or remove the link"


def _unfollowable(path: Path) -> str:
    """Why ``path`` is a link that cannot be followed (``link_loop``, ``link_to_nothing``),
    or "" for one that can, and for what is not a link."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return link_to_nothing(path) if os.path.islink(path) else ""  # or gone since listed
    except OSError as error:
        return link_loop(path) if error.errno == errno.ELOOP else ""
    return ""


def is_special(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is, or leads to, something other than a regular file: a named pipe, a
    socket, a device (or a folder). Reading a pipe may wait for ever, so it is told without
    opening it. What cannot be told (a link to nothing, a loop, no permission) is not, for
    decoding to say what is wrong."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _sort_key(relative: Path) -> tuple:
    """Folder by folder as a file manager lists them: numbers by value ("2 Song" before "10
    Outro"), ignoring case first ("b.mp3" before "C.mp3"), then exactly."""
    return tuple((_natural(part.casefold()), part) for part in relative.parts)


def _natural(text: str) -> list[str | int]:
    """ "track10a" as ["track", 10, "a"]: text at even places, numbers at odd ones."""
    return [int(run) if i % 2 else run for i, run in enumerate(re.split(r"(\d+)", text))]
