"""One download of a model file at a time: ``only_download`` holds an operating-system lock on
``<dest>.lock`` (``flock``; ``msvcrt.locking`` on Windows) against other processes and threads.
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stemgui.separation.download_errors import DownloadError, not_saved

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
# The lock is held by another: flock's EWOULDBLOCK, msvcrt.locking's EACCES. Anything else
# (ENOLCK, EOPNOTSUPP: a share whose file system has no locks) was said as "being downloaded
# already" too, and no download there could ever start.
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK}


@contextmanager
def only_download(dest: Path, label: str) -> Iterator[None]:
    """Hold an operating-system lock on ``<dest>.lock`` while ``dest`` downloads.

    Two stemgui windows fetching one model appended to the same ``.part`` file: the second
    wrote on after the first had renamed it into place, leaving a damaged file counted as
    downloaded. The system drops the lock when its holder ends, killed or not, so a lock is
    never stale; another thread of this process is refused too. The lock file stays (empty).
    Where the file system has no locks (some network shares), the download goes on without.

    Raises:
        DownloadError: another download of ``dest`` holds it, or the lock cannot be written.
    """
    try:
        handle = open(dest.with_name(dest.name + LOCK_SUFFIX), "a+b")  # noqa: SIM115
    except OSError as exc:  # a read-only folder
        raise not_saved(dest, label, exc) from exc
    with handle:
        try:
            _lock(handle)
            locked = True
        except OSError as exc:
            if exc.errno not in _HELD:  # a file system without locks (a network share's)
                logger.warning("%s cannot be locked (%s); downloading without", handle.name, exc)
                locked = False
            else:
                raise DownloadError(
                    dest,
                    f"{dest.name}, a file of model {label}, is being downloaded already (for "
                    "another model that shares it, or by another stemgui window or command); "
                    "wait for it to finish, then try again",
                ) from None
        try:
            yield
        finally:
            if locked:
                _unlock(handle)


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
