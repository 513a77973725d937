"""Runs the queue: one song at a time on the separation worker's thread.

``QueueController`` lives on the GUI thread. It owns the ``QueueModel``, the worker and its
``QThread`` (``separation_thread``); it sends the next waiting job to the worker with a queued
signal and turns the worker's signals into job state and its own signals for the window.
Cancelling sets the job's ``threading.Event``, which the separator checks between chunks.

The same file separated again with the same options reuses the earlier stems: at once while
that job is in the queue (``finished_stems``, which also parks a finished song's stems in the
stem cache), and across runs through the ``stem_cache`` (``stemgui.stemcache``), which the
worker consults on its thread (hashing the song there). The stems and the mix of long songs
live in files (``np.memmap``) in a scratch folder of the user cache (``scratch``), removed at
shutdown. A ``blocker`` (no model yet) holds the queue until ``resume``; a model that does not
load stops it there (``model_failed``: the song stays waiting while the ``blocker`` holds the
queue for that, rather than every song failing in turn). A saved session's
songs are queued again by ``restored_songs``: those in the stem cache without the model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from stemgui.ui import finished_stems, separation_thread
from stemgui.ui.eta import Eta
from stemgui.ui.memory_trim import MemoryTrim
from stemgui.ui.queue import Job, JobState, QueueModel, song_file
from stemgui.ui.restored_songs import RestoredSongs
from stemgui.ui.scratch import default_scratch_dir, delete_scratch_file, remove_scratch_dir
from stemgui.ui.separation_options import ModelIdentity, SeparationOptions, SeparatorFactory
from stemgui.ui.stem_cache_news import StemCacheNews
from stemgui.ui.worker import MEMMAP_BYTES, SeparationWorker

logger = logging.getLogger(__name__)


class QueueController(QObject):
    """The queue and its worker thread.

    Args:
        options: called when a job starts, gives the ``SeparationOptions`` from the settings.
        separator_factory: passed to the worker (tests inject a tiny model).
        scratch_dir: where the stems of long songs are kept as files (``np.memmap``) rather
            than in RAM; removed by ``shutdown``. Default: a new folder in the user cache.
        memmap_bytes: stems larger than this go to ``scratch_dir``.
        blocker: says why no song can start now ("no model yet"), or None; the queue waits
            and shows the reason until ``resume()``.
        stem_cache: a ``stemgui.stemcache.StemCache`` (e.g. ``StemCache()``: the user cache,
            4 GB) that keeps stems between runs, or None (default) to keep them only while
            their job is in the queue.
        model_identity: how the worker identifies a model for the cache (tests inject one);
            default ``separation_options.default_model_identity``.

    Signals:
        job_started(job): its ``stemset`` exists and fills in as it separates.
        job_progress(job): ``fraction``, ``eta`` and ``stemset.frames_ready`` moved on (or the
            job waits again, its ``stemset`` gone: see ``model_failed``).
        job_ended(job): DONE, FAILED or CANCELLED.
        job_stored(job): a DONE job's stems are in the stem cache (``park`` can use them).
        evicted(keys): the stem cache entries deleted to make room (``SeparationWorker``).
        not_kept(message): a song's stems could not be kept in the stem cache: why, and what
            to do (``SeparationWorker.not_kept``). These three come through ``StemCacheNews``.
        model_failed(model, message, loads): the model spec ``model`` did not load (why:
            ``message``, which names the file), or loaded and cannot separate (``loads``). The job
            that met it waits again if the ``blocker`` then holds the queue (the window does, until
            a model that loads is chosen), and fails otherwise. Not for a restored song's own model
            (not the one of now): that song takes the settings of now.
        device_changed(label): the device the separator runs on.
        probed(models, catalogue, devices, error): see ``SeparationWorker.probed``.
        idle(): nothing is left to run.
        shutting_down(): ``shutdown`` began (the window closes): what waits is done now.
    """

    job_started = Signal(object)
    job_progress = Signal(object)
    job_ended = Signal(object)
    job_stored = Signal(object)
    evicted = Signal(object)
    not_kept = Signal(str)
    model_failed = Signal(str, str, bool)
    device_changed = Signal(str)
    probed = Signal(list, list, list, str)
    idle = Signal()
    shutting_down = Signal()

    _run = Signal(int, object, object, object)  # the path as it is: see ``worker.run``
    _probe = Signal()

    def __init__(
        self,
        options: Callable[[], SeparationOptions] = SeparationOptions,
        separator_factory: SeparatorFactory | None = None,
        parent: QObject | None = None,
        scratch_dir: Path | None = None,
        memmap_bytes: int = MEMMAP_BYTES,
        blocker: Callable[[], str | None] | None = None,
        stem_cache: Any = None,
        model_identity: ModelIdentity | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = QueueModel(self)
        self._options = options
        self._blocker = blocker
        self._current: Job | None = None
        self._cancel: threading.Event | None = None
        self._eta = Eta()
        # The audio package whole, on this thread, before the worker's: a song added while the
        # worker's probe imported it met its modules half initialised (an ImportError).
        import stemgui.audio  # noqa: F401

        self.scratch_dir = scratch_dir if scratch_dir is not None else default_scratch_dir()
        self.worker = SeparationWorker(
            separator_factory, self.scratch_dir, memmap_bytes, stem_cache, model_identity
        )
        self._run.connect(self.worker.run)
        self._probe.connect(self.worker.probe)
        self._trim = MemoryTrim(self.worker.release_memory, self)  # freed memory given back
        self.worker.stage.connect(self._on_stage)
        self.worker.started.connect(self._on_started)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self._cache_news = StemCacheNews(self)  # stored, kept, evicted, not_kept
        self.worker.failed.connect(self._on_failed)
        self.worker.model_failed.connect(self._on_model_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.device.connect(self.device_changed)
        self.worker.probed.connect(self.probed)
        self._restored = RestoredSongs(self, options)  # a saved session's songs
        self._thread = separation_thread.start(self.worker)

    @property
    def current(self) -> Job | None:
        """The job being worked on, or None."""
        return self._current

    def probe(self) -> None:
        """Ask the worker for the models and devices (answered by ``probed``)."""
        self._probe.emit()

    def add(self, paths: Iterable[str | Path]) -> list[Job]:
        """Queue songs; starts the first if nothing runs."""
        jobs = self.model.add([Path(p) for p in paths])
        self._start_next()
        return jobs

    @property
    def awaited(self) -> Job | None:
        """The song on screen at the last close, until its stems come: no other song should
        take the screen before it (``RestoredSongs.awaited``)."""
        return self._restored.awaited

    def restore(self, jobs: list[Job], shown: Job | None = None) -> list[Job]:
        """Queue the songs of a saved session as they are, answering those it can from the
        stem cache, ``shown`` (the song on screen at the close) first (``RestoredSongs``)."""
        return self._restored.restore(jobs, shown)

    def resume(self) -> None:
        """Start the next song if none runs (the reason to wait went away, a restored song
        was answered or waits its turn)."""
        self._start_next()

    def cancel(self, job: Job) -> None:
        """Stop ``job``: at once if it waits (or, restored, is being read from the stem cache:
        that answer is not taken), at the next chunk if it runs."""
        if job is self._current:
            if self._cancel is not None:
                self._cancel.set()
                self.model.update(job, stopping=True)
        elif job.state is JobState.WAITING or job.state.active:
            self.model.update(job, state=JobState.CANCELLED, eta=None)
            self.job_ended.emit(job)

    def retry(self, job: Job) -> bool:
        """Queue a failed or cancelled job again; False when it is not one, or when its song
        is waiting or separating in another row already (dropped again meanwhile)."""
        if song_file(job.path) in self.model.busy_paths():
            return False
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            delete_scratch_file(job.stemset, self.scratch_dir)
            self.model.update(
                job,
                state=JobState.WAITING,
                error="",
                retry_helps=True,
                fraction=0.0,
                eta=None,
                stemset=None,
                waveforms=None,
                notes=(),
                options=None,  # the settings of now (another model or quality chosen since)
                kept=None,
            )
            self._start_next()
            return True
        return False

    def remove(self, job: Job) -> None:
        """Take ``job`` out of the queue (cancelling it first if it runs)."""
        if job is self._current:
            self.cancel(job)
            self.model.update(job, removed=True)  # dropped when the worker confirms the end
            return
        self.model.remove(job)
        finished_stems.let_go_of(job.stemset, self.model.jobs, self.scratch_dir)
        self._release_memory_later()  # its stems

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel the running job; stop the thread (``separation_thread.stop``: the storing of
        a finished song's stems in the cache gets a while to end); remove the scratch folder."""
        self.shutting_down.emit()
        if self._cancel is not None:
            self._cancel.set()
        if separation_thread.stop(self._thread, self.worker, timeout_ms):
            remove_scratch_dir(self.scratch_dir)

    # -- running ----------------------------------------------------------------------------

    def _release_memory_later(self) -> None:
        """Trim once the queue rests (now, if it does; else when it goes idle)."""
        if self._current is None:
            self._trim.resting()

    def _start_next(self) -> None:
        if self._current is not None:
            return
        job = self.model.next_waiting()
        if job is None:
            self._trim.resting()
            self.idle.emit()
            return
        reason = self._blocker() if self._blocker is not None else None
        self.model.set_hold(reason or "")
        if reason:
            logger.info("the queue waits: %s", reason)
            return
        options = self._options()
        if job.options is not None:  # a restored song: its own, on the device of now
            options = replace(job.options, device=options.device)
        key = finished_stems.cache_key(job.path, options)
        earlier = finished_stems.separated_before(self.model.jobs, key)
        if earlier is not None:
            logger.info("%s: reusing the stems separated earlier with the same settings", job.path)
            self.model.update(job, state=JobState.LOADING, **finished_stems.taken_from(earlier))
            self.job_started.emit(job)
            self.model.update(job, state=JobState.DONE, fraction=1.0, cache_key=key)
            self.job_ended.emit(job)
            self._start_next()
            return
        self._trim.song_starts()
        self._current = job
        self._cancel = threading.Event()
        self.model.update(
            job, state=JobState.LOADING, fraction=0.0, eta=None, error="", cache_key=key
        )
        self._run.emit(job.id, job.path, options, self._cancel)

    def park(self, job: Job) -> bool:
        """Let a finished song that is not on screen read its stems from the stem cache and
        free its own copy (``finished_stems.park``); True if so."""
        if not finished_stems.park(job, self.model.jobs, self.worker.stem_cache, self.scratch_dir):
            return False
        self._release_memory_later()
        return True

    def _job(self, job_id: int) -> Job | None:
        job = self._current
        if job is None or job.id != job_id:
            logger.debug("signal for job %d, which is no longer running", job_id)
            return None
        return job

    @Slot(int, str)
    def _on_stage(self, job_id: int, stage: str) -> None:
        job = self._job(job_id)
        if job is not None:
            self.model.update(job, state=JobState(stage))
            if job.state is JobState.SEPARATING:
                self._eta.restart()

    @Slot(int, object, str)
    def _on_started(self, job_id: int, stemset: Any, model_name: str) -> None:
        job = self._job(job_id)
        if job is not None:
            self.model.update(job, stemset=stemset, model_name=model_name)
            self.job_started.emit(job)

    @Slot(int, float, int, object)
    def _on_progress(self, job_id: int, fraction: float, frames_ready: int, notes: Any) -> None:
        job = self._job(job_id)
        if job is None:
            return
        eta = self._eta.update(fraction, len(notes))
        self.model.update(job, fraction=fraction, eta=eta, notes=tuple(notes))
        self.job_progress.emit(job)

    @Slot(int, object, object)
    def _on_finished(self, job_id: int, stemset: Any, waveforms: Any) -> None:
        self._end(job_id, state=JobState.DONE, fraction=1.0, stemset=stemset, waveforms=waveforms)

    @Slot(int, str, bool)
    def _on_failed(self, job_id: int, message: str, retry_helps: bool) -> None:
        self._end(job_id, state=JobState.FAILED, error=message, retry_helps=retry_helps)

    @Slot(int, str, str, bool)
    def _on_model_failed(self, job_id: int, model: str, message: str, loads: bool) -> None:
        job = self._job(job_id)
        if job is None:
            return
        if job.stopping:  # cancelled or removed meanwhile: it ends as asked
            self._end(job_id, state=JobState.CANCELLED)
            return
        if job.options is not None:
            # a restored song's own model: it takes the settings of now, as one whose model
            # file is gone does (``session``), rather than fail on a model not chosen now
            logger.info("%s: its model does not load; it takes the settings of now", job.path)
            self._wait_again(job, options=None, kept=None)
            return
        self.model_failed.emit(model, message, loads)  # the window holds the queue for it (blocker)
        if self._blocker is None or not self._blocker():
            self._end(job_id, state=JobState.FAILED, error=message)
            return
        logger.info("%s waits: the model does not load", job.path)
        self._wait_again(job)  # held: the songs say why

    def _wait_again(self, job: Job, **changes: Any) -> None:
        """The running ``job`` waits again, not ended (its model did not load, or loaded and
        could not separate: the silent stems it had begun go, their scratch file too)."""
        self._current = None
        self._cancel = None
        stemset = job.stemset
        self.model.update(
            job, state=JobState.WAITING, fraction=0.0, eta=None, stemset=None, **changes
        )
        finished_stems.let_go_of(stemset, self.model.jobs, self.scratch_dir)
        self.job_progress.emit(job)  # the screen shows it as not begun
        self._start_next()

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        self._end(job_id, state=JobState.CANCELLED)

    def _end(self, job_id: int, **changes: Any) -> None:
        job = self._job(job_id)
        if job is None:
            return
        self._current = None
        self._cancel = None
        self.model.update(job, eta=None, stopping=False, **changes)
        if job.removed:
            self.model.remove(job)
            finished_stems.let_go_of(job.stemset, self.model.jobs, self.scratch_dir)
        self.job_ended.emit(job)
        self._start_next()
