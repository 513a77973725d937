"""Before an export writes anything: every song's targets checked, one question about files
that exist already.

``check_targets`` plans each song's request with ``stemgui.export.plan`` and refuses the songs
that cannot be written (a bad template, a stem on the song itself, files another song of the
batch or an export still running writes); ``confirm_targets`` asks once, for all the songs,
what to do with the files that exist already (``ask_existing``: Replace, Skip existing, Cancel).
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from stemgui.ui.elided import counted

SongExport = tuple[Any, Any]
"""(a finished queue ``Job``, the ``ExportRequest`` to write for it)."""


class Existing(enum.Enum):
    """What to do with the files of an export that exist already."""

    REPLACE = "replace"  # write every file, the existing ones replaced
    SKIP = "skip"  # keep them as they are; write the missing ones
    CANCEL = "cancel"  # write nothing


def ask_existing(parent: QWidget | None, existing: str) -> Existing:
    """Ask once what to do with existing files: Replace, Skip existing (the default: nothing
    is lost, and an album exported again after a cancel writes what is missing) or Cancel."""
    box = QMessageBox(QMessageBox.Icon.Question, "Files exist already", "", parent=parent)
    box.setText(f"{existing}\n\nReplace them, or keep them and write only the missing files?")
    replace_button = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    skip_button = box.addButton("Skip existing", QMessageBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(skip_button)
    box.setEscapeButton(cancel_button)
    box.exec()
    clicked = box.clickedButton()
    if clicked is replace_button:
        return Existing.REPLACE
    return Existing.SKIP if clicked is skip_button else Existing.CANCEL


def model_of(job: Any) -> str:
    """The model's name for ``{model}`` in a job's file names."""
    return job.model_name or "model"


def check_targets(
    songs: Sequence[SongExport], running: Sequence[SongExport] = ()
) -> tuple[list[SongExport], list[Path], list[str]]:
    """Every song's request checked before anything is written: (the songs that can be
    written, the files they would replace, why each other song cannot: "title: reason").

    A song is refused for a bad template, an unknown stem, two stems on one file, a stem on the
    song itself, or files another song of the list writes already (songs of one name from two
    folders, or one song separated two ways), or one of the exports still ``running`` (whose
    files are not there yet to be asked about).
    """
    from stemgui.errors import ExportError
    from stemgui.export.planning import plan

    owners: dict[str, Any] = {}  # case-folded: Windows and macOS names ignore case
    for job, request in running:
        with contextlib.suppress(ExportError):  # changed on disk meanwhile: its export says so
            targets = plan(
                replace(request, overwrite=True), job.stemset.names, job.path, model_of(job)
            )
            owners.update(dict.fromkeys(map(_key, (path for _name, path in targets)), RUNNING))
    writable: list[SongExport] = []
    existing: list[Path] = []
    refused: list[str] = []
    for job, request in songs:
        try:
            targets = plan(
                replace(request, overwrite=True), job.stemset.names, job.path, model_of(job)
            )
            keys = [_key(path) for _name, path in targets]
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


RUNNING = object()
"""The owner of the files of an export still running, in ``check_targets``."""


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path)).casefold()


def _clash(first: Any, second: Any) -> str:
    if first is RUNNING:
        return "the export still running writes this file too; export again once it has ended"
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
    songs: Sequence[SongExport],
    ask: Callable[[str], Existing],
    running: Sequence[SongExport] = (),
) -> tuple[list[SongExport] | None, list[str], int]:
    """``songs`` checked against the disk and the exports still ``running``; if files exist,
    ``ask(message)`` decides, once.

    Returns (the songs to write, their requests with ``overwrite`` or ``skip_existing`` set as
    the user answered, or None when the user cancelled; why each other song cannot be written;
    how many existing files are kept as they are).
    """
    writable, existing, refused = check_targets(songs, running)
    if not existing or all(request.overwrite for _job, request in writable):
        return writable, refused, 0
    listed = "\n".join(str(p) for p in existing[:8])
    more = f"\n… and {len(existing) - 8} more" if len(existing) > 8 else ""
    exist = "exists" if len(existing) == 1 else "exist"
    answer = ask(f"{counted(len(existing), 'file')} {exist} already:\n{listed}{more}")
    if answer is Existing.CANCEL:
        return None, refused, 0
    skip = answer is Existing.SKIP
    flag = {"skip_existing": True} if skip else {"overwrite": True}
    return (
        [(job, replace(request, **flag)) for job, request in writable],
        refused,
        len(existing) if skip else 0,
    )
