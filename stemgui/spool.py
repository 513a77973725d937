"""Temporary files of a separation run: stems spooled to disk, and leftovers of killed runs.

A 60-minute song has 5 GB of float32 stems (4 stems, stereo, 44.1 kHz). Above
``SPOOL_THRESHOLD_SECONDS`` the separator writes them into a :class:`StemSpool`: an ``np.memmap``
in a private temporary folder (``stemgui-spool-<pid>-*`` under the system's temporary folder),
removed when the spool is closed, whatever happened. While the separator fills it, ``release``
hands the pages of finished frames back to the kernel (they stay in the file), so the process's
resident memory stays bounded; the exporter then reads the stems through the mapping, letting
go of each block's pages (``stemgui.audio.stream.stem_reader``).

A run killed outright (SIGKILL, power cut) leaves two kinds of leftovers, both removed by
:func:`clean_leftovers` the next time stemgui starts:

- ``.<name>.<pid>-<random>.stemgui-part`` files beside the outputs it was writing
  (``stemgui.audio.atomic``): the command line cleans its output folder at start, as deep as
  its file name template writes; the app must call ``clean_leftovers(folder)`` at start-up for
  its default output folder and before an export into a folder;
- spool folders whose process is gone: its id runs no process, or the process that has it
  now (a run after a reboot, say) does not hold the folder's lock file
  (``stemgui.run_folders.OwnerLock``).
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from stemgui.audio.atomic import clean_stale_parts
from stemgui.folders import remove_tree
from stemgui.run_folders import OwnerLock, dead_run_folders, owner_lock
from stemgui.sizes import in_words

logger = logging.getLogger(__name__)

SPOOL_THRESHOLD_SECONDS = 300.0
"""Songs longer than this (5 minutes: 420 MB of stems) have their stems spooled to disk."""
SPOOL_PREFIX = "stemgui-spool-"
STALE_PART_SECONDS = 60.0
"""A temporary export file that names no writer (an older version's), untouched this long,
belongs to no running write; one that names its process is kept while that process runs."""
_RELEASE_BYTES = 64 << 20  # release finished pages every 64 MiB of stems


_NO_ROOM = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}  # none on Windows


def reserved_memmap(path: str | os.PathLike[str], shape: tuple[int, ...]) -> np.memmap:
    """A new float32 ``np.memmap`` file of ``shape`` whose disk space is taken now.

    A memmap over a sparse file finds a full disk only when a page is written, and then the
    process dies of SIGBUS without a word (a long song's spool on a small /tmp did). The space
    is reserved with ``posix_fallocate`` where the system has it, else checked against the free
    space.

    Raises:
        FileError: not enough free space there, naming the folder, the need and what is free.
    """
    from stemgui.errors import FileError

    path = Path(path)
    nbytes = int(np.prod(shape)) * 4
    with open(path, "wb") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, max(nbytes, 1))
            full = False
        except (AttributeError, OSError) as error:  # no fallocate here, or on that file system
            no_room = getattr(error, "errno", None) in _NO_ROOM
            full = no_room or shutil.disk_usage(path.parent).free < nbytes
    if full:
        path.unlink(missing_ok=True)  # first: a failed fallocate may keep what it took (ext4)
        free = shutil.disk_usage(path.parent).free  # what there is, for the message
        # the command line's spool is in TMPDIR; the app's stems are in the user cache folder
        temporary = path.parent.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
        raise FileError(
            path.parent,
            f"not enough free space for this song's stems ({in_words(nbytes)} needed, "
            f"{in_words(free)} free); free some space on that disk"
            + (", or set TMPDIR to a folder on a bigger disk" if temporary else ""),
        )
    return np.memmap(path, dtype=np.float32, mode="r+", shape=shape)


def release_pages(array: np.ndarray, start: int, stop: int, *, flush: bool = True) -> None:
    """Drop from this process's memory the pages of frames [start, stop) of a float32
    ``np.memmap`` of rows of frames ((sources, channels, frames) stems, (channels, frames) a
    mix); they come back from its file when read again (a shared file mapping keeps written
    pages in the page cache: ``flush=False`` spares the GUI thread the wait for the disk).
    Does nothing for an array in RAM, for a view of a memmap (its place in the mapping is
    not known), or for a copy-on-write one (``mode="c"``: its changed pages are its own, and
    letting go of them would throw the changes away)."""
    handle = getattr(array, "_mmap", None)
    if (
        handle is None
        or array.base is not handle  # a view, not the memmap numpy made
        or getattr(array, "mode", None) == "c"
        or not hasattr(handle, "madvise")
        or not hasattr(mmap, "MADV_DONTNEED")
    ):
        return
    start, stop = max(int(start), 0), min(int(stop), array.shape[-1])
    if stop <= start:
        return
    if flush:
        array.flush()
    frames = array.shape[-1]
    rows = array.size // frames if frames else 0
    page = mmap.PAGESIZE
    head = int(array.offset) % mmap.ALLOCATIONGRANULARITY  # where the array starts in the map
    for row in range(rows):
        first = (head + (row * frames + start) * 4) // page * page
        last = (head + (row * frames + stop) * 4) // page * page
        if last > first:
            handle.madvise(mmap.MADV_DONTNEED, first, last - first)


def release_outside(array: np.ndarray, keep: Sequence[tuple[int, int]], stop: int) -> None:
    """``release_pages`` (without flushing) of frames [0, stop) of ``array`` but those of the
    ``keep`` ranges (start, stop): what the player keeps around its playhead."""
    released = 0
    for keep_start, keep_stop in sorted(keep):
        release_pages(array, released, min(keep_start, stop), flush=False)
        released = max(released, keep_stop)
    release_pages(array, released, stop, flush=False)


def release_done(array: np.ndarray, released: int, frames_ready: int, *, flush: bool = True) -> int:
    """``release_pages`` of frames [released, frames_ready) of a memmap a separation fills (or
    a reader reads), every 64 MiB and at the end; returns the frames released so far. Cheap to
    call after every chunk. Rows of frames of any shape: stems, a mix."""
    frames = array.shape[-1]
    frames_ready = min(int(frames_ready), frames)
    rows = array.size // frames if frames else 0
    if (frames_ready - released) * rows * 4 < _RELEASE_BYTES and frames_ready < frames:
        return released
    release_pages(array, released, frames_ready, flush=flush)
    return frames_ready


class StemSpool:
    """A (sources, channels, frames) float32 ``np.memmap`` in a temporary folder of its own.

    Use as a context manager: the folder and file are removed on exit, on success, error or
    cancel. ``array`` is the memmap to pass as the separator's ``out=``; ``mix_array`` puts the
    song's mix beside it.
    """

    def __init__(self, shape: tuple[int, int, int], folder: str | os.PathLike[str] | None = None):
        """Raises FileError: its folder cannot be made there (a temporary folder gone or
        read-only, a stale TMPDIR), or the disk has no room for it (``reserved_memmap``)."""
        from stemgui.errors import FileError

        parent = Path(folder if folder is not None else tempfile.gettempdir())
        try:
            made = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=parent)
        except OSError as error:  # was said as an unexpected error, naming a file of it
            why = "it cannot be written" if os.path.isdir(parent) else "no such folder"
            raise FileError(
                parent,
                f"this song's temporary files cannot be made there ({why}); make that folder "
                "or let it be written, or set TMPDIR to another folder",
            ) from error
        self.folder = Path(made)
        self.path = self.folder / "stems.f32"
        # a dead run's spool: a lock no one holds
        self._owner: OwnerLock | None = owner_lock(self.folder)
        try:
            self.array: np.ndarray | None = reserved_memmap(self.path, shape)
        except BaseException:
            if self._owner is not None:
                self._owner.release()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.mix: np.ndarray | None = None
        self._released = self._mix_released = 0
        logger.debug("spooling %s stems to %s", shape, self.path)

    def mix_array(self, shape: tuple[int, int]) -> np.ndarray:
        """A new memmap in the spool's folder for the song's mix, (channels, frames): what
        ``decode`` writes the song into (its ``allocate``)."""
        self.mix = None  # a first call's, dropped by the decoder
        self.mix = reserved_memmap(self.folder / "mix.f32", shape)
        self._mix_released = 0
        return self.mix

    def release(self, frames_ready: int) -> None:
        """Drop from this process's memory the pages of frames [0, frames_ready), once they are
        final (the data stays in the file). Cheap to call after every chunk."""
        if self.array is not None:
            self._released = release_done(self.array, self._released, frames_ready)
        if self.mix is not None:  # read by the separator: what is behind it goes too
            self._mix_released = release_done(
                self.mix, self._mix_released, frames_ready, flush=False
            )

    def close(self) -> None:
        """Unmap and delete the spool (idempotent)."""
        for array in (self.array, self.mix):
            handle = getattr(array, "_mmap", None)
            if handle is not None:
                try:
                    handle.close()
                except BufferError:  # a view still exists; the GC unmaps it later
                    logger.debug("spool %s still referenced; unmapped later", self.folder)
        self.array = self.mix = None
        if self._owner is not None:  # first: an open file is not removed on Windows
            self._owner.release()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> StemSpool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def clean_stale_spools(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove spool folders (in ``folder``, default the temporary folder) of dead processes:
    the process id in its name runs none, or one that does not hold its lock (``OwnerLock``:
    a run since, or this very one, has the dead run's id)."""
    removed = _removed(dead_run_folders(Path(folder or tempfile.gettempdir()), SPOOL_PREFIX))
    for entry in removed:
        logger.info("removed the spool of an interrupted run: %s", entry)
    return removed


def remove_own_spools(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove this process's spool folders (in ``folder``, default the temporary folder), as it
    ends: one a daemon thread still fills (a stem dragged at a pace as the app quits) would
    stay until the next start, in RAM where the temporary folder is a tmpfs. A file still mapped
    goes all the same (the mapping outlives its name); where the system refuses (Windows), the
    next start's ``clean_stale_spools`` removes it."""
    return _removed(Path(folder or tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}{os.getpid()}-*"))


def _removed(spools: Iterable[Path]) -> list[Path]:
    """Delete the ``spools`` folders; those that went (what cannot be deleted is logged)."""
    removed = []
    for entry in spools:
        remove_tree(entry)
        if not os.path.lexists(entry):
            removed.append(entry)
    return removed


def clean_leftovers(
    folder: str | os.PathLike[str],
    older_than: float = STALE_PART_SECONDS,
    depth: int | None = None,
    spools: bool = True,
) -> list[Path]:
    """Remove temporary export files under ``folder`` of runs that are gone
    (``clean_stale_parts``), and spool folders of dead processes (unless ``spools`` is
    False: the caller removes them once, ``clean_stale_spools``). Returns the paths removed.

    ``depth``: the folders looked in go that many levels below ``folder`` (0: itself alone),
    the deepest a file name template writes at; None: every level (an output folder such as
    ``~/Music`` holds a whole library, walked for seconds)."""
    removed: list[Path] = []
    top = len(Path(folder).parts)
    for root, dirs, _files in os.walk(folder):
        if depth is not None and len(Path(root).parts) - top >= depth:
            dirs.clear()  # deeper than the template writes: no export of it left a file there
        removed.extend(clean_stale_parts(root, older_than=older_than))
    if spools:
        removed.extend(clean_stale_spools())
    return removed
