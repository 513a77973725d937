"""What the worker says of the stem cache, put on the queue's songs (``QueueController``).

A finished song's stems stored in the cache (``stored``: the key of their entry, which ``park``
uses) and the cache entry a song's stems are kept in (``kept``) go to the song's row and to every
row that shares its stems (the song added again meanwhile: ``finished_stems.sharing``). Entries
deleted to make room (``evicted``) and stems that could not be kept (``not_kept``) go on to the
controller's signals of those names. ``StemCacheNews`` lives on the GUI thread, a child of the
controller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Slot

from stemgui.ui import finished_stems
from stemgui.ui.queue import JobState

if TYPE_CHECKING:
    from stemgui.ui.controller import QueueController


class StemCacheNews(QObject):
    """Turns the worker's stem-cache signals into the rows' ``stem_entry`` and ``kept``.

    Args:
        controller: the queue: its model, its worker, its current job and its signals.
    """

    def __init__(self, controller: QueueController) -> None:
        super().__init__(controller)  # not kept in an attribute: see ``controller``
        worker = controller.worker
        worker.stored.connect(self._on_stored)
        worker.kept.connect(self._on_kept)
        worker.evicted.connect(controller.evicted)
        worker.not_kept.connect(self._on_not_kept)

    @property
    def controller(self) -> QueueController:
        """The controller, this object's parent (as ``RestoredSongs.controller``: the two would
        hold each other otherwise)."""
        return cast("QueueController", self.parent())

    @Slot(int, str)
    def _on_stored(self, job_id: int, key: str) -> None:
        c = self.controller
        for job in c.model.jobs:
            if job.id == job_id and job.state is JobState.DONE:
                for row in finished_stems.sharing(job, c.model.jobs):  # added again meanwhile
                    row.stem_entry = key
                c.job_stored.emit(job)

    @Slot(int, object)
    def _on_kept(self, job_id: int, kept: Any) -> None:
        c = self.controller
        for job in c.model.jobs:  # running (found in the cache) or DONE (stored)
            if job.id == job_id and (job is c.current or job.state is JobState.DONE):
                for row in finished_stems.sharing(job, c.model.jobs):  # added again meanwhile
                    row.kept = kept

    @Slot(int, str)
    def _on_not_kept(self, _job_id: int, message: str) -> None:
        self.controller.not_kept.emit(message)  # on the GUI thread, where the controller lives
