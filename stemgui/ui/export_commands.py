"""The window's exports: File ▸ Export stems… and Export all separated songs….

``ExportCommands`` asks with ``ExportDialog`` (the song on screen, or every separated song of
the queue), hands the songs to its ``ExportRunner`` (``stemgui.ui.exporting``: targets checked
and one question about existing files, ``stemgui.ui.export_targets``; written on a thread) and
says in the status bar and the banner how the export went. It lives on the GUI thread, a child
of the window.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QStandardPaths

from stemgui.ui import settings as S
from stemgui.ui.elided import counted
from stemgui.ui.export_choices import ExportChoices
from stemgui.ui.export_dialog import ExportDialog
from stemgui.ui.export_targets import Existing, ask_existing
from stemgui.ui.exporting import ExportRunner, ExportTask
from stemgui.ui.queue import Job, JobState

if TYPE_CHECKING:
    from stemgui.ui.drag_part import DragPart
    from stemgui.ui.window import MainWindow


def export_folder_of(song: Path) -> Path:
    """Where "beside the song" exports go: the song's folder, or for the demo song (in the
    app's own folder, perhaps read-only once installed) the user's music folder."""
    from stemgui.ui.resources import resources_dir

    if not song.absolute().is_relative_to(resources_dir().absolute()):
        return song.parent
    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    return Path(music or Path.home()) / "stemgui"


class ExportCommands(QObject):
    """Exports started from the window's File menu.

    Args:
        window: the main window: its settings, queue, player and song on screen, and where the
            outcome is said.

    Attributes:
        exporter: the ``ExportRunner`` (the window waits on its tasks when it closes).
        last_export: the files the last finished song's export wrote.
        choices: the ticks of the last export dialog accepted, for the next one to open with
            (``stemgui.ui.export_choices``); None before the first.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.exporter = ExportRunner(lambda message: self.ask_existing(message), window)
        self.last_export: list[Path] = []
        self.choices: ExportChoices | None = None
        self.exporter.started.connect(self._started)
        self.exporter.progress.connect(self._say)
        self.exporter.finished.connect(self._exported)
        self.exporter.ended.connect(self._exported_songs)
        self.exporter.failed.connect(self._export_failed)
        self.exporter.mended.connect(lambda: self.window.messages.clear("export"))
        self.exporter.cancelled.connect(
            lambda message: self.window.statusBar().showMessage(
                f"Export cancelled: {message}.", 10_000
            )
        )
        self.exporter.declined.connect(
            lambda: self.window.statusBar().showMessage(
                "Export cancelled: no file was replaced.", 5000
            )
        )

    def export_dialog(self) -> None:
        """Export the song on screen, asking which stems, format, folder and file names."""
        window = self.window
        job = window.shown_job
        if job is None or job.state is not JobState.DONE:
            window.show_error("Select a separated song to export.")
            return
        dialog = self._dialog([job], job.stemset.names, loop=self._loop_seconds(), mixer=job.mixer)
        if dialog.exec() == ExportDialog.DialogCode.Accepted:
            self._remember(dialog)
            self.export_job(job, dialog.request(job.mixer), on_written=dialog.remember_folder)

    def _dialog(self, jobs: list[Job], stems: list[str], **extra: Any) -> ExportDialog:
        """The export dialog for ``jobs``; its example names the first song's file."""
        from stemgui.export.rates import song_rate

        first, window = jobs[0], self.window
        dialog = ExportDialog(
            stems,
            window.settings,
            export_folder_of(first.path),
            window.settings.get(S.TWO_STEMS),
            window,
            track=first.path.stem,
            model=first.model_name or "model",
            song_rate=song_rate(first.path),
            stems_rate=first.stemset.samplerate,
            pace=self.pace_of(first),
            **extra,
        )
        if self.choices is not None:
            self.choices.apply(dialog)
        return dialog

    def _remember(self, dialog: ExportDialog) -> None:
        """Keep the accepted dialog's settings, and its ticks for the rest of the session."""
        dialog.remember()
        self.choices = ExportChoices.of(dialog, self.choices)

    def pace_of(self, job: Job) -> Any:
        """The ``Pace`` ``job`` was last heard at: the player's for the song on screen, else
        the speed and key kept with its place (as it is, for a song never shown)."""
        from stemgui.export.pace import Pace

        if job is self.window.shown_job:
            return Pace(self.window.player.speed, self.window.player.semitones)
        place = job.place
        return Pace() if place is None else Pace(place.speed, place.semitones)

    def drag_part(self) -> DragPart:
        """What a stem dragged out of the song on screen drops, as the last export dialog
        accepted was ticked: the loop region alone where "Only the loop region" was ticked and
        the song loops one (``_loop_seconds``), at the speed and key heard where "At the speed
        and key heard" was; else (and before any export) the whole song as it is."""
        from stemgui.ui.drag_part import DragPart

        choices, job = self.choices, self.window.shown_job
        if choices is None or job is None:
            return DragPart()
        span = self._loop_seconds() if choices.only_loop else None
        return DragPart(span, self.pace_of(job) if choices.at_pace else None)

    def separated_jobs(self) -> list[Job]:
        """The separated songs, once each: a song added again shares its first row's stems."""
        jobs = [job for job in self.window.controller.model.jobs if job.state is JobState.DONE]
        first = {id(job.stemset): job for job in reversed(jobs)}  # each stems' first row
        return [job for job in jobs if first[id(job.stemset)] is job]

    def export_all_dialog(self) -> None:
        """Export every separated song of the queue with one choice of stems, format, folder
        and file names (each song's mix as it is heard, with its own solo, mute and gain)."""
        window = self.window
        jobs = self.separated_jobs()
        if not jobs:
            window.show_error("No song is separated yet: there is nothing to export.")
            return
        stems = list(dict.fromkeys(name for job in jobs for name in job.stemset.names))
        paced = any(not self.pace_of(job).normal for job in jobs)
        dialog = self._dialog(jobs, stems, songs=len(jobs), some_paced=paced)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        self._remember(dialog)
        from stemgui.export.rates import song_rate

        songs = [
            (
                job,
                dialog.request_for(
                    job.stemset.names,
                    window.mixer_of(job),
                    export_folder_of(job.path),
                    song_rate(job.path),
                    job.stemset.samplerate,
                    self.pace_of(job),
                ),
            )
            for job in jobs
        ]
        left_out = [job.title for job, request in songs if request is None]
        chosen = [(job, request) for job, request in songs if request is not None]
        self.exporter.start_songs(chosen, left_out=left_out, on_written=dialog.remember_folder)

    def _loop_seconds(self) -> tuple[float, float] | None:
        """The loop region of the song on screen in seconds while it loops, or None: a region
        set aside (looping off, "off" in the transport bar) is not the part exported, by the
        dialog nor by a drag (``drag_part``)."""
        transport = self.window.player.transport
        if transport is None or transport.loop is None or not transport.loop_enabled:
            return None
        start, stop = transport.loop
        return start / transport.samplerate, stop / transport.samplerate

    def export_job(
        self, job: Job, request: Any, on_written: Callable[[], None] | None = None
    ) -> ExportTask | None:
        """Write ``request`` for ``job`` on a thread, asking before replacing files;
        ``on_written()`` once its files are in place."""
        return self.exporter.start(job, request, on_written)

    def ask_existing(self, message: str) -> Existing:
        """Ask what to do with files that exist already (tests answer in its place)."""
        return ask_existing(self.window, message)

    def cancel_export(self) -> None:
        """File ▸ Cancel export: stop the running exports at their next block."""
        if self.exporter.tasks:
            self.window.statusBar().showMessage("Cancelling the export…")
            self.exporter.cancel()

    def _started(self, title: str) -> None:
        if len(self.exporter.tasks) == 1:  # else the line of all running goes on (``_say``)
            self.window.statusBar().showMessage(f"Exporting {title}…")

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message)

    def _exported(self, job: Job, paths: list[Path]) -> None:
        self.last_export = paths
        if paths:
            job.export_folder = Path(os.path.commonpath([p.parent for p in paths]))
        self.window.statusBar().showMessage(
            f"Exported {counted(len(paths), 'file')} to {job.export_folder}"
            if paths
            else "Nothing exported: every file exists already.",
            8000,
        )
        self.window.update_buttons()

    def _exported_songs(
        self, songs: int, files: int, total: int, left_out: list[str], kept: int
    ) -> None:
        """The end of an export of several songs (a failure's banner says which failed)."""
        of = (
            counted(total, "song") if songs == total else f"{songs} of the {counted(total, 'song')}"
        )
        without = f"; left out, without the chosen stems: {', '.join(left_out)}" if left_out else ""
        existing = f"; {counted(kept, 'existing file')} kept" if kept else ""
        done = f"Exported {counted(files, 'file')} of {of}"
        if not songs:  # every song failed or was left out (a banner says why)
            done = f"None of the {total} songs was exported" if total > 1 else "Not exported"
        self.window.statusBar().showMessage(f"{done}{existing}{without}.", 10_000)

    def _export_failed(self, message: str) -> None:
        self.window.statusBar().clearMessage()
        self.window.show_error(f"Export failed: {message}", about="export")
