"""Deleting a stem cache entry whole or not at all (``stemgui.stemcache``: evicted, cleared):
renamed to a temporary name first (``set_aside``, under the cache's lock), then deleted outside
it (seconds for a long song's stems), and put back where nothing of it could go, under the lock
(``delete_set_aside``). A folder set aside is named apart from an unfinished write
(``is_set_aside``): nothing reads it, so what a run killed mid-delete left of one is removed at
the next start whatever its process id (``StemCache._open``)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from stemgui.audio.atomic import is_part, part_path_for
from stemgui.folders import remove_tree
from stemgui.stemcache_entry import ENTRY_FILE, folder_bytes

logger = logging.getLogger(__name__)

ASIDE_PREFIX = "deleted-"
"""Put before the entry's name in the temporary name it is set aside under (``set_aside``)."""


def delete_all(
    folders: Callable[[], list[Path]], lock: contextlib.AbstractContextManager[object]
) -> tuple[int, int, int]:
    """Delete the entries that ``folders()`` lists, each whole or not at all: (entries deleted,
    bytes freed, entries that could not be deleted).

    Under ``lock`` (the cache's) they are listed and renamed to temporary names (``set_aside``:
    no entries any more) all at once, then deleted outside it (seconds for long songs' stems),
    so a store meanwhile does not wait for that: it finds none of them (never a hit of an entry
    about to go), and the new entry it renames into place is none of them. Deleted file by file
    under its own name, an entry whose stems could not go (on Windows, memory-mapped by a song
    of the queue) stayed without its entry.json and mix, read by no song again; on Windows a
    folder with a file open cannot be renamed either: it stays whole. One of which nothing
    could be deleted (a read-only folder) is put back (``delete_set_aside``); of what stays of
    one partly deleted, nothing is an entry (a later start removes it: ``StemCache._open``).
    What cannot be deleted is logged (``remove_tree``)."""
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
) -> list[tuple[str, Path, int]]:
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


def is_set_aside(path: Path) -> bool:
    """Whether ``path`` is the temporary name of an entry set aside to be deleted
    (``set_aside``): garbage, whatever process named it; an unfinished write is not."""
    return is_part(path) and path.name.startswith(f".{ASIDE_PREFIX}")


def set_aside(folder: Path) -> Path | None:
    """Rename the entry in ``folder`` to a temporary name (``is_part``, and ``is_set_aside``:
    no entry any more); that name, or None where it cannot be renamed (logged, unless another
    run sharing the cache deleted it: ``folder`` is not there)."""
    aside = part_path_for(folder.with_name(ASIDE_PREFIX + folder.name))
    try:
        os.rename(folder, aside)
    except OSError as error:
        if os.path.lexists(folder):  # on Windows, a file open in it: it stays whole
            logger.warning("could not delete %s: %s", folder, error)
        return None
    return aside


def delete_set_aside(
    aside: Path,
    folder: Path,
    size: int,
    lock: contextlib.AbstractContextManager[object] | None = None,
) -> int | None:
    """Delete the entry of ``folder`` set aside in ``aside`` (``size`` bytes as an entry): the
    bytes left of it (0: all went), or None where nothing of it went (a read-only folder) and
    it is renamed back to ``folder``, whole again, under ``lock`` (the cache's, if any). Where that
    name is taken (stored again meanwhile by another run: logged), all of it is left."""
    remove_tree(aside)
    left = folder_bytes(aside)
    if left != size or not os.path.isfile(aside / ENTRY_FILE):
        return left
    with lock or contextlib.nullcontext():
        try:
            os.rename(aside, folder)
        except OSError as error:
            logger.warning("could not put %s back as %s: %s", aside, folder, error)
            return size
    return None
