"""Atomic file writes: a temporary name in the target folder, renamed when complete.

    with atomic_path(target) as part:
        write_everything_to(part)
    # target now exists, complete; on any error it was left untouched and part was removed

The temporary file is ``.<name>.<pid>-<random>.stemgui-part`` beside the target, so the rename
never crosses file systems and a crash leaves only a hidden leftover that
:func:`clean_stale_parts` removes once the process that wrote it is gone. An existing target is
never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

PART_MARKER = ".stemgui-part"
_WRITE_SECONDS = 24 * 3600.0  # no write takes longer; after that its process id is another's


def part_path_for(path: Path) -> Path:
    """A fresh temporary path beside ``path`` (not created), naming this process.

    Its name starts with as much of ``path``'s as fits the file system's limit in bytes
    (``file_system_limits``): any name the target can have, its temporary one can too."""
    tail = f".{os.getpid()}-{secrets.token_hex(4)}{PART_MARKER}"
    room = file_system_limits(path.parent)[0] - len(tail) - 1  # the leading dot
    name = os.fsencode(path.name)[: max(room, 0)].decode("utf-8", errors="ignore")
    return path.with_name(f".{name}{tail}")


def file_system_limits(folder: Path) -> tuple[int, int | None]:
    """(longest name, longest path) in bytes that the file system of ``folder`` takes: 255 and
    None (not known) where it cannot say (Windows, a folder not made yet). A name is counted
    in bytes, not characters: 85 Japanese characters fill 255 bytes."""
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
        path_max = os.pathconf(folder, "PC_PATH_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf on Windows
        return 255, None
    # never over 255: the characters APFS and NTFS allow too; PATH_MAX counts the final NUL
    return min(name_max, 255) if name_max > 0 else 255, path_max - 1 if path_max > 0 else None


def part_pid(path: Path) -> int | None:
    """The id of the process that wrote the temporary ``path``, or None (none in the name)."""
    writer, dash, _ = path.name[: -len(PART_MARKER)].rpartition(".")[2].partition("-")
    named = path.name.endswith(PART_MARKER) and dash and writer.isdigit()
    return int(writer) if named else None


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs now (what a live run owns is never removed)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def is_part(path: Path) -> bool:
    """True for a temporary file written by :func:`atomic_path`."""
    return path.name.startswith(".") and PART_MARKER in path.name


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary Path beside ``path``; rename it onto ``path`` if the block succeeds.

    The block must create the file at the yielded path. If the block raises, the temporary file
    is deleted and the error propagates; ``path`` is not touched. An OSError about the
    temporary file (a read-only folder, a full disk) is raised again naming ``path``: the user
    never chose the hidden name. Raises FileExistsError when ``path`` exists and ``overwrite`` is
    False (checked before the block runs, and again, without a race, at the rename), and
    IsADirectoryError when ``path`` is a folder (before the block).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; name a file in it", str(path))
    if not overwrite and path.exists():
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    part = part_path_for(path)
    try:
        yield part
        _fsync_file(part)
        put_in_place(part, path, overwrite)
        fsync_folder(path.parent)
    except OSError as error:
        remove_quietly(part)
        named = naming_target(error, part, path)
        if named is error:
            raise
        raise named from error
    except BaseException:
        remove_quietly(part)
        raise


def naming_target(error: OSError, part: Path, path: Path) -> OSError:
    """``error`` with ``path`` in the place of the temporary ``part`` it names (the same class,
    errno and reason); ``error`` itself when it names another file."""
    if error.errno is None or error.filename is None:
        return error
    try:
        about_part = os.fspath(error.filename) == os.fspath(part)
    except TypeError:  # a file descriptor, or bytes
        return error
    if not about_part:
        return error
    return OSError(error.errno, error.strerror, str(path))  # OSError picks the subclass


@contextlib.contextmanager
def staged_path(part: Path) -> Iterator[Path]:
    """Yield ``part`` (from ``part_path_for``), which the caller renames into place itself with
    ``put_in_place``, as an export does with all its files once the last is complete: synced
    to disk when the block succeeds, removed when it raises."""
    try:
        yield part
        _fsync_file(part)
    except BaseException:
        remove_quietly(part)
        raise


def put_in_place(part: Path, path: Path, overwrite: bool) -> None:
    """Rename the complete file ``part`` onto ``path``: replacing it only with ``overwrite``
    (FileExistsError otherwise). The caller syncs the folder (``fsync_folder``)."""
    if overwrite:
        os.replace(part, path)
    else:
        _rename_no_replace(part, path)


def abandoned(part: Path, older_than: float = 0.0, now: float | None = None) -> bool:
    """Whether the temporary file or folder ``part`` is left by a write that stopped: at least
    ``older_than`` seconds old, and its process (``part_pid``) gone, or a day old (no write
    takes longer; its id may be another process's by then). Raises OSError from ``stat``."""
    age = (time.time() if now is None else now) - part.stat().st_mtime
    pid = part_pid(part)
    writing = pid is not None and (pid == os.getpid() or process_alive(pid))
    return age >= older_than and not (writing and age < _WRITE_SECONDS)


def clean_stale_parts(folder: str | os.PathLike[str], older_than: float = 0.0) -> list[Path]:
    """Delete temporary files left in ``folder`` (not recursive) by interrupted writes.

    A file is removed once ``older_than`` seconds old, unless the process it names
    (``part_pid``) still runs: an export of several files holds its finished ones until the
    last is done, minutes for a long song's mp3s. That is kept for a day. (A process id of
    another machine writing to a shared folder, or of another container, reads as gone here:
    such a file is spared for ``older_than`` seconds only, as it was before ids were named.)
    Returns the paths removed; a missing folder, or one that cannot be read, gives [] (what
    is written there next says why it cannot be).
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    except OSError as error:  # another user's folder: no cleanup, and no traceback for it
        logger.info("could not look for leftovers in %s: %s", folder, error)
        return removed
    now = time.time()
    for entry in entries:
        if not is_part(entry):
            continue
        try:
            if not entry.is_file() or not abandoned(entry, older_than, now):
                continue
            entry.unlink()
        except OSError as error:
            logger.warning("could not remove leftover %s: %s", entry, error)
            continue
        logger.info("removed leftover %s", entry)
        removed.append(entry)
    return removed


def _rename_no_replace(part: Path, path: Path) -> None:
    """Move ``part`` to ``path`` unless ``path`` exists (FileExistsError then)."""
    try:
        os.link(part, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
    except OSError as error:
        # No hard links on this file system (FAT, some network shares): check, then rename.
        logger.debug("hard link refused (%s), renaming instead", error)
        if path.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
        os.replace(part, path)
        return
    part.unlink()


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows syncing a folder (not Windows)."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as error:
        logger.debug("cannot open %s to sync it: %s", folder, error)
        return
    try:
        os.fsync(descriptor)
    except OSError as error:
        logger.debug("cannot sync %s: %s", folder, error)
    finally:
        os.close(descriptor)


def remove_quietly(part: Path) -> None:
    """Remove a temporary file if it is there; a file that cannot be removed is logged.

    A file that was never made (its folder read-only, or not ours to write in) is nothing to
    remove, although the system refuses the removal (EROFS, EACCES) before looking for it."""
    try:
        part.unlink(missing_ok=True)
    except NotADirectoryError:  # its folder replaced by a file: gone with it
        pass
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and not os.path.lexists(part):
            return
        logger.warning("could not remove temporary file %s: %s", part, error)
