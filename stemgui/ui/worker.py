"""The separation worker: a QObject that lives on its own QThread and separates one song at a time.

It turns the synchronous, Qt-free engine (``decode`` -> ``Separator.separate`` -> ``StemSet``) into
signals. It never touches a widget: everything it has to say goes out as a signal, delivered to
the GUI thread by Qt's queued connections. Every ``run`` ends in exactly one of ``finished``,
``failed`` or ``cancelled`` for its job id.

The engine (and with it torch) is imported inside the slots, on the worker thread, so that the
window appears before torch loads. A separator is kept between songs while the model and the
settings stay the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from stemgui.errors import SeparationCancelled, StemguiError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeparationOptions:
    """What a separation is asked for: the model spec and the ``Separator``'s arguments."""

    model: str = ""
    device: str = "auto"
    segment: float | None = None
    overlap: float = 0.25
    shifts: int = 0
    two_stems: str | None = None  # a stem name: keep it and sum the others as no_<stem>

    def separator_key(self) -> SeparationOptions:
        """The options that decide the ``Separator`` (two-stem mode only changes the result)."""
        return replace(self, two_stems=None)


MEMMAP_BYTES = 256 << 20
"""Stems larger than this (about 3 minutes of four stereo stems at 44.1 kHz) live in a file."""

SeparatorFactory = Callable[[SeparationOptions], tuple[Any, str]]
"""options -> (a ``Separator``-like object, the model's display name)."""


def default_separator_factory(options: SeparationOptions) -> tuple[Any, str]:
    """Load the model named by ``options`` and wrap it in a ``Separator`` (imports torch)."""
    from stemgui.separation.separator import Separator
    from stemgui.ui.models import load_model

    model, name = load_model(options.model)
    separator = Separator(
        model,
        device=options.device,
        segment=options.segment,
        overlap=options.overlap,
        shifts=options.shifts,
    )
    return separator, name


