"""Carrying out an export: check the targets, ask before replacing files, write on a thread.

``ExportRunner`` (GUI thread) plans the request of every song with ``stemgui.export.plan`` and
asks once before any existing file is replaced; ``ExportTask`` then writes the songs one after
the other through ``stemgui.export.export`` (atomic writes: a failed song leaves none of its new
files) on a Python thread and reports back with signals, so a long song never freezes the
window. One song's export is a batch of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from stemgui.ui.elided import counted

logger = logging.getLogger(__name__)

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


def _model(job: Any) -> str:
    return job.model_name or "model"


def existing_targets(songs: Sequence[SongExport]) -> list[Path]:
    """The files the exports of ``songs`` would replace, once every request is checked.

    Raises:
        ExportError: bad template, unknown stem, two stems on one file, a stem on the song
            itself, or two songs' stems on one file (songs of one name from two folders).
    """
    from stemgui.errors import ExportError
    from stemgui.export.exporter import plan

    owners: dict[str, Any] = {}  # case-folded: Windows and macOS names ignore case
    existing: list[Path] = []
    for job, request in songs:
        targets = plan(replace(request, overwrite=True), job.stemset.names, job.path, _model(job))
        for _name, path in targets:
            key = os.path.normcase(os.path.abspath(path)).casefold()
            other = owners.setdefault(key, job)
            if other is not job:
                raise ExportError(
                    path,
                    f"the stems of {other.path} and of {job.path} would both be written here; "
                    "put {track} in the file names, or export beside each song",
                )
            if not os.path.lexists(path):  # a link to nothing is asked about too
                continue
            with contextlib.suppress(OSError):  # the song gone meanwhile: nothing to replace
                if os.path.samefile(path, job.path):  # vocals.wav exported as {stem}.{ext}
                    raise ExportError(path, "is the song itself; choose another folder or template")
            existing.append(path)
    return existing


def confirm_targets(
    songs: Sequence[SongExport], confirm: Callable[[str], bool]
) -> list[SongExport] | None:
    """``songs`` checked against the disk; if files exist, ``confirm(message)`` decides, once.

    Returns the songs to write (their requests with ``overwrite`` set when the user agreed),
    or None when the user declined to replace files.

    Raises:
        ExportError: as ``existing_targets``.
    """
    existing = existing_targets(songs)
    if existing and not all(request.overwrite for _job, request in songs):
        listed = "\n".join(str(p) for p in existing[:8])
        more = f"\n… and {len(existing) - 8} more" if len(existing) > 8 else ""
        if not confirm(f"{counted(len(existing), 'file')} exist already:\n{listed}{more}"):
            return None
        songs = [(job, replace(request, overwrite=True)) for job, request in songs]
    return list(songs)


class ExportTask(QObject):
    """Writes the exports of one or more songs, one after the other, on a Python thread.

    The stems are taken when the task is made: a song retried or removed meanwhile is written
    as it was when the export was asked for.

    Signals:
        song_started(index, total, title): writing the ``index``-th song (from 1) began.
        done(job, paths): the files written for ``job``.
        failed(title, message): what went wrong with that song, in words (nothing of its
            export is left behind); the songs after it are still written.
        ended(): every song was written, failed, or skipped after ``stop()``.
    """

    song_started = Signal(int, int, str)
    done = Signal(object, list)
    failed = Signal(str, str)
    ended = Signal()

    def __init__(self, songs: Sequence[SongExport]) -> None:
        super().__init__()
        self.songs = [(job, job.stemset, request) for job, request in songs]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stemgui-export", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Skip the songs not begun yet (the one being written is finished)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task has ended; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            for index, (job, stemset, request) in enumerate(self.songs, 1):
                if self._stop.is_set():
                    left = [str(job.path) for job, _stemset, _request in self.songs[index - 1 :]]
                    logger.warning("export stopped; not exported: %s", ", ".join(left))
                    break
                self.song_started.emit(index, len(self.songs), job.title)
                self._write(job, stemset, request)
        finally:
            self.ended.emit()

    def _write(self, job: Any, stemset: Any, request: Any) -> None:
        from stemgui.errors import StemguiError
        from stemgui.export.exporter import export

        try:
            written = export(stemset, request, job.path, _model(job))
        except StemguiError as error:
            logger.warning("export of %s failed: %s", job.path, error)
            self.failed.emit(job.title, str(error))
        except Exception as error:  # a bug: say so rather than lose the message on a thread
            logger.exception("export of %s failed unexpectedly", job.path)
            self.failed.emit(job.title, f"unexpected error: {error}; details are in the log file")
        else:
            self.done.emit(job, [Path(p) for p in written])


class ExportRunner(QObject):
    """Starts exports for the window and keeps them until they end.

    Args:
        confirm: asked with a message before existing files are replaced; True replaces.

    Signals:
        started(what): writing began: the song's title, or "12 songs".
        progress(message): a song of a batch begins ("Exporting 3 of 12: title…").
        finished(job, paths): the files written for ``job``.
        failed(message): why an export did not happen or did not complete, in words; for a
            batch, once at the end, naming each song that failed.
        ended(songs, files, total): a batch ended: how many of the
            ``total`` songs were written, and how many files.
        declined(): the user chose not to replace files; nothing was written.
    """

    started = Signal(str)
    progress = Signal(str)
    finished = Signal(object, list)
    failed = Signal(str)
    ended = Signal(int, int, int)
    declined = Signal()

    def __init__(self, confirm: Callable[[str], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.confirm = confirm
        self.tasks: list[ExportTask] = []

    def start(self, job: Any, request: Any) -> ExportTask | None:
        """Write ``request`` for ``job`` (a finished queue ``Job``) on a thread."""
        return self.start_songs([(job, request)], batch=False)

    def start_songs(self, songs: Sequence[SongExport], batch: bool = True) -> ExportTask | None:
        """Write each (job, request) of ``songs`` on a thread, one song after the other.

        ``batch``: say each song's progress, collect the failures and end with ``ended``
        (False: one song's export, said by ``started``, ``finished`` or ``failed`` alone).

        Returns the running task, or None when nothing is written: a bad request (``failed``)
        or the user declined to replace files (``declined``).
        """
        from stemgui.errors import StemguiError

        try:
            confirmed = confirm_targets(songs, self.confirm)
        except StemguiError as error:
            logger.warning("export refused: %s", error)
            self.failed.emit(str(error))
            return None
        if confirmed is None:
            self.declined.emit()
            return None
        task = ExportTask(confirmed)
        failures: list[str] = []
        written = [0, 0]  # songs, files

        def song_started(index: int, total: int, title: str) -> None:
            if batch:
                self.progress.emit(f"Exporting {index} of {total}: {title}…")

        def done(job: Any, paths: list[Path]) -> None:
            written[0] += 1
            written[1] += len(paths)
            self.finished.emit(job, paths)

        def failed(title: str, message: str) -> None:
            if batch:
                failures.append(f"{title}: {message}")
            else:
                self.failed.emit(message)

        def ended() -> None:
            self.tasks.remove(task)
            if batch:
                self.ended.emit(written[0], written[1], len(confirmed))
                if failures:
                    self.failed.emit(
                        f"{len(failures)} of {counted(len(confirmed), 'song')} were not exported. "
                        + "; ".join(failures)
                    )

        task.song_started.connect(song_started)
        task.done.connect(done)
        task.failed.connect(failed)
        task.ended.connect(ended)
        self.tasks.append(task)
        self.started.emit(counted(len(confirmed), "song") if batch else confirmed[0][0].title)
        task.start()
        return task

    def wait_all(self) -> None:
        """Let running exports finish the song they are writing (under temporary names) and
        skip the rest (the window is closing)."""
        for task in list(self.tasks):
            task.stop()
            task.wait()
