"""Scratch stems: the files that hold long songs' stems and mixes off the RAM while the app runs.

Each run has a folder of its own, ``<user cache>/stemgui/stems/run-<pid>-<random>``: the
worker writes a long song's stems there (``np.memmap``) and its mix beside them (decoding a long
song at another rate spills there first: ``stemgui.audio.decode``'s ``scratch``), the controller
deletes a song's files once no job needs them and the whole folder at shutdown, and the next
start removes the folders of runs that were killed (``stemgui.ui.startup``): the run holds a
lock file in its folder (``stemgui.run_folders``) from the moment it makes it, so that a killed
run's folder goes though another process has its id since. Nothing here touches Qt.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from stemgui.folders import remove_tree
from stemgui.run_folders import OwnerLock, dead_run_folders, owner_lock

logger = logging.getLogger(__name__)

PREFIX = "run-"

_owners: dict[Path, OwnerLock | None] = {}  # this run's folders -> their lock (None: not held)
_owners_lock = threading.Lock()  # the worker's thread and the restore thread make files


def scratch_root() -> Path:
    """The folder holding every run's scratch stems: ``<user cache>/stemgui/stems``."""
    import platformdirs

    return platformdirs.user_cache_path("stemgui", appauthor=False) / "stems"


def default_scratch_dir() -> Path:
    """A folder of its own for this run, under ``scratch_root()``."""
    return scratch_root() / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def made_scratch_dir(folder: Path) -> Path:
    """``folder``, this run's scratch folder, made if need be (here only, for stems and for a
    song being decoded alike) and its lock file held by this process until
    ``remove_scratch_dir``; a lock that cannot be taken is logged, and the folder told by its
    process id alone.

    Raises OSError: the folder cannot be made.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _owners_lock:
        if folder not in _owners:
            _owners[folder] = owner_lock(folder)
    return folder


def remove_scratch_dir(folder: Path) -> None:
    """Let go of ``folder``'s lock (``made_scratch_dir``) and delete it with all it holds, at
    shutdown; what cannot be deleted is logged (``remove_tree``)."""
    with _owners_lock:
        owner = _owners.pop(folder, None)
    if owner is not None:
        owner.release()  # first: an open file is not deleted on Windows
    remove_tree(folder)


def mix_file(stems_file: Path) -> Path:
    """Where a long song's mix goes: beside its stems."""
    return stems_file.with_name(f"{stems_file.stem}-mix.f32")


def delete_scratch_file(stemset: Any, scratch_dir: Path | None, *, mix: bool = True) -> None:
    """Delete the files under ``scratch_dir`` that hold ``stemset`` (its stems, and a long
    song's mix unless ``mix`` is False: the two stems made from it share it), once no job needs
    them. A view still mapped keeps working (POSIX); on Windows a file cannot be deleted while
    mapped and stays until the scratch folder goes at shutdown."""
    arrays = (getattr(stemset, "data", None), getattr(stemset, "mix", None) if mix else None)
    for array in arrays:
        name = getattr(array, "filename", None)
        if name is None or scratch_dir is None or Path(name).parent != Path(scratch_dir):
            continue  # in RAM, or a stem cache entry
        try:
            Path(name).unlink()
        except OSError as error:
            logger.info("scratch file %s stays until shutdown: %s", name, error)


def dead_scratch_folders(root: Path) -> list[Path]:
    """The ``run-<pid>-*`` folders in ``root`` whose process is gone: the id runs no process,
    or one that does not hold the folder's lock (an older version's, without one: its id
    alone says)."""
    return dead_run_folders(root, PREFIX)
