"""Folders named after the run that uses them, ``<prefix><pid>-<random>``, and how a later start
tells those of dead runs: a spool (``stemgui.spool``), the app's scratch stems
(``stemgui.ui.scratch``).

A process id alone does not say: after a reboot (or enough runs) another process, this one even,
may have a dead run's id, and its folder (gigabytes for a long song) stayed for as long as that
process ran. The run holds a lock file in its folder (``OwnerLock``), which the system lets go of
as the process ends, however it ends; a folder whose process id runs no process, or whose lock
no live process holds, is dead (``dead_run_folders``). A folder without a lock file (made by an
older version, or on a file system that takes no locks: ``owner_lock``) is told by its process
id alone. Nothing here touches Qt or numpy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_NAME = "owner.lock"
"""The lock file in a run's folder, held by the process that uses the folder (``OwnerLock``)."""
LOCKING_SECONDS = 60.0
"""A lock file younger than this may not be locked yet by the process that made it."""

_warned: set[str] = set()
"""The folders holding run folders where no lock could be taken, said once each (``owner_lock``)."""


class OwnerLock:
    """The lock file ``LOCK_NAME`` in ``folder``, held by this process until ``release`` (or
    its end: the system lets go of a dead process's locks), so that a folder named after a
    process id is told apart from that of a dead run whose id another process has since:
    ``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows.

    Raises OSError: the file cannot be made or locked.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._fd: int | None = os.open(Path(folder) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(self._fd)
        except OSError:
            self.release()
            raise

    def release(self) -> None:
        """Let go of the lock (idempotent); the file stays, for the folder's remover."""
        if self._fd is not None:
            os.close(self._fd)  # which lets go of its lock
            self._fd = None


def owner_lock(folder: str | os.PathLike[str]) -> OwnerLock | None:
    """An ``OwnerLock`` of ``folder``, or None where it cannot be taken (a file system that
    takes no locks: some network and FUSE ones), logged (a warning once per folder holding it
    in this process: the stem cache makes one at every store; then at debug level), and its lock
    file removed (one left unlocked would say the folder is a dead run's): the folder is then
    told by its process id alone, as an older version's."""
    try:
        return OwnerLock(folder)
    except OSError as error:
        where = os.path.normcase(os.path.abspath(Path(folder).parent))
        level = logging.DEBUG if where in _warned else logging.WARNING
        _warned.add(where)
        logger.log(level, "%s is told by its process id alone, no lock taken: %s", folder, error)
        with contextlib.suppress(OSError):
            (Path(folder) / LOCK_NAME).unlink()
        return None


def _lock(fd: int) -> None:
    """Lock the file open as ``fd`` now, or raise OSError (another process holds it)."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # its first byte, at position 0
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def lock_held(folder: Path) -> bool:
    """Whether ``folder``'s lock file is held by a live process (this one too, through another
    ``OwnerLock``), or may be about to be: there is none (an older version's folder), or it
    was made less than ``LOCKING_SECONDS`` ago (its process may not have locked it yet)."""
    path = folder / LOCK_NAME
    try:
        if time.time() - path.stat().st_mtime < LOCKING_SECONDS:
            return True
        fd = os.open(path, os.O_RDWR)
    except OSError:  # none, or none this process may open: told by the process id alone
        return True
    try:
        _lock(fd)
    except OSError:
        return True
    finally:
        os.close(fd)  # and the lock, if taken
    return False


def dead_run_folders(root: Path, prefix: str) -> list[Path]:
    """The ``<prefix><pid>-*`` folders in ``root`` of dead runs, sorted: the process id runs no
    process, or one that does not hold the folder's lock (``lock_held``). A ``root`` missing
    or not to be read gives []."""
    from stemgui.audio.atomic import process_alive  # the audio package: not at import

    try:
        entries = sorted(root.iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:  # not a folder, not to be read: nothing to tell
        logger.warning("could not look for the folders of dead runs in %s: %s", root, error)
        return []
    found = []
    for entry in entries:
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not entry.name.startswith(prefix) or not pid_text.isdigit() or not entry.is_dir():
            continue
        if not process_alive(int(pid_text)) or not lock_held(entry):
            found.append(entry)
    return found
