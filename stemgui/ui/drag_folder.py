"""The folder stems dragged out of the window are written to (``drag_folder``): made as a drag
needs it (``made_folder``), its files kept a week (``KEEP_SECONDS``) and removed at the next
start after that (``remove_old_drops``, on the start-up cleanup's thread,
``stemgui.ui.startup``). The files themselves are ``stemgui.ui.drag_out``'s."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)

ELSEWHERE = "export it to another folder with File ▸ Export stems…"
"""What a drag that cannot be written says to do besides: a drag has no folder to choose."""

KEEP_SECONDS = 7 * 24 * 3600.0
"""How long a dropped file is kept. A DAW that copies a file into its project at the drop
needs it for a moment; one that plays it where it lies until the project is collected (Ableton
Live before Collect All and Save) needs it for the days the project is worked on. A week's
drags take the disk meanwhile (32-bit float: 21 MB a stereo minute at 44.1 kHz)."""


def drag_folder() -> Path:
    """Where dragged stems are written: ``<user cache>/stemgui/drag``."""
    import platformdirs

    return platformdirs.user_cache_path("stemgui", appauthor=False) / "drag"


def remove_old_drops(folder: Path, older_than: float = KEEP_SECONDS) -> list[Path]:
    """Remove the files in ``folder`` (the drag folder) written more than ``older_than``
    seconds ago; return them. Temporary files of a write are ``clean_stale_parts``'; a missing
    folder gives []; what cannot be removed is logged and left."""
    from stemgui.audio.atomic import is_part

    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    now = time.time()
    for entry in entries:
        path = Path(entry.path)
        try:
            if is_part(path) or not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                continue
            path.unlink()
        except OSError as error:
            logger.warning("could not remove the dragged stem %s: %s", path, error)
            continue
        removed.append(path)
    return removed


def made_folder() -> Path:
    """The drag folder, made if need be.

    Raises:
        ExportError: it cannot be made, with what to do.
    """
    from stemgui.errors import ExportError

    folder = drag_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        todo = (
            f"free some space or {ELSEWHERE}"
            if error.errno == errno.ENOSPC
            else f"move away the file in its place or make {folder.parent} writable"
        )  # else a file in its place, a cache folder not writable
        raise ExportError(
            folder,
            f"the folder dragged stems are written to cannot be made "
            f"({error.strerror or error}); {todo}",
        ) from error
    return folder
