"""Carrying out an export: check the targets, ask before replacing files, write on a thread.

``ExportRunner`` (GUI thread) plans a request with ``stemgui.export.plan`` and asks before any
existing file is replaced; ``ExportTask`` then writes it through ``stemgui.export.export``
(atomic writes: a failed export leaves none of its new files) on a Python thread and reports
back with signals, so a long song never freezes the window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

logger = logging.getLogger(__name__)


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


def confirm_targets(
    stemset: Any,
    request: Any,
    track: Path,
    model_name: str,
    confirm: Callable[[str], bool],
) -> Any:
    """``request`` checked against the disk; if files exist, ``confirm(message)`` decides.

    Returns the request to write (with ``overwrite`` set when the user agreed), or None when
    the user declined to replace files.

    Raises:
        ExportError: bad template, unknown stem, two stems on one file, a stem on the song.
    """
    from dataclasses import replace

    from stemgui.errors import ExportError
    from stemgui.export.exporter import plan

    targets = plan(replace(request, overwrite=True), stemset.names, track, model_name)
    existing = [path for _name, path in targets if path.exists()]
    for path in existing:  # vocals.wav exported beside itself as {stem}.{ext}
        with contextlib.suppress(OSError):  # the song gone meanwhile: nothing to replace
            if os.path.samefile(path, track):
                raise ExportError(path, "is the song itself; choose another folder or template")
    if existing and not request.overwrite:
        listed = "\n".join(str(p) for p in existing[:8])
        more = f"\n… and {len(existing) - 8} more" if len(existing) > 8 else ""
        if not confirm(f"{len(existing)} file(s) exist already:\n{listed}{more}"):
            return None
        request = replace(request, overwrite=True)
    return request


class ExportTask(QObject):
    """Writes one export on a Python thread; the result comes back as a signal.

    Signals:
        done(paths): the files written.
        failed(message): what went wrong, in words (nothing of this export is left behind).
    """

    done = Signal(list)
    failed = Signal(str)

    def __init__(self, stemset: Any, request: Any, track: Path, model_name: str) -> None:
        super().__init__()
        self._args = (stemset, request, track, model_name)
        self._thread = threading.Thread(target=self._run, name="stemgui-export", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the files are written; True if the task has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        from stemgui.errors import StemguiError
        from stemgui.export.exporter import export

        try:
            written = export(*self._args)
        except StemguiError as error:
            logger.warning("export failed: %s", error)
            self.failed.emit(str(error))
        except Exception as error:  # a bug: say so rather than lose the message on a thread
            logger.exception("export failed unexpectedly")
            self.failed.emit(f"unexpected error: {error}; details are in the log file")
        else:
            self.done.emit([Path(p) for p in written])


class ExportRunner(QObject):
    """Starts exports for the window and keeps them until they end.

    Args:
        confirm: asked with a message before existing files are replaced; True replaces.

    Signals:
        started(title): writing began.
        finished(job, paths): the files written for ``job``.
        failed(message): why an export did not happen or did not complete, in words.
        declined(): the user chose not to replace files; nothing was written.
    """

    started = Signal(str)
    finished = Signal(object, list)
    failed = Signal(str)
    declined = Signal()

    def __init__(self, confirm: Callable[[str], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.confirm = confirm
        self.tasks: list[ExportTask] = []

    def start(self, job: Any, request: Any) -> ExportTask | None:
        """Write ``request`` for ``job`` (a finished queue ``Job``) on a thread.

        Returns the running task, or None when nothing is written: a bad request (``failed``)
        or the user declined to replace files (``declined``).
        """
        from stemgui.errors import StemguiError

        model = job.model_name or "model"
        try:
            request = confirm_targets(job.stemset, request, job.path, model, self.confirm)
        except StemguiError as error:
            logger.warning("export refused: %s", error)
            self.failed.emit(str(error))
            return None
        if request is None:
            self.declined.emit()
            return None
        task = ExportTask(job.stemset, request, job.path, model)
        task.done.connect(lambda paths: self._done(job, task, paths))
        task.failed.connect(lambda message: self._failed(task, message))
        self.tasks.append(task)
        self.started.emit(job.title)
        task.start()
        return task

    def wait_all(self) -> None:
        """Let running exports finish (their files are written under temporary names)."""
        for task in list(self.tasks):
            task.wait()

    def _done(self, job: Any, task: ExportTask, paths: list[Path]) -> None:
        self.tasks.remove(task)
        self.finished.emit(job, paths)

    def _failed(self, task: ExportTask, message: str) -> None:
        self.tasks.remove(task)
        self.failed.emit(message)
