"""Scratch stems: the files that hold long songs' stems and mixes off the RAM while the app runs.

Each run has a folder of its own, ``<user cache>/stemgui/stems/run-<pid>-<random>``: the
worker writes a long song's stems there (``np.memmap``) and its mix beside them, the controller
deletes a song's files once no job needs them and the whole folder at shutdown, and the next
start removes the folders of runs that were killed (``stemgui.ui.startup``). Nothing here
touches Qt.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "run-"


def scratch_root() -> Path:
    """The folder holding every run's scratch stems: ``<user cache>/stemgui/stems``."""
    import platformdirs

    return platformdirs.user_cache_path("stemgui", appauthor=False) / "stems"


def default_scratch_dir() -> Path:
    """A folder of its own for this run, under ``scratch_root()``."""
    return scratch_root() / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"


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
    """The ``run-<pid>-*`` folders in ``root`` whose process is gone."""
    from stemgui.spool import process_alive  # it imports the audio package: not with the controller

    found = []
    try:
        entries = sorted(root.iterdir())
    except FileNotFoundError:
        return []
    for entry in entries:
        pid_text = entry.name[len(PREFIX) :].split("-", 1)[0]
        if not entry.name.startswith(PREFIX) or not pid_text.isdigit():
            continue
        if entry.is_dir() and not process_alive(int(pid_text)):
            found.append(entry)
    return found