class SeparationWorker(QObject):
    """Separates songs on the thread it was moved to.

    Signals (``job`` is the job id):
        stage(job, state): "loading model", "decoding" or "separating" begins.
        started(job, stemset, model_name): the (silent) ``StemSet`` exists; it fills in as
            ``progress`` reports, and can be played and drawn up to ``frames_ready``.
        progress(job, fraction, frames_ready, notes): after each chunk.
        finished(job, stemset, waveforms) / failed(job, message) / cancelled(job): exactly one
            per run; ``waveforms`` is the ``StemWaveforms`` of the final stems, computed here
            so that showing a long song costs the GUI thread nothing.
        device(label): the device the separator runs on (again when it falls back to the CPU).
        probed(models, catalogue, devices, error): the names of the models that load now,
            (name, description, downloaded) of the official models, (name, label) of the
            devices, and an error message ("" if none), answering ``probe``.
    """

    stage = Signal(int, str)
    started = Signal(int, object, str)
    progress = Signal(int, float, int, object)
    finished = Signal(int, object, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    device = Signal(str)
    probed = Signal(list, list, list, str)

    def __init__(
        self,
        separator_factory: SeparatorFactory | None = None,
        scratch_dir: Path | None = None,
        memmap_bytes: int = MEMMAP_BYTES,
    ) -> None:
        super().__init__()
        self._factory = separator_factory or default_separator_factory
        self._cached: tuple[SeparationOptions, Any, str] | None = None
        self.scratch_dir = scratch_dir
        self.memmap_bytes = memmap_bytes
        self._files = 0

    @Slot()
    def probe(self) -> None:
        """List the models and devices (this loads torch, off the GUI thread)."""
        from stemgui.ui.models import device_choices, official_catalogue, store_names

        try:
            models, catalogue, devices = store_names(), official_catalogue(), device_choices()
        except (StemguiError, OSError, RuntimeError) as error:
            logger.exception("listing the models and devices failed")
            self.probed.emit([], [], [], str(error))
            return
        self.probed.emit(models, catalogue, devices, "")

    @Slot(int, str, object, object)
    def run(self, job: int, path: str, options: SeparationOptions, cancel: threading.Event) -> None:
        """Separate the song at ``path``; ends with finished, failed or cancelled for ``job``."""
        try:
            self._separate(job, Path(path), options, cancel)
        except SeparationCancelled:
            logger.info("job %d (%s) cancelled", job, path)
            self.cancelled.emit(job)
        except StemguiError as error:
            logger.warning("job %d (%s) failed: %s", job, path, error)
            self.failed.emit(job, str(error))
        except MemoryError:
            logger.exception("job %d (%s): out of memory", job, path)
            self.failed.emit(
                job,
                "Not enough memory to separate this song. Close other programs "
                "or choose the Fast quality, then retry.",
            )
        except Exception as error:  # a bug or an engine failure: the queue must go on
            logger.exception("job %d (%s) failed unexpectedly", job, path)
            self.failed.emit(
                job,
                f"Unexpected error: {error}. Details are in the log file (Help ▸ Open log folder).",
            )

    def _separator(self, options: SeparationOptions) -> tuple[Any, str]:
        key = options.separator_key()
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1], self._cached[2]
        self._cached = None
        separator, name = self._factory(key)
        self._cached = (key, separator, name)
        self._report_device(separator)
        return separator, name

    def _separate(
        self, job: int, path: Path, options: SeparationOptions, cancel: threading.Event
    ) -> None:
        from stemgui.audio.decode import decode
        from stemgui.stems.stemset import StemSet
        from stemgui.stems.waveform import StemWaveforms

        def check() -> None:
            if cancel.is_set():
                raise SeparationCancelled(f"{path.name}: cancelled")

        check()
        self.stage.emit(job, "loading model")
        separator, model_name = self._separator(options)
        check()
        self.stage.emit(job, "decoding")
        channels = int(getattr(separator.model, "audio_channels", 2))
        song = decode(path, samplerate=separator.samplerate, channels=channels)
        for warning in song.warnings:
            logger.warning("%s: %s", path, warning)
        check()
        sources = list(separator.sources)
        stemset = StemSet.allocate(
            sources,
            separator.samplerate,
            channels,
            song.frames,
            mix=song.samples,
            path=self._scratch_file(len(sources) * channels * song.frames * 4),
        )
        self.stage.emit(job, "separating")
        self.started.emit(job, stemset, model_name)
        notes_before = len(getattr(separator, "notes", ()))

        def on_progress(progress: Any) -> None:
            ready = max(stemset.frames_ready, min(int(progress.frames_ready), stemset.frames))
            stemset.frames_ready = ready
            self.progress.emit(job, float(progress.fraction), ready, tuple(progress.notes))

        separator.separate(song.samples, on_progress=on_progress, cancel=cancel, out=stemset.data)
        stemset.frames_ready = stemset.frames
        if options.two_stems and options.two_stems in stemset.names:
            check()
            stemset = two_stem_set(
                stemset, options.two_stems, self._scratch_file(stemset.data.nbytes // 2)
            )
        if len(getattr(separator, "notes", ())) != notes_before:
            self._report_device(separator)
        waveforms = StemWaveforms(stemset)
        self.finished.emit(job, stemset, waveforms)

    def _scratch_file(self, nbytes: int) -> Path | None:
        """A new file for stems of ``nbytes`` that should stay off the RAM; None: keep in RAM."""
        if self.scratch_dir is None or nbytes <= self.memmap_bytes:
            return None
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        self._files += 1
        return self.scratch_dir / f"stems-{self._files}.f32"

    def _report_device(self, separator: Any) -> None:
        label = _device_label(separator)
        if label:
            self.device.emit(label)


def _device_label(separator: Any) -> str:
    device = getattr(separator, "device", None)
    if device is None:
        return ""
    from stemgui.ui.models import describe_device

    return describe_device(device)


def two_stem_set(stemset: Any, keep: str, path: Path | None = None) -> Any:
    """``keep`` and ``no_<keep>`` (the sum of the other stems), as a new complete ``StemSet``.

    The sum is taken stem by stem into the new buffer (an ``np.memmap`` at ``path`` if given),
    so the only extra memory is the result.
    """
    from stemgui.stems.stemset import StemSet

    index = stemset.index(keep)
    pair = StemSet.allocate(
        [keep, f"no_{keep}"],
        stemset.samplerate,
        stemset.channels,
        stemset.frames,
        mix=stemset.mix,
        path=path,
    )
    pair.data[0] = stemset.data[index]
    for other in range(stemset.sources):
        if other != index:
            pair.data[1] += stemset.data[other]
    pair.frames_ready = pair.frames
    return pair
