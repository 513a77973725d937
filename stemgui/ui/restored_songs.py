"""A saved session's songs back in the queue (``QueueController.restore``).

They are queued as they were saved (``stemgui.ui.session``), with their own options and mixes.
Those whose stems the session says are in the stem cache are answered from there on a thread of
their own (``restore.answer_kept``), without the model and without waiting for it, the song
shown at the close first; each answer comes back to the GUI thread and the song ends as if the
worker had separated it. One that cannot be answered (changed since, entry gone) waits its turn
on the worker as a new song. The song shown at the close is ``awaited`` until its stems come: no
other song should take the screen before it. ``RestoredSongs`` lives on the GUI thread, a child
of the controller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Signal, Slot

from stemgui.ui.finished_stems import cache_key
from stemgui.ui.queue import Job, JobState
from stemgui.ui.restore import answer_kept
from stemgui.ui.scratch import delete_scratch_file
from stemgui.ui.separation_options import SeparationOptions

if TYPE_CHECKING:
    from stemgui.ui.controller import QueueController


class RestoredSongs(QObject):
    """Queues a saved session's songs and ends those the stem cache answers.

    Args:
        controller: the queue: its model, its worker's stem cache, its job signals.
        options: the ``SeparationOptions`` of now (a restored song runs on their device).
    """

    _answered = Signal(object, object)  # (job, restore.Answer), from the restore thread

    def __init__(
        self, controller: QueueController, options: Callable[[], SeparationOptions]
    ) -> None:
        super().__init__(controller)  # not kept in an attribute: see ``controller``
        self._options = options
        self._awaited: Job | None = None  # see ``awaited``
        self._answered.connect(self._on_answered)

    @property
    def controller(self) -> QueueController:
        """The controller, this object's parent. Not kept in an attribute: the two would hold
        each other, and a controller without a parent (as in the tests) would be destroyed,
        with its worker, whenever the cyclic garbage collector ran (the tests crashed so)."""
        return cast("QueueController", self.parent())

    @property
    def awaited(self) -> Job | None:
        """The song ``restore`` was told was on screen at the last close, until its stems come
        (or it ends without, or is removed): no other song should take the screen before it."""
        job = self._awaited
        if job is not None and (
            job.stemset is not None
            or job.state.ended
            or all(row is not job for row in self.controller.model.jobs)
        ):
            job = self._awaited = None
        return job

    def restore(self, jobs: list[Job], shown: Job | None = None) -> list[Job]:
        """Queue the songs of a saved session as they are (their own options, mixes). Those
        whose stems the session says are in the stem cache are answered from there on a thread
        of their own, without the model and without waiting for it (``stemgui.ui.restore``),
        ``shown`` (the song on screen at the close) first; any it cannot answer (changed since,
        entry gone) then waits its turn as a new song."""
        model = self.controller.model
        cache = self.controller.worker.stem_cache
        first = [shown] if shown in jobs else []
        known = [
            job
            for job in first + [job for job in jobs if job is not shown]
            if cache is not None and job.kept is not None and job.options is not None
        ]
        for job in known:  # reading the song's stems: so queued, not changed row by row (each
            # change asked the whole queue again: 0.4 s of the GUI thread for 500 songs)
            job.state = JobState.DECODING
        model.append(jobs)
        if shown is not None:  # songs found later (Look again) leave the one awaited so
            self._awaited = shown
        if known:
            threading.Thread(
                target=answer_kept,
                args=(
                    [(job, job.kept, job.options) for job in known],
                    cache,
                    self._answered.emit,
                    self.controller.worker.scratch_file,  # two stems made from the full ones
                ),
                name="stemgui-restore",
                daemon=True,
            ).start()
        self.controller.resume()
        return jobs

    @Slot(object, object)
    def _on_answered(self, job: Job, answer: Any) -> None:
        """A restored song read from the stem cache (``answer``), or not (None: it waits its
        turn on the worker, which recognises it by its bytes)."""
        controller, model = self.controller, self.controller.model
        if (
            job.state is not JobState.DECODING
            or job is controller.current  # cancelled and retried: the worker's now
            or not any(row is job for row in model.jobs)
        ):
            if answer is not None:  # two stems made from the full ones: their file goes
                delete_scratch_file(answer[0], controller.scratch_dir)
            return  # removed, or cancelled, meanwhile
        if answer is None:
            model.update(job, state=JobState.WAITING, kept=None)
            controller.resume()
            return
        stemset, waveforms, model_name, notes = answer
        options = replace(job.options, device=self._options().device)
        # notes: its model file is gone, which its tooltip says
        model.update(job, stemset=stemset, waveforms=waveforms, model_name=model_name, notes=notes)
        controller.job_started.emit(job)
        key = cache_key(job.path, options)
        model.update(
            job, state=JobState.DONE, fraction=1.0, cache_key=key, stem_entry=job.kept.entry
        )
        controller.job_ended.emit(job)
        if controller.current is None and model.next_waiting() is None:
            controller.resume()  # idle: says so, trims later
