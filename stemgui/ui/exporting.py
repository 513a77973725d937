"""Carrying out an export: check the targets, ask before replacing files, write on a thread.

``ExportRunner`` (GUI thread) has the targets of every song checked and asked about once
(``stemgui.ui.export_targets``); ``ExportTask`` then writes the songs one after
the other through ``stemgui.export.export`` (atomic writes: a failed song leaves none of its new
files) on a Python thread and reports back with signals, so a long song never freezes the
window. One song's export is a batch of one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from stemgui.errors import out_of_memory
from stemgui.ui.elided import counted
from stemgui.ui.export_targets import Existing, SongExport, confirm_targets, model_of
from stemgui.ui.messages import unexpected

logger = logging.getLogger(__name__)


class ExportTask(QObject):
    """Writes the exports of one or more songs, one after the other, on a Python thread.

    The stems are taken when the task is made: a song retried or removed meanwhile is written
    as it was when the export was asked for.

    Each song ends in exactly one of ``done``, ``failed`` or ``cancelled``.

    Attributes:
        frames: each song's frames to write (of its part, ``ExportRequest.span``; at least
            1), how much of the work it is.

    Signals:
        song_started(index, total, title): writing the ``index``-th song (from 1) began.
        progress(fraction): how far the song being written is, 0 to 1, after every block.
        done(job, paths): the files written for ``job`` (none: they all existed, and the
            request said to skip them).
        failed(title, message): what went wrong with that song, in words (nothing of its
            export is left behind); the songs after it are still written.
        cancelled(title): ``cancel()`` stopped that song's export (none of its files stays);
            the songs after it are skipped.
        ended(): every song was written, failed, or skipped after ``stop()`` or ``cancel()``.
    """

    song_started = Signal(int, int, str)
    progress = Signal(float)
    done = Signal(object, list)
    failed = Signal(str, str)
    cancelled = Signal(str)
    ended = Signal()

    def __init__(self, songs: Sequence[SongExport]) -> None:
        from stemgui.export.planning import part_frames

        super().__init__()
        # each file tagged with its song's tempo and key (at the pace of the files)
        self.songs = [
            (job, job.stemset, replace(request, analysis=job.analysis)) for job, request in songs
        ]
        self.frames = [
            max(part_frames(stemset, request.span)[1], 1) for _job, stemset, request in self.songs
        ]
        self.ended_songs = 0  # songs done, failed or cancelled (on the task's thread)
        self._stop = threading.Event()
        self._cancel = threading.Event()  # looked at by the exporter before every block
        self._thread = threading.Thread(target=self._run, name="stemgui-export", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Skip the songs not begun yet (the one being written is finished)."""
        self._stop.set()

    def cancel(self) -> None:
        """Stop now: the song being written stops at its next block, and none of its files
        stays; the songs not begun yet are skipped; those written already stay."""
        self._cancel.set()
        self._stop.set()

    @property
    def cancelling(self) -> bool:
        """``cancel()`` was called."""
        return self._cancel.is_set()

    @property
    def songs_left(self) -> list[tuple[Any, Any, Any]]:
        """The (job, stemset, request) of the songs not ended yet: the one being written and
        those after it."""
        return self.songs[self.ended_songs :]

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
                self.ended_songs = index
        finally:
            self.ended.emit()

    def _write(self, job: Any, stemset: Any, request: Any) -> None:
        from stemgui.errors import ExportCancelled, StemguiError
        from stemgui.export.exporter import export

        try:
            written = export(
                stemset, request, job.path, model_of(job), self.progress.emit, self._cancel
            )
        except ExportCancelled as error:
            logger.info("%s", error)
            self.cancelled.emit(job.title)
        except StemguiError as error:
            logger.warning("export of %s failed: %s", job.path, error)
            # a file written meanwhile by another program: the app's own words, as the command
            # line puts its --overwrite there
            self.failed.emit(job.title, str(error).replace("allow overwriting", "choose Replace"))
        except MemoryError:  # numpy's too, allocating a block: the machine's, not a bug
            logger.exception("export of %s: out of memory", job.path)
            ways = "Close other programs, or export fewer stems at once or a part of the song"
            self.failed.emit(job.title, out_of_memory(job.path, "export this song", ways))
        except Exception as error:  # a bug: say so rather than lose the message on a thread
            logger.exception("export of %s failed unexpectedly", job.path)
            self.failed.emit(job.title, unexpected(job.path, error))
        else:
            self.done.emit(job, [Path(p) for p in written])


