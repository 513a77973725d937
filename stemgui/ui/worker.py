"""The separation worker: a QObject that lives on its own QThread and separates one song at a time.

It turns the synchronous, Qt-free engine (``decode`` -> ``Separator.separate`` -> ``StemSet``) into
signals. It never touches a widget: everything it has to say goes out as a signal, delivered to
the GUI thread by Qt's queued connections. Every ``run`` ends in exactly one of ``finished``,
``failed``, ``model_failed`` or ``cancelled`` for its job id.

The engine (and with it torch) is imported inside the slots, on the worker thread, so that the
window appears before torch loads. A separator is kept between songs while the model and the
settings stay the same. Freed memory goes back to the system here too, when the controller asks
(``release_memory``) once its queue rests: ``malloc_trim`` walks the whole heap, tens of
milliseconds that the GUI thread must not spend.

The worker's thread runs at a lower priority than the GUI thread (``lower_priority``): with all
cores busy separating, a repaint would otherwise wait its turn behind torch's threads.

With a ``StemCache`` the worker looks a song up there before separating it and stores the stems
it separates: those steps are in ``worker_cache``.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from stemgui.errors import (
    ModelLoadError,
    ModelRunError,
    NotAudioError,
    SeparationCancelled,
    StemguiError,
    one_line,
    out_of_memory,
)
from stemgui.memory import release_free_memory
from stemgui.ui.messages import unexpected
from stemgui.ui.models import NoModelError
from stemgui.ui.restore import file_stamp
from stemgui.ui.scratch import delete_scratch_file, made_scratch_dir, mix_file
from stemgui.ui.separation_options import (
    ModelIdentity,
    SeparationOptions,
    SeparatorFactory,
    default_model_identity,
    default_separator_factory,
)
from stemgui.ui.worker_cache import StemCacheSteps, two_stem_notes, two_stems_of

logger = logging.getLogger(__name__)


MEMMAP_BYTES = 256 << 20
"""Stems larger than this (about 3 minutes of four stereo stems at 44.1 kHz) live in a file."""


class SeparationWorker(StemCacheSteps, QObject):
    """Separates songs on the thread it was moved to.

    Signals (``job`` is the job id):
        stage(job, state): "loading model", "decoding" or "separating" begins.
        started(job, stemset, model_name): the (silent) ``StemSet`` exists; it fills in as
            ``progress`` reports, and can be played and drawn up to ``frames_ready``.
        progress(job, fraction, frames_ready, notes): after each chunk (and once for stems
            from the stem cache that have a note: two stems of a stem the model has not).
        finished(job, stemset, waveforms) / failed(job, message, retry_helps) / cancelled(job):
            exactly one per run; ``waveforms`` is the ``StemWaveforms`` of the final stems,
            computed here so that showing a long song costs the GUI thread nothing, with the
            song's ``analysis`` (``stemgui.stems.analysis``: tempo, beat grid, key) made here
            too;
            ``retry_helps`` is False when the file is not audio at all (``NotAudioError``):
            separating it again cannot work.
        model_failed(job, model, message, loads): the run's end when the model (the spec
            ``model``) does not load or run (``ModelLoadError``, ``ModelRunError``;
            ``NoModelError``: the store's default, and the store has none now): the song is not
            at fault, and every song after it would fail alike. ``loads``: it loaded, and its
            network cannot separate (``ModelRunError``).
        stored(job, key): after ``finished``, the stems are in the stem cache as entry ``key``
            (stored there, or found there).
        kept(job, kept): the job's full stems are in the stem cache (before ``finished`` when
            they were found there, after it when stored): a
            ``restore.Kept`` (the entry, and the song and model files as they were recognised),
            which the session keeps so that the next start finds them without the model.
        evicted(keys): the stem cache entries deleted to make room for stems just stored
            (``StemCache.evicted``), oldest first.
        not_kept(job, message): the job's stems could not be stored in the stem cache (its
            folder read-only, its disk full, the stems larger than its limit): why, in words,
            with what to do (``StemCache.problem``).
        device(label): the device the separator runs on (again when it falls back to the CPU).
        probed(models, catalogue, devices, error): (name, description, file) of the models
            that load now (file: "" for an official one), (name, description, downloaded) of
            the official models, (name, label) of the
            devices, and an error message ("" if none), answering ``probe``.

    Args:
        stem_cache: a ``stemgui.stemcache.StemCache``, or None to separate every time.
        model_identity: for the cache's key; default ``default_model_identity``.

    ``stopping`` (a ``threading.Event``) interrupts storing stems in the cache at shutdown;
    ``storing`` is set while a finished song's stems are being stored. ``on_screen`` gives the
    stem cache entry of the song on screen (None: none), which making room for a song stored
    never evicts: its player may be reading it. The window sets it; it is called on this
    worker's thread, so it only reads plain attributes.
    """

    stage = Signal(int, str)
    started = Signal(int, object, str)
    progress = Signal(int, float, int, object)
    finished = Signal(int, object, object)
    stored = Signal(int, str)
    kept = Signal(int, object)
    evicted = Signal(object)
    not_kept = Signal(int, str)
    failed = Signal(int, str, bool)
    model_failed = Signal(int, str, str, bool)
    cancelled = Signal(int)
    device = Signal(str)
    probed = Signal(list, list, list, str)

    def __init__(
        self,
        separator_factory: SeparatorFactory | None = None,
        scratch_dir: Path | None = None,
        memmap_bytes: int = MEMMAP_BYTES,
        stem_cache: Any = None,
        model_identity: ModelIdentity | None = None,
    ) -> None:
        super().__init__()
        self._factory = separator_factory or default_separator_factory
        self._cached: tuple[tuple, Any, str] | None = None  # (key, separator, model name)
        self.scratch_dir = scratch_dir
        self.memmap_bytes = memmap_bytes
        self.stem_cache = stem_cache
        self.on_screen: Callable[[], str | None] = lambda: None
        self._identity = model_identity or default_model_identity
        self.stopping = threading.Event()
        self.storing = threading.Event()
        self._files = itertools.count(1)  # next() is atomic: the restore thread takes some

    @Slot()
    def release_memory(self) -> None:
        """Give the memory that songs and separations freed back to the system."""
        release_free_memory()

    @Slot()
    def lower_priority(self) -> None:
        """Call on the worker's thread: it (and the threads it starts) yield to the GUI thread."""
        lower_thread_priority()

    @Slot()
    def probe(self) -> None:
        """List the models and devices (this loads torch, off the GUI thread)."""
        from stemgui.ui.models import (
            device_choices,
            model_descriptions,
            official_catalogue,
            store_files,
            store_names,
        )

        try:
            about, files = model_descriptions(), store_files()
            models = [(name, about.get(name, ""), files.get(name, "")) for name in store_names()]
            catalogue, devices = official_catalogue(), device_choices()
        except Exception as error:  # any: the window must hear back, or it looks forever
            logger.exception("listing the models and devices failed")
            self.probed.emit([], [], [], str(error))
            return
        self.probed.emit(models, catalogue, devices, "")

    @Slot(int, object, object, object)
    def run(
        self, job: int, path: str | Path, options: SeparationOptions, cancel: threading.Event
    ) -> None:
        """Separate the song at ``path``; ends with finished, failed or cancelled for ``job``.
        A ``Path`` reaches it as it is: a file name that is not UTF-8 (Latin-1 bytes, kept by
        Python as surrogates) lost those characters as a Qt ``str``, and the song was said not
        to exist."""
        try:
            self._separate(job, Path(path), options, cancel)
        except SeparationCancelled:
            logger.info("job %d (%s) cancelled", job, path)
            self.cancelled.emit(job)
        except (ModelLoadError, ModelRunError, NoModelError) as error:
            logger.warning("job %d (%s): the model does not work: %s", job, path, error)
            loads = isinstance(error, ModelRunError)
            self.model_failed.emit(job, options.model, one_line(error), loads)
        except StemguiError as error:
            logger.warning("job %d (%s) failed: %s", job, path, error, exc_info=True)
            self.failed.emit(job, one_line(error), not isinstance(error, NotAudioError))
        except MemoryError:
            logger.exception("job %d (%s): out of memory", job, path)
            self.failed.emit(job, out_of_memory(path, "separate this song"), True)
        except Exception as error:  # a bug or an engine failure: the queue must go on
            logger.exception("job %d (%s) failed unexpectedly", job, path)
            self.failed.emit(job, unexpected(path, error), True)

    def _separator(self, options: SeparationOptions, identity: str | None) -> tuple[Any, str]:
        # A model whose files changed since it was loaded (retrained and saved under the same
        # name, a bag's member replaced, a store model downloaded again) is loaded again: its
        # old weights must not separate under the new files' identity (the stem cache keeps
        # both). ``identity``: the model's (``self._identity``), None when it has none.
        options = options.separator_key()
        key = (options, identity if identity is not None else file_stamp(options.model))
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1], self._cached[2]
        self._cached = None
        separator, name = self._factory(options)
        self._cached = (key, separator, name)
        self._report_device(separator)
        return separator, name

    def _separate(
        self, job: int, path: Path, options: SeparationOptions, cancel: threading.Event
    ) -> None:
        import numpy as np

        from stemgui.audio.atomic import remove_quietly
        from stemgui.audio.decode import decode, refuse_special
        from stemgui.spool import release_done, reserved_memmap
        from stemgui.stems.analysis import analyse
        from stemgui.stems.stemset import StemSet
        from stemgui.stems.waveform import StemWaveforms

        def check() -> None:
            if cancel.is_set():
                raise SeparationCancelled(f"{path.name}: cancelled")

        check()
        refuse_special(path)  # a pipe: hashed, and the model loaded, before decoding said so
        song_sha = identity = None
        cache = self.stem_cache  # once: File ▸ Keep separated stems may turn it off meanwhile
        stamp = file_stamp(path)  # taken before the hash: a file rewritten later is noticed
        if cache is not None:
            self.stage.emit(job, "decoding")  # reading the song to recognise it
            song_sha, identity, hit = self._look_up(cache, path, options, cancel)
            if hit is not None:
                self._keep(job, hit.key, stamp, options)
                self._finish_from_cache(job, path, hit, options)
                self.stored.emit(job, hit.key)  # its entry, protected while it is on screen
                return
        self.stage.emit(job, "loading model")
        if identity is None:  # not looked up for the cache: once, for the reuse of the model
            identity = self._identity(options, cancel)
        separator, model_name = self._separator(options, identity)
        check()
        self.stage.emit(job, "decoding")
        channels = int(getattr(separator.model, "audio_channels", 2))
        sources = list(separator.sources)
        stems_file: Path | None = None  # a long song's: its stems, its mix beside them

        def allocate(shape: tuple[int, int]) -> np.ndarray:
            """The mix's array: a long song's goes straight into a file, not the RAM (1.3 GB
            for 60 minutes); called again for a file shorter than it said (the first dropped)."""
            nonlocal stems_file
            if stems_file is not None:
                remove_quietly(mix_file(stems_file))
            stems_file = self.scratch_file(len(sources) * shape[0] * shape[1] * 4)
            if stems_file is None:
                return np.empty(shape, dtype=np.float32)
            return reserved_memmap(mix_file(stems_file), shape)

        scratch = None if self.scratch_dir is None else self._scratch
        try:
            song = decode(path, separator.samplerate, channels, allocate=allocate, scratch=scratch)
            for warning in song.warnings:
                logger.warning("%s: %s", path, warning)
            if song_sha is not None and file_stamp(path) != stamp:
                # rewritten (a bounce finishing) since it was hashed: these stems are of other
                # audio than that hash, and kept under it would be given to the old song
                logger.info("%s changed while it was read: its stems are not cached", path)
                song_sha = None
            check()
            warnings, mix = (*song.warnings, *two_stem_notes(options, sources)), song.samples
            own = (song.original_samplerate, song.original_frames)  # exported back at its rate
            del song
            stemset = StemSet.allocate(
                sources,
                separator.samplerate,
                channels,
                mix.shape[1],
                mix=mix,
                path=stems_file,
                song=own,
            )
        except BaseException:
            if stems_file is not None:
                remove_quietly(mix_file(stems_file))
            raise
        del mix
        self.stage.emit(job, "separating")
        self.started.emit(job, stemset, model_name)
        notes_before = len(getattr(separator, "notes", ()))

        released = [0, 0]  # frames of a long song's stems and mix files dropped from memory

        def on_progress(progress: Any) -> None:
            ready = max(stemset.frames_ready, min(int(progress.frames_ready), stemset.frames))
            stemset.frames_ready = ready
            released[0] = release_done(stemset.data, released[0], ready)  # a long song's files
            released[1] = release_done(stemset.mix, released[1], ready, flush=False)
            notes = (*warnings, *progress.notes)  # what was repaired, what was changed
            self.progress.emit(job, float(progress.fraction), ready, notes)

        separator.separate(stemset.mix, on_progress=on_progress, cancel=cancel, out=stemset.data)
        stemset.frames_ready = stemset.frames
        separated = stemset
        if options.two_stems in separated.names:  # made from the full stems: a while yet
            check()
        stemset = two_stems_of(separated, options, self.scratch_file)
        if len(getattr(separator, "notes", ())) != notes_before:
            self._report_device(separator)
        waveforms = StemWaveforms(stemset)
        # of the full stems: drums, if any; stored as found (from ``finished`` on, the window
        # may put a corrected tempo in the waveforms' place: ``tempo_menu``)
        analysis = waveforms.analysis = analyse(separated, path)
        self.finished.emit(job, stemset, waveforms)
        if song_sha is not None:
            self._store(
                job, path, song_sha, identity, separated, options, model_name, stamp, analysis
            )
        if separated is not stemset:  # two stems were made from the full ones: those go
            delete_scratch_file(separated, self.scratch_dir, mix=False)

    def _scratch(self) -> Path:
        """This run's scratch folder, for a long song being decoded (``decode``'s ``scratch``):
        made with its lock, as for stems (``made_scratch_dir``); OSError when it cannot be."""
        assert self.scratch_dir is not None  # else the song is decoded in RAM
        return made_scratch_dir(self.scratch_dir)

    def scratch_file(self, nbytes: int) -> Path | None:
        """A new file for stems of ``nbytes`` that should stay off the RAM; None: keep in RAM.
        Called on this worker's thread and on the restore thread (``restore.answer_kept``)."""
        if self.scratch_dir is None or nbytes <= self.memmap_bytes:
            return None
        return made_scratch_dir(self.scratch_dir) / f"stems-{next(self._files)}.f32"

    def _report_device(self, separator: Any) -> None:
        label = _device_label(separator)
        if label:
            self.device.emit(label)


WORKER_NICENESS = 10


def lower_thread_priority(niceness: int = WORKER_NICENESS) -> None:
    """Give the calling thread the Linux nice value ``niceness`` (never a higher priority than it
    has). Threads it starts later inherit it: torch's OpenMP pool is made by the first parallel
    operation on this thread. Elsewhere ``QThread.Priority.LowPriority`` does this job."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, max(current, niceness))
    except OSError as error:  # a sandbox that refuses it: the app works, a little less smoothly
        logger.warning("could not lower the separation thread's priority: %s", error)


def _device_label(separator: Any) -> str:
    device = getattr(separator, "device", None)
    if device is None:
        return ""
    from stemgui.ui.models import describe_device

    return describe_device(device)
