"""One download of a model file at a time: ``only_download`` holds an operating-system lock on
``<dest>.lock`` (``flock``; ``msvcrt.locking`` on Windows) against other processes and threads.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from stemgui.separation.download_errors import DownloadError, not_saved

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
# The lock is held by another: flock's EWOULDBLOCK, msvcrt.locking's EACCES. Anything else
# (ENOLCK, EOPNOTSUPP: a share whose file system has no locks) was said as "being downloaded
# already" too, and no download there could ever start.
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK}
_TRIES = 3  # opening again after the lock file was removed under us


@contextmanager
def only_download(dest: Path, label: str, drop: bool = False) -> Iterator[None]:
    """Hold an operating-system lock on ``<dest>.lock`` while ``dest`` downloads.

    Two stemgui windows fetching one model appended to the same ``.part`` file: the second
    wrote on after the first had renamed it into place, leaving a damaged file counted as
    downloaded. The system drops the lock when its holder ends, killed or not, so a lock is
    never stale; another thread of this process is refused too. The lock file stays (empty),
    unless ``drop``: then its holder removes it before letting go, once the body has run
    (``download.drop_partials``, the partial download of a file no longer published gone).
    Nobody waits on a lock (it is tried once), and one who opened the lock file before it
    was removed and locks it after finds it no longer at its name and opens the new one
    (``_locked``), so two never hold the name at once. Where the system cannot remove an
    open file (Windows) it stays. Where the file system has no locks (some network shares),
    the download goes on without, and the lock file stays.

    Raises:
        DownloadError: another download of ``dest`` holds it, or the lock cannot be written.
    """
    path = dest.with_name(dest.name + LOCK_SUFFIX)
    handle, locked = _locked(path, dest, label)
    with handle:
        try:
            yield
            if drop and locked:
                _remove(path)
        finally:
            if locked:
                _unlock(handle)


def _locked(path: Path, dest: Path, label: str) -> tuple[BinaryIO, bool]:
    """The lock file ``path`` open, and whether it is locked (False: no locks there)."""
    for _ in range(_TRIES):
        try:
            handle = open(path, "a+b")  # noqa: SIM115
        except OSError as exc:  # a read-only folder
            raise not_saved(dest, label, exc) from exc
        try:
            _lock(handle)
        except OSError as exc:
            if exc.errno not in _HELD:  # a file system without locks (a network share's)
                logger.warning("%s cannot be locked (%s); downloading without", handle.name, exc)
                return handle, False
            handle.close()
            raise _being_downloaded(dest, label) from None
        if _at_its_name(handle, path):
            return handle, True
        _unlock(handle)  # removed by its holder meanwhile: the one at its name now
        handle.close()
    raise _being_downloaded(dest, label)


def _at_its_name(handle: BinaryIO, path: Path) -> bool:
    """Whether the file open as ``handle`` is still the one at ``path`` (not removed)."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError as exc:  # open, on Windows: it stays, as it would have
        logger.debug("the lock file %s stays: %s", path, exc)


def _being_downloaded(dest: Path, label: str) -> DownloadError:
    return DownloadError(
        dest,
        f"{dest.name}, a file of model {label}, is being downloaded already (for another "
        "model that shares it, or by another stemgui window or command); wait for it to "
        "finish, then try again",
    )


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # OSError when held

    def _unlock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError when held

    def _unlock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
