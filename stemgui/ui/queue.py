"""The song queue: the list model of the jobs (one :class:`~stemgui.ui.job.Job` per song) that
the queue view shows.

Retrying a failed or cancelled job puts it back to ``WAITING``. The model only holds state;
``controller.QueueController`` decides what runs: the first waiting job in queue order. Waiting
jobs can be reordered (``move``, ``move_to``, and by drag and drop in the view through
``mimeData`` / ``dropMimeData`` / ``moveRows``); a job being worked on or ended stays where it is.
``Job``, ``JobState`` and ``song_file`` are imported from here by most of the window.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from stemgui.ui.job import Job, JobState, song_file

__all__ = ["Job", "JobState", "QueueModel", "song_file"]

logger = logging.getLogger(__name__)


def _busy(job: Job) -> bool:
    """Whether ``job`` waits or separates, not on its way out (cancelling, removing)."""
    return not (job.state.ended or job.removed or job.stopping)


class QueueModel(QAbstractListModel):
    """The jobs, in queue order, for a ``QListView``.

    Roles: DisplayRole "name — state", ToolTipRole the path and the full error, ``JobRole`` the
    ``Job`` itself, ``ShownRole`` True for the song on screen (``set_shown``: selecting a
    waiting song leaves the one playing there). Waiting jobs can be dragged; a drop between
    rows moves them there.
    """

    JobRole = Qt.ItemDataRole.UserRole + 1
    ShownRole = Qt.ItemDataRole.UserRole + 2
    MIME_TYPE = "application/x-stemgui-queue-jobs"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._shown: Job | None = None

    # -- Qt model ---------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{job.title} — {job.status_text()}"
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = str(job.path)
            if job.error:
                tip += "\n" + job.error
            for note in job.notes:
                tip += "\n" + note
            return tip
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{job.title}, {job.status_text()}"
        if role == self.JobRole:
            return job
        if role == self.ShownRole:
            return job is self._shown
        return None

    def set_shown(self, job: Job | None) -> None:
        """Mark ``job`` as the song whose stems are on screen (None: none is)."""
        changed = [j for j in (self._shown, job) if j is not None and j in self._jobs]
        self._shown = job
        for row in {self._jobs.index(j) for j in changed}:
            index = self.index(row)
            self.dataChanged.emit(index, index, [self.ShownRole])

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops land between rows, never on one
        flags = super().flags(index)
        job = self._jobs[index.row()] if 0 <= index.row() < len(self._jobs) else None
        if job is not None and job.state is JobState.WAITING:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [self.MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        """The ids of the waiting jobs among ``indexes``, in queue order."""
        rows = sorted({index.row() for index in indexes if index.isValid()})
        ids = [str(self._jobs[row].id) for row in rows if self._jobs[row].state is JobState.WAITING]
        mime = QMimeData()
        mime.setData(self.MIME_TYPE, QByteArray(",".join(ids).encode("ascii")))
        return mime

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        return action == Qt.DropAction.MoveAction and bool(self._dropped_jobs(data))

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        """Move the dragged waiting jobs to ``row`` (-1: onto ``parent``'s row, or the end)."""
        jobs = self._dropped_jobs(data)
        if action != Qt.DropAction.MoveAction or not jobs:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._jobs)
        for job in jobs:  # in queue order: each lands right after the one before
            old = self.row_of(job)
            self.move_to(job, row)
            if old >= row:  # it is now at ``row`` (from above, ``row`` is already after it)
                row += 1
        return True  # moved here: the view removes nothing (this model removes no rows)

    def moveRows(
        self,
        source_parent: QModelIndex | QPersistentModelIndex,
        source_row: int,
        count: int,
        destination_parent: QModelIndex | QPersistentModelIndex,
        destination_child: int,
    ) -> bool:
        """Qt's move (``QListView`` in internal-move mode): one waiting job at a time."""
        if count != 1 or source_parent.isValid() or destination_parent.isValid():
            return False
        if not 0 <= source_row < len(self._jobs):
            return False
        return self.move_to(self._jobs[source_row], destination_child)

    def _dropped_jobs(self, data: QMimeData) -> list[Job]:
        if not data.hasFormat(self.MIME_TYPE):
            return []
        text = bytes(data.data(self.MIME_TYPE).data()).decode("ascii", "replace")
        found = [self.find(int(part)) for part in text.split(",") if part.strip().isdigit()]
        return [job for job in found if job is not None and job.state is JobState.WAITING]

    # -- jobs -------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def busy_paths(self) -> set[Path]:
        """The songs waiting or separating (each the file it is: ``song_file``), not those on
        their way out (cancelling, removing): a song dropped again then was refused as busy,
        and its old row went."""
        return {song_file(job.path) for job in self._jobs if _busy(job)}

    def busy_job(self, path: Path) -> Job | None:
        """The row where the song ``path`` is waiting or separating (``busy_paths``), or None."""
        file = song_file(path)
        return next((job for job in self._jobs if _busy(job) and song_file(job.path) == file), None)

    def add(self, paths: list[Path]) -> list[Job]:
        """Append a waiting job per path (a song already waiting or running is skipped, by
        whichever path it was reached)."""
        busy = self.busy_paths()
        return self.append([Job(Path(p)) for p in paths if song_file(p) not in busy])

    def append(self, jobs: list[Job]) -> list[Job]:
        """Append ``jobs`` as they are (a restored session's); returns them."""
        if jobs:
            first = len(self._jobs)
            self.beginInsertRows(QModelIndex(), first, first + len(jobs) - 1)
            self._jobs.extend(jobs)
            self.endInsertRows()
        return jobs

    def remove(self, job: Job) -> None:
        row = self.row_of(job)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._jobs[row]
        self.endRemoveRows()

    def can_move(self, job: Job | None, offset: int = 0) -> bool:
        """Whether ``job`` may move (it waits): anywhere (``offset`` 0), or up (-1) or down (+1)
        past the next waiting job that way."""
        if job is None or job.state is not JobState.WAITING:
            return False
        return offset == 0 or self._next_waiting(job, offset) is not None

    def move(self, job: Job, offset: int) -> bool:
        """Move a waiting ``job`` up (-1) or down (+1) past the next waiting job, so that it
        separates before (after) it: rows running or done between them are passed too (moving
        past those alone changes nothing). False if it cannot."""
        target = self._next_waiting(job, offset) if job.state is JobState.WAITING else None
        if target is None:
            return False
        return self.move_to(job, target + 1 if offset > 0 else target)

    def _next_waiting(self, job: Job, offset: int) -> int | None:
        """The row of the nearest waiting job above (``offset`` < 0) or below ``job``."""
        step = 1 if offset > 0 else -1
        row = self.row_of(job) + step
        while 0 <= row < len(self._jobs):
            if self._jobs[row].state is JobState.WAITING:
                return row
            row += step
        return None

    def move_to(self, job: Job, row: int) -> bool:
        """Move a waiting ``job`` before row ``row`` (``len``: to the end); False if it cannot.

        Only waiting jobs move: the queue's order is what separates next.
        """
        if job.state is not JobState.WAITING:
            logger.debug("job %d is %s: it keeps its place", job.id, job.state.value)
            return False
        old = self.row_of(job)
        row = min(max(row, 0), len(self._jobs))
        if row in (old, old + 1):
            return False
        self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), row)
        self._jobs.insert(row if row < old else row - 1, self._jobs.pop(old))
        self.endMoveRows()
        return True

    def row_of(self, job: Job) -> int:
        for row, candidate in enumerate(self._jobs):
            if candidate is job:
                return row
        raise KeyError(f"job {job.id} is not in the queue")

    def find(self, job_id: int) -> Job | None:
        return next((job for job in self._jobs if job.id == job_id), None)

    def next_waiting(self) -> Job | None:
        return next((job for job in self._jobs if job.state is JobState.WAITING), None)

    def set_hold(self, reason: str) -> None:
        """Show why waiting songs do not start ("" once they may)."""
        for row, job in enumerate(self._jobs):
            if job.state is JobState.WAITING and job.hold != reason:
                job.hold = reason
                index = self.index(row)
                self.dataChanged.emit(index, index)

    def update(self, job: Job, **changes: Any) -> None:
        """Change fields of ``job`` and tell the views."""
        for name, value in changes.items():
            setattr(job, name, value)
        index = self.index(self.row_of(job))
        self.dataChanged.emit(index, index)
