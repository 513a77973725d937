"""Before an export writes anything: every song's targets checked, one question about files
that exist already.

``check_targets`` plans each song's request with ``stemgui.export.plan`` and refuses the songs
that cannot be written (a bad template, a stem on the song itself, files another song of the
batch writes); ``confirm_targets`` asks once, for all the songs, before existing files are
replaced.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from stemgui.ui.elided import counted

SongExport = tuple[Any, Any]
"""(a finished queue ``Job``, the ``ExportRequest`` to write for it)."""


def ask_overwrite(parent: QWidget | None, existing: str) -> bool:
    """Ask whether to replace existing files."""
    answer = QMessageBox.question(
        parent,
        "Replace existing files?",
        f"{existing}\n\nReplace them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def model_of(job: Any) -> str:
    """The model's name for ``{model}`` in a job's file names."""
    return job.model_name or "model"


def check_targets(songs: Sequence[SongExport]) -> tuple[list[SongExport], list[Path], list[str]]:
    """Every song's request checked before anything is written: (the songs that can be
    written, the files they would replace, why each other song cannot: "title: reason").

    A song is refused for a bad template, an unknown stem, two stems on one file, a stem on the
    song itself, or files another song of the list writes already (songs of one name from two
    folders, or one song separated two ways).
    """
    from stemgui.errors import ExportError
    from stemgui.export.exporter import plan

    owners: dict[str, Any] = {}  # case-folded: Windows and macOS names ignore case
    writable: list[SongExport] = []
    existing: list[Path] = []
    refused: list[str] = []
    for job, request in songs:
        try:
            targets = plan(
                replace(request, overwrite=True), job.stemset.names, job.path, model_of(job)
            )
            keys = [os.path.normcase(os.path.abspath(path)).casefold() for _name, path in targets]
            for key, (_name, path) in zip(keys, targets, strict=True):
                if key in owners:
                    raise ExportError(path, _clash(owners[key], job))
            replaced = [path for _name, path in targets if os.path.lexists(path)]  # links too
            for path in replaced:
                with contextlib.suppress(OSError):  # the song gone meanwhile: nothing to replace
                    if os.path.samefile(path, job.path):  # vocals.wav exported as {stem}.{ext}
                        raise ExportError(
                            path, "is the song itself; choose another folder or template"
                        )
        except ExportError as error:
            refused.append(f"{job.title}: {error}")
            continue
        owners.update(dict.fromkeys(keys, job))
        writable.append((job, request))
        existing += replaced
    return writable, existing, refused


def _clash(first: Any, second: Any) -> str:
    if first.path == second.path:
        return (
            f"{second.path.name} is in the queue twice, separated two ways, and both would "
            "be written here; export each with File ▸ Export stems, into folders of their own"
        )
    return (
        f"the stems of {first.path} would be written here too (songs of one name); export "
        "beside each song, or rename one of them"
    )


def confirm_targets(
    songs: Sequence[SongExport], confirm: Callable[[str], bool]
) -> tuple[list[SongExport] | None, list[str]]:
    """``songs`` checked against the disk; if files exist, ``confirm(message)`` decides, once.

    Returns (the songs to write, their requests with ``overwrite`` set when the user agreed,
    or None when the user declined to replace files; why each other song cannot be written).
    """
    writable, existing, refused = check_targets(songs)
    if existing and not all(request.overwrite for _job, request in writable):
        listed = "\n".join(str(p) for p in existing[:8])
        more = f"\n… and {len(existing) - 8} more" if len(existing) > 8 else ""
        exist = "exists" if len(existing) == 1 else "exist"
        if not confirm(f"{counted(len(existing), 'file')} {exist} already:\n{listed}{more}"):
            return None, refused
        writable = [(job, replace(request, overwrite=True)) for job, request in writable]
    return writable, refused
