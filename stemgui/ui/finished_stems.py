"""The stems of finished songs in the queue: reused, parked in the stem cache, let go.

The same file separated again with the same options takes the stems of the row that made them
(``cache_key``, ``separated_before``): a song added again shares its first row's stems. A
finished song off screen reads its stems from the stem cache, memory-mapped, and frees its own
copy (``park``). A song's scratch file is deleted once no row holds its stems (``let_go_of``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stemgui.ui.queue import Job, JobState
from stemgui.ui.scratch import delete_scratch_file
from stemgui.ui.separation_options import SeparationOptions


def cache_key(path: Path, options: SeparationOptions) -> tuple | None:
    """What makes two separations give the same stems: the file (path, size, time) and options.

    None when the file cannot be read (the worker reports why).
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, options)


def separated_before(jobs: Iterable[Job], key: tuple | None) -> Job | None:
    """A finished job whose stems were made from the same file with the same options."""
    if key is None:
        return None
    for job in jobs:
        if job.state is JobState.DONE and job.cache_key == key and job.stemset is not None:
            return job
    return None


def taken_from(earlier: Job) -> dict[str, Any]:
    """What a song added again takes from the row that separated it (``separated_before``):
    its stems, their waveforms and model, and where they are kept."""
    return {
        "stemset": earlier.stemset,
        "waveforms": earlier.waveforms,
        "model_name": earlier.model_name,
        "kept": earlier.kept,
        "stem_entry": earlier.stem_entry,
    }


def sharing(job: Job, jobs: Iterable[Job]) -> list[Job]:
    """The rows of ``jobs`` holding ``job``'s stems (a song added again shares its first
    row's), ``job`` among them."""
    if job.stemset is None:
        return [job]
    return [row for row in jobs if row.stemset is job.stemset and row is not job] + [job]


def park(job: Job, jobs: list[Job], cache: Any, scratch_dir: Path | None) -> bool:
    """Let a finished song that is not on screen read its stems from the stem ``cache``
    (memory-mapped, clean pages the system can drop) and free its own copy; True if so.
    ``jobs``: the queue's.

    Without this every finished song in the queue keeps its stems in RAM (or in a scratch
    file) for the whole session.
    """
    # the song added again shares the stems of its first row, which has the cache entry:
    # the rows go together (the window parks none of them while one is on screen)
    rows = sharing(job, jobs)
    entry = next((row.stem_entry for row in rows if row.stem_entry), "")
    if job.state is not JobState.DONE or not entry or cache is None:
        return False
    if _mapped_from(job.stemset, Path(cache.root) / entry):
        return False  # parked before (or answered from there): nothing to free
    hit = cache.get(entry)
    if hit is None or job.stemset is None or hit.names != job.stemset.names:
        return False  # gone from the cache, or two-stem mode (made from other stems)
    parked = hit.stemset()
    if parked.data.shape != job.stemset.data.shape:
        return False
    if job.waveforms is not None:
        job.waveforms.rebind(parked)
    previous = job.stemset
    for row in rows:  # each keeps its entry: shown again, its player reads it (``entry_of``)
        row.stemset, row.stem_entry = parked, entry
    let_go_of(previous, jobs, scratch_dir)
    return True


def _mapped_from(stemset: Any, folder: Path) -> bool:
    """Whether ``stemset``'s stems are the files of the stem cache entry in ``folder``."""
    name = getattr(getattr(stemset, "data", None), "filename", None)
    return name is not None and Path(name).parent == Path(os.path.abspath(folder))


def let_go_of(stemset: Any, jobs: Iterable[Job], scratch_dir: Path | None) -> None:
    """Delete the scratch file of ``stemset`` once no row of ``jobs`` holds it (a song added
    again shares the stems of its first row: removing that row deleted the other's file)."""
    if not any(row.stemset is stemset for row in jobs):
        delete_scratch_file(stemset, scratch_dir)
