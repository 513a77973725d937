"""One download of a model file at a time: ``only_download`` holds an operating-system lock on
``<dest>.lock`` (``flock``; ``msvcrt.locking`` on Windows) against other processes and threads.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stemgui.separation.download_errors import DownloadError, not_saved

LOCK_SUFFIX = ".lock"


@contextmanager
def only_download(dest: Path, label: str) -> Iterator[None]:
    """Hold an operating-system lock on ``<dest>.lock`` while ``dest`` downloads.

    Two stemgui windows fetching one model appended to the same ``.part`` file: the second
    wrote on after the first had renamed it into place, leaving a damaged file counted as
    downloaded. The system drops the lock when its holder ends, killed or not, so a lock is
    never stale; another thread of this process is refused too. The lock file stays (empty).

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
        except OSError:
            raise DownloadError(
                dest,
                f"{dest.name}, a file of model {label}, is being downloaded already (for "
                "another model that shares it, or by another stemgui window or command); wait "
                "for it to finish, then try again",
            ) from None
        try:
            yield
        finally:
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
