"""Which files are songs: the extensions :mod:`stemgui.audio.decode` reads, and the songs in the
folders given (searched recursively, links to folders and Windows junctions followed, in the
order a file manager lists them, named pipes and the like left out unopened)."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import sys
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

_LOOP_ADVICE = "give the folder or song it was meant for instead, or fix or remove the link"

# Windows' realpath writes a path past the old 260-character limit as \\?\C:\Music\...,
# and one on a share, \\nas\music\..., as \\?\UNC\nas\music\...
_LONG_PREFIX = "\\\\?\\"
_UNC_PREFIX = _LONG_PREFIX + "UNC\\"

NOT_REGULAR_FILE = "not a regular file (a named pipe, a socket or a device)"
"""What every caller says of a path that ``is_special``, after the path and "is"."""


def find_audio_files(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    on_unread: Callable[[Path, str], None] | None = None,
) -> list[Path]:
    """Expand ``paths`` into the songs to process.

    Files are kept as given whatever their extension (decode reports what is wrong with them).
    Folders are searched recursively for files with a supported extension (any case), skipping
    hidden files and folders (names starting with "."), following links to folders (``_Search``: a
    folder reached directly and through a link, or through two, is searched once, where it is or by
    the first link; one that leads to a folder above it, ``link_back``, is a loop), and their finds
    are sorted by path, component by component, ignoring case ("cd1/02.mp3" < "cd2/01.mp3" <
    "Intro.mp3"). What a folder holds that is not a regular file (``is_special``: a named pipe,
    which a reader waits on for ever) is left out unopened, with a warning, and so is a folder that
    cannot be read (another user's: ``unreadable_folder`` says why, to ``on_unread`` too, with the
    folder, for a window to say it where the log file is not seen), and a link that loops back on
    itself (``link_loop``) or leads to nothing (``link_to_nothing``): said alike; one named as a
    song is kept, for decoding to say it. The order of ``paths`` is kept and each file appears once,
    by the first path that reaches it (a link to it, or ``sub/../a.wav``, is the same file). A path
    that does not exist is kept, so that the caller reports it.
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
        search = _Search(path)
        for where, why in sorted(search.left_out, key=lambda item: search.key(item[0])):
            logger.warning("%s: left out: %s", where, why)
            if on_unread is not None:
                on_unread(where, why)
        for match in sorted(search.matches, key=search.key):
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
    parts = Path(path).parts
    for end in range(1, len(parts) + 1):
        link = Path(*parts[:end])
        try:
            os.stat(link)
        except OSError as error:
            if error.errno != errno.ELOOP:
                break
            loop = f"is a link that loops back on itself (to {os.readlink(link)}); {_LOOP_ADVICE}"
            return loop if end == len(parts) else f"cannot be reached: {link} {loop}"
    return f"cannot be reached: a link on the way loops back on itself; {_LOOP_ADVICE}"


def link_back(path: str | os.PathLike[str]) -> str:
    """Why the link ``path`` to a folder is not followed when that folder is above it (holds
    it, holds the folder searched, or was come through on the way): it would be searched
    without end. Said as ``link_loop`` says a loop, with what to do."""
    return (
        f"is a link that loops back to a folder above it (to {os.readlink(path)}); {_LOOP_ADVICE}"
    )


def link_to_nothing(path: str | os.PathLike[str]) -> str:
    """Why the link ``path`` cannot be opened when what it leads to is not there (deleted, or
    on a drive not connected), and what to do: words that follow the path."""
    return f"is a link to {os.readlink(path)}, which does not exist; fix or remove the link"


