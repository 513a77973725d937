"""Start-up cleanup: what an earlier run killed outright (SIGKILL, power cut) left on disk.

Two kinds of leftovers: temporary export files (``.<name>.<pid>-<random>.stemgui-part``, see
``stemgui.audio.atomic``) in the export folder the settings remember and in the folder stems
are dragged out from, removed by ``stemgui.spool.clean_leftovers`` once the process that wrote
them is gone; the scratch stem folders of dead processes,
``<user cache>/stemgui/stems/run-<pid>-<random>`` (``stemgui.ui.scratch``); and the spools of
dead processes in the temporary folder (``stemgui.spool.clean_stale_spools``: a stem dragged at
a pace is stretched into one on a daemon thread, left there by a crash mid-write, or where the
system refused ``remove_own_spools`` as the app quit). The stems dragged out of the window once
they are a week old go too (``stemgui.ui.drag_folder.remove_old_drops``).

``clean_leftovers`` runs off the GUI thread (``start_cleanup``): walking a large export folder
must not hold up the window. It touches no Qt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from stemgui.folders import remove_tree
from stemgui.spool import STALE_PART_SECONDS
from stemgui.ui.drag_folder import remove_old_drops
from stemgui.ui.scratch import dead_scratch_folders

logger = logging.getLogger(__name__)


def clean_leftovers(
    export_folders: Iterable[Path],
    scratch: Path | None = None,
    older_than: float = STALE_PART_SECONDS,
    dragged: Path | None = None,
) -> list[Path]:
    """Remove stale temporary export files under each of ``export_folders`` (recursively),
    the spools of dead runs in the temporary folder, the scratch folders of dead runs in
    ``scratch`` and the old stems dragged out into ``dragged``; return what was removed.

    A folder that does not exist is skipped; what cannot be removed is logged and left.
    """
    from stemgui import spool

    removed: list[Path] = []
    for folder in export_folders:
        if os.path.isdir(folder):  # Path.is_dir raises on EACCES, a name too long: all stopped
            try:
                removed.extend(spool.clean_leftovers(folder, older_than, spools=False))
            except OSError as error:
                logger.warning("could not clean the temporary files in %s: %s", folder, error)
    # whatever folders there are (a paced drag's, left at quit, after the cache was cleared)
    removed.extend(spool.clean_stale_spools())
    if scratch is not None:
        for folder in dead_scratch_folders(scratch):
            remove_tree(folder)
            if not folder.exists():
                removed.append(folder)
    if dragged is not None:
        removed.extend(remove_old_drops(dragged))
    if removed:
        logger.info("start-up cleanup: removed %d leftover(s) of interrupted runs", len(removed))
    return removed


def start_cleanup(
    export_folders: Iterable[Path],
    scratch: Path | None,
    older_than: float = STALE_PART_SECONDS,
    dragged: Path | None = None,
) -> threading.Thread:
    """Run ``clean_leftovers`` on a daemon thread; returns it (tests join it)."""
    folders = list(export_folders)

    def run() -> None:
        try:
            clean_leftovers(folders, scratch, older_than, dragged)
        except Exception:  # a cleanup bug must not take the app down; it is only tidying
            logger.exception("start-up cleanup failed")

    thread = threading.Thread(target=run, name="stemgui-cleanup", daemon=True)
    thread.start()
    return thread


def start_window_cleanup(export_folder: str) -> threading.Thread:
    """``start_cleanup`` of the window's folders: the export folder its settings remember
    (``export_folder``, as typed in the dialog: "~/Exports" is in the home folder, and one
    without its full path, "stems", is beside each song, which no start-up cleanup looks for),
    the folder stems are dragged out from, and the scratch stems."""
    from stemgui.ui.drag_folder import drag_folder  # where they are at the call (tests move them)
    from stemgui.ui.scratch import scratch_root

    folders = [drag_folder()]
    remembered = Path(os.path.expanduser(export_folder))
    if remembered.is_absolute():
        folders.insert(0, remembered)
    return start_cleanup(folders, scratch_root(), dragged=drag_folder())
