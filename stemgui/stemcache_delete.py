"""Deleting a stem cache entry whole or not at all (``stemgui.stemcache``: evicted, cleared):
moved into a temporary folder first (``set_aside``, under the cache's lock), then deleted outside
it (seconds for a long song's stems), and put back where nothing of it could go, under the lock
(``delete_set_aside``). The temporary folder holds the lock file of the run deleting it
(``run_folders.owner_lock``), as an unfinished write's does: another stemgui starting meanwhile
leaves it alone (it removed it under the run, whatever its process id: an entry of which nothing
could be deleted was gone, not put back), and removes what a run killed mid-delete left once the
lock is let go of, whatever its process id (``StemCache._open``)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stemgui.audio.atomic import part_path_for
from stemgui.folders import remove_tree
from stemgui.run_folders import LOCK_NAME, OwnerLock, owner_lock
from stemgui.stemcache_entry import ENTRY_FILE, folder_bytes

logger = logging.getLogger(__name__)

ASIDE_PREFIX = "deleted-"
"""Put before the entry's name in the name of the temporary folder it is set aside in."""


@dataclass(frozen=True)
class SetAside:
    """An entry set aside to be deleted (``set_aside``): moved, under its name ``key``, into
    ``folder``, a temporary folder holding ``owner``, the lock of the run deleting it (None
    where none could be taken: a file system that takes no locks, a read-only cache folder;
    ``folder`` is then told by the run's process id alone)."""

    folder: Path
    key: str
    owner: OwnerLock | None

    @property
    def entry(self) -> Path:
        """Where the entry is now: in ``folder``, under its own name."""
        return self.folder / self.key

    def let_go(self) -> None:
        """Release the lock, and remove ``folder`` where nothing of the entry is left in it
        (put back, or all deleted). What is left of one partly deleted stays with the lock
        file, let go of: a later start removes it, whatever its process id."""
        if self.owner is not None:
            self.owner.release()  # first: on Windows a lock file held cannot be deleted
        if os.path.lexists(self.entry):
            return
        try:
            (self.folder / LOCK_NAME).unlink(missing_ok=True)
            self.folder.rmdir()
        except OSError as error:
            logger.warning("could not delete %s: %s", self.folder, error)


def delete_all(
    folders: Callable[[], list[Path]], lock: contextlib.AbstractContextManager[object]
) -> tuple[int, int, int]:
    """Delete the entries that ``folders()`` lists, each whole or not at all: (entries deleted,
    bytes freed, entries that could not be deleted).

    Under ``lock`` (the cache's) they are listed and moved into temporary folders
    (``set_aside``: no entries any more) all at once, then deleted outside it (seconds for long
    songs' stems), so a store meanwhile does not wait for that: it finds none of them (never a
    hit of an entry about to go), and the new entry it renames into place is none of them.
    Deleted file by file under its own name, an entry whose stems could not go (on Windows,
    memory-mapped by a song of the queue) stayed without its entry.json and mix, read by no
    song again; on Windows a folder with a file open cannot be moved either: it stays whole.
    One of which nothing could be deleted (a read-only folder) is put back
    (``delete_set_aside``); of what stays of one partly deleted, nothing is an entry (a later
    start removes it: ``StemCache._open``). What cannot be deleted is logged (``remove_tree``).
    """
    deleted = freed = left = 0
    picked = []
    with lock:
        for folder in folders():
            size = folder_bytes(folder)
            aside = set_aside(folder)
            if aside is not None:
                picked.append((folder, aside, size))
            elif os.path.lexists(folder):
                left += 1
            else:  # another run sharing the cache evicted it
                deleted += 1
    for folder, aside, size in picked:
        rest = delete_set_aside(aside, folder, size, lock)
        if rest is None:
            left += 1
        else:
            deleted += 1
            freed += size - rest
    return deleted, freed, left


def set_aside_oldest(
    root: Path,
    entries: list[tuple[int, str, int]],
    room: int,
    stays: set[str | None],
    removed: list[str],
) -> list[tuple[str, SetAside, int]]:
    """Set aside (``set_aside``) the least recently used of the ``entries`` in ``root`` (last
    used, key, bytes) but those in ``stays``, until the others fit ``room`` bytes: (key, where
    it is set aside, bytes) of each. One that cannot be renamed joins ``stays``; one another
    run deleted meanwhile joins ``removed``. Under the cache's lock."""
    total = sum(size for _, _, size in entries)
    picked = []
    for _, key, size in sorted(entries):
        if total <= room:
            break
        if key in stays:
            continue
        aside = set_aside(root / key)
        if aside is not None:
            picked.append((key, aside, size))
        elif os.path.lexists(root / key):
            stays.add(key)
            continue
        else:  # another run sharing the cache evicted it
            removed.append(key)
        total -= size
    return picked


def set_aside(folder: Path) -> SetAside | None:
    """Move the entry in ``folder`` into a temporary folder (``is_part``: no entry any more)
    that holds this run's lock (``SetAside``); None where it cannot be moved (logged, unless
    another run sharing the cache deleted it: ``folder`` is not there)."""
    aside = part_path_for(folder.with_name(ASIDE_PREFIX + folder.name))
    try:
        aside.mkdir()
    except OSError as error:  # a read-only cache folder
        logger.warning("could not delete %s: %s", folder, error)
        return None
    owned = SetAside(aside, folder.name, owner_lock(aside))  # taken before the entry is in it
    try:
        os.rename(folder, owned.entry)
    except OSError as error:
        if os.path.lexists(folder):  # on Windows, a file open in it: it stays whole
            logger.warning("could not delete %s: %s", folder, error)
        owned.let_go()
        return None
    return owned


def delete_set_aside(
    aside: SetAside,
    folder: Path,
    size: int,
    lock: contextlib.AbstractContextManager[object] | None = None,
) -> int | None:
    """Delete the entry of ``folder`` set aside in ``aside`` (``size`` bytes as an entry): the
    bytes left of it (0: all went), or None where nothing of it went (a read-only folder) and
    it is moved back to ``folder``, whole again, under ``lock`` (the cache's, if any). Where that
    name is taken (stored again meanwhile by another run: logged), all of it is left. Either
    way ``aside`` is let go of (``SetAside.let_go``)."""
    try:
        remove_tree(aside.entry)
        left = folder_bytes(aside.entry)
        if left != size or not os.path.isfile(aside.entry / ENTRY_FILE):
            return left
        with lock or contextlib.nullcontext():
            try:
                os.rename(aside.entry, folder)
            except OSError as error:
                logger.warning("could not put %s back as %s: %s", aside.entry, folder, error)
                return size
        return None
    finally:
        aside.let_go()