class _Search:
    """The search of one folder, links to folders followed: ``matches``, the files with a
    supported extension, and ``left_out``, what cannot be searched or followed and why.

    The folder is walked first without the links in it, then the links it holds in file
    manager order, then the links those hold, and so on: a folder reached directly and
    through links is searched once, where it is, and one reached through two links once, by
    the first (``visited``: real paths; a folder's own are its holder's and its name, with no
    call to the disk). A link to a folder above it (``link_back``) is left out, saying so.
    A Windows junction is a link here (``_is_link``): user profiles hold junctions to the
    folders above them ("Application Data"), searched without end as folders.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.matches: list[Path] = []
        self.left_out: list[tuple[Path, str]] = []
        self.visited: set[str] = set()
        # each link to a folder, and the real folders holding it and the links on its way
        self.links: list[tuple[Path, tuple[str, ...]]] = []
        self._walk(os.fspath(folder), _real_folder(folder), ())
        while self.links:
            links, self.links = self.links, []
            for link, holders in sorted(links, key=lambda item: self.key(item[0])):
                real = _real_folder(link)
                if any(_within(holder, real) for holder in holders):
                    self.left_out.append((link, link_back(link)))
                elif real not in self.visited:
                    self._walk(os.fspath(link), real, holders)

    def key(self, path: Path) -> tuple:
        """Where ``path``, found in the folder, comes in file manager order (``_sort_key``)."""
        return _sort_key(path.relative_to(self.folder))

    def _walk(self, start: str, real: str, holders: tuple[str, ...]) -> None:
        """Search ``start``, whose real path is ``real``, and the folders in it not visited;
        links to folders are kept in ``links``, with ``holders`` and the folder holding them."""
        folders = [(start, real)]
        while folders:
            folder, real = folders.pop()
            self.visited.add(real)
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError as error:  # their songs missed: said
                self.left_out.append((Path(folder), unreadable_folder(error)))
                continue
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if _is_folder(entry):
                    if _is_link(entry):
                        self.links.append((Path(entry.path), (*holders, real)))
                    elif (inner := os.path.join(real, name)) not in self.visited:
                        folders.append((entry.path, inner))
                elif os.path.splitext(name)[1].lower() in SUPPORTED_EXTENSIONS:
                    self.matches.append(Path(entry.path))  # a link to nothing: decoding says it
                elif entry.is_symlink() and (why := _unfollowable(Path(entry.path))):
                    self.left_out.append((Path(entry.path), why))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a folder or a link to one; not one that cannot be told (a loop)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_link(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a symbolic link or a Windows junction (``_is_junction``)."""
    return entry.is_symlink() or _is_junction(entry)


def _is_junction(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a Windows junction (a mount point), which ``is_symlink`` does not
    tell though it leads elsewhere as a link does: ``DirEntry.is_junction`` from Python 3.12,
    its reparse tag before; never elsewhere."""
    if hasattr(entry, "is_junction"):
        return entry.is_junction()
    if sys.platform != "win32":
        return False
    try:
        info = os.lstat(entry.path)
    except OSError:  # gone since listed: not searched either way
        return False
    reparse = info.st_file_attributes & stat.FILE_ATTRIBUTE_REPARSE_POINT
    return bool(reparse) and info.st_reparse_tag == stat.IO_REPARSE_TAG_MOUNT_POINT


def _real_folder(path: str | os.PathLike[str]) -> str:
    """The real path of the folder ``path``, as the search compares folders: links followed,
    and the same whether Windows wrote it with its long-path prefix or not (``_unprefixed``)."""
    return _unprefixed(os.path.realpath(path))


def _unprefixed(real: str) -> str:
    r"""``real`` without the ``\\?\`` (``\\?\UNC\``) prefix Windows' ``realpath`` gives a long
    path: the folders inside one reached without it are joined without it, and a link back to
    such a folder was not seen to lead above itself (searched again through it)."""
    if real.startswith(_UNC_PREFIX):
        return "\\\\" + real[len(_UNC_PREFIX) :]
    return real[len(_LONG_PREFIX) :] if real.startswith(_LONG_PREFIX) else real


def _within(inner: str, outer: str) -> bool:
    """Whether the real path ``inner`` is ``outer`` or in it."""
    return inner == outer or inner.startswith(outer if outer.endswith(os.sep) else outer + os.sep)


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