class ExportRunner(QObject):
    """Starts exports for the window and keeps them until they end.

    Args:
        ask: asked with a message when files exist already; answers Replace, Skip existing
            or Cancel (``export_targets.Existing``).

    Signals:
        started(what): writing began: the song's title, or "12 songs".
        progress(message): how far the export is, each time its percent changes
            ("Exporting 3 of 12: title… 45%", the song's percent; "Exporting title… 45%");
            with exports running at once, one percent for all their songs ("Exporting 5
            songs… 45%") rather than each one's in turn, and said again at once after an
            outcome (``finished``, ``failed``, ``cancelled``, ``ended``) while others run:
            the outcome's words take the status line once, not until the next percent.
        finished(job, paths): the files written for ``job``.
        failed(message): why an export did not happen or did not complete, in words; for a
            batch, once at the end, naming each song that failed.
        ended(songs, files, total, left_out, kept): a batch ended: how many of its ``total``
            songs were written, and how many files; the titles of the songs left out; how
            many existing files were kept (Skip existing).
        cancelled(message): ``cancel()`` stopped the export; what was written and what not.
        declined(): the user chose Cancel when asked about existing files; nothing was written.
        running(on): whether any export is running now (File ▸ Cancel export).
        mended(): an export begun after the last ``failed`` wrote its files: that failure is
            mended (one still running when it was said mends nothing: its banner stays).
    """

    started = Signal(str)
    progress = Signal(str)
    finished = Signal(object, list)
    failed = Signal(str)
    ended = Signal(int, int, int, list, int)
    cancelled = Signal(str)
    declined = Signal()
    running = Signal(bool)
    mended = Signal()

    def __init__(self, ask: Callable[[str], Existing], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ask = ask
        self.tasks: list[ExportTask] = []
        self._failures = 0  # how many times ``failed`` was emitted
        # each running task's song being written: (what, songs ended before it, its fraction);
        # what is None between two songs of a batch (the next one's start says it)
        self._writing: dict[ExportTask, tuple[str | None, int, float]] = {}
        self._said = ""  # the progress said last
        self.failed.connect(self._count_failure)

    def start(
        self, job: Any, request: Any, on_written: Callable[[], None] | None = None
    ) -> ExportTask | None:
        """Write ``request`` for ``job`` (a finished queue ``Job``) on a thread."""
        return self.start_songs([(job, request)], batch=False, on_written=on_written)

    def start_songs(
        self,
        songs: Sequence[SongExport],
        batch: bool = True,
        left_out: Sequence[str] = (),
        on_written: Callable[[], None] | None = None,
    ) -> ExportTask | None:
        """Write each (job, request) of ``songs`` on a thread, one song after the other.

        ``batch``: say each song's progress, write the songs that can be when others cannot,
        collect the failures and end with ``ended`` (False: one song's export, said by
        ``started``, ``finished`` or ``failed`` alone). ``left_out``: the titles of the songs
        of a batch that had nothing to export, for ``ended`` to name. ``on_written()``: called
        on the GUI thread once, when the files of a song are in place (never if none are).

        Returns the running task, or None when nothing is written: no song can be (``failed``)
        or the user cancelled when asked about existing files (``declined``).
        """
        # the songs a running batch has written already are files like any others
        running = [(job, req) for task in self.tasks for job, _stems, req in task.songs_left]
        confirmed, failures, kept = confirm_targets(songs, self.ask, running)
        if confirmed is None:
            self.declined.emit()
            return None
        if failures and (not batch or not confirmed):
            logger.warning("export refused: %s", "; ".join(failures))
            title = f"{songs[0][0].title}: " if len(songs) == 1 else ""
            self.failed.emit("; ".join(failure.removeprefix(title) for failure in failures))
            return None
        task = ExportTask(confirmed)
        failures_before = self._failures
        total = len(songs)
        written = [0, 0]  # songs, files
        cut: list[str] = []  # the song a cancel stopped in the middle

        def song_started(index: int, count: int, title: str) -> None:
            what = f"{index} of {count}: {title}" if batch else title
            self._writing[task] = (what, index - 1, 0.0)
            self._say_progress()

        def progress(fraction: float) -> None:
            if task in self._writing:
                self._writing[task] = (*self._writing[task][:2], fraction)
                self._say_progress()

        def done(job: Any, paths: list[Path]) -> None:
            written[0] += 1
            written[1] += len(paths)
            if written[0] == 1 and on_written is not None:
                on_written()
            self.finished.emit(job, paths)
            if self._failures == failures_before:
                self.mended.emit()
            self._song_ended(task, said=True)

        def failed(title: str, message: str) -> None:
            if batch:
                failures.append(f"{title}: {message}")
            else:
                self.failed.emit(message)
            self._song_ended(task, said=not batch)

        def ended() -> None:
            self.tasks.remove(task)
            self._writing.pop(task, None)
            if not self.tasks:
                self._said = ""  # the next export says its 0 %
                self.running.emit(False)
            stopped = task.cancelling and written[0] + len(failures) < total
            if not batch and not stopped:
                return
            if failures:  # first: the summary's status line comes after the banner
                self.failed.emit(
                    f"{len(failures)} of {counted(total, 'song')} could not be exported. "
                    + "; ".join(failures)
                )
            if stopped:
                left = cut[:1]  # the song stopped in the middle, and those not begun
                if written[0] + len(failures) + len(cut) < total:
                    left.append("the rest")
                self.cancelled.emit(
                    f"{written[0]} of {counted(total, 'song')} exported; "
                    f"{' and '.join(left)} left out"
                    if batch
                    else "no file was written"
                )
            else:
                self.ended.emit(written[0], written[1], total, list(left_out), kept)
            self._say_again()

        task.song_started.connect(song_started)
        task.progress.connect(progress)
        task.done.connect(done)
        task.failed.connect(failed)
        task.cancelled.connect(cut.append)
        task.ended.connect(ended)
        self.tasks.append(task)
        self.running.emit(True)
        self.started.emit(counted(len(confirmed), "song") if batch else confirmed[0][0].title)
        task.start()
        return task

    def _say_progress(self) -> None:
        """Say the percent of the song being written, or with exports running at once, of all
        their songs, each weighing its frames (those ended count whole), when the words
        change."""
        if len(self._writing) == 1:
            ((what, _ended, fraction),) = self._writing.values()
            if what is None:  # between two songs of a batch
                return
            message = f"Exporting {what}… {int(fraction * 100)}%"
        else:
            songs = sum(len(task.songs) for task in self._writing)
            frames = sum(sum(task.frames) for task in self._writing)
            done = sum(
                sum(task.frames[:ended]) + fraction * task.frames[ended]
                for task, (_what, ended, fraction) in self._writing.items()
            )
            message = f"Exporting {counted(songs, 'song')}… {int(done / frames * 100)}%"
        if message != self._said:
            self._said = message
            self.progress.emit(message)

    def _song_ended(self, task: ExportTask, said: bool) -> None:
        """``task``'s song being written ended (its last: the task writes no more); ``said``:
        its outcome took the status line, which the exports still running then say again."""
        if task not in self._writing:
            return
        _what, ended, _fraction = self._writing[task]
        if ended + 1 < len(task.songs):
            self._writing[task] = (None, ended + 1, 0.0)
        else:
            del self._writing[task]
        if said and any(other is not task for other in self._writing):
            self._say_again()

    def _say_again(self) -> None:
        """Say the progress of the exports still running, the same words too: an outcome
        took the status line meanwhile."""
        if self._writing:
            self._said = ""
            self._say_progress()

    def _count_failure(self, _message: str) -> None:
        self._failures += 1

    def cancel(self) -> None:
        """Stop every running export at its next block (File ▸ Cancel export): the songs
        written already stay, nothing of the one being written does, the rest are skipped."""
        for task in list(self.tasks):
            task.cancel()

    def wait_all(self) -> None:
        """Let running exports finish the song they are writing (under temporary names) and
        skip the rest (the window is closing)."""
        for task in list(self.tasks):
            task.stop()
            task.wait()
