"""Deleting a stem cache entry whole or not at all (``stemgui.stemcache``: evicted, cleared):
renamed to a temporary name first, then deleted, put back where nothing of it could go."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from stemgui.audio.atomic import part_path_for
from stemgui.folders import remove_tree
from stemgui.stemcache_entry import ENTRY_FILE, folder_bytes

logger = logging.getLogger(__name__)


def delete_whole(folder: Path) -> tuple[bool, int]:
    """Delete the entry in ``folder``, whole or not at all: (whether it went, bytes freed).

    It is renamed to a temporary name (``is_part``) first, then deleted: deleted file by file
    under its own name, an entry whose stems could not go (on Windows, memory-mapped by a song
    of the queue) stayed without its entry.json and mix, read by no song again. On Windows a
    folder with a file open cannot be renamed either: it stays whole. One renamed of which
    nothing could be deleted (a read-only folder) is put back; of what stays of one partly
    deleted, nothing is an entry (a later start removes it: ``StemCache._open``). What cannot
    be deleted is logged (``remove_tree``)."""
    size = folder_bytes(folder)
    aside = part_path_for(folder)
    try:
        os.rename(folder, aside)
    except OSError as error:
        if not os.path.lexists(folder):  # another run sharing the cache evicted it
            return True, size
        logger.warning("could not delete %s: %s", folder, error)
        return False, 0
    remove_tree(aside)
    left = folder_bytes(aside)
    if left == size and os.path.isfile(aside / ENTRY_FILE):  # nothing went: whole again
        try:
            os.rename(aside, folder)
        except OSError as error:  # stored again meanwhile by another run
            logger.warning("could not put %s back as %s: %s", aside, folder, error)
        else:
            return False, 0
    return True, size - left
