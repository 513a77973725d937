"""What the playback window tests share: a four-stem song, a window that shows it, and the
steps that put a separated song on screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from stemgui.playback.null_output import NullOutput
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput

RATE = 8000
NAMES = ("drums", "bass", "other", "vocals")


def make_stemset(frames: int = 4 * RATE, ready: int | None = None) -> StemSet:
    """``frames`` (four seconds) of four stems of quiet noise at ``RATE``, with their mix;
    ``ready``: the frames separated so far (None: all)."""
    rng = np.random.default_rng(0)
    data = (0.05 * rng.standard_normal((4, 2, frames))).astype(np.float32)
    return StemSet(NAMES, RATE, data, mix=data.sum(axis=0), frames_ready=ready)


def vocals_and_rest(four: StemSet, keep_mix: bool = False) -> StemSet:
    """What a two-stem run ends with after ``four`` (drums, bass, other, vocals): vocals and
    no_vocals, the sum of the other three; ``keep_mix``: with ``four``'s mix (else none)."""
    rest = four.data[:3].sum(axis=0)
    mix = four.mix if keep_mix else None
    return StemSet(("vocals", "no_vocals"), RATE, np.stack([four.data[3], rest]), mix=mix)


def model_window(
    qtbot, settings_store, model, output_factory=FakeOutput, active: bool = False
) -> MainWindow:
    """A window shown with nothing queued, separating with ``model`` on the CPU (None: the
    settings' model and device) and playing through ``output_factory`` (None: the window's own,
    on the device chosen in Playback ▸ Output device); ``active``: waited for until it is the
    active window (shortcuts only reach that one)."""
    settings = S.Settings(settings_store)
    if model is not None:
        settings.set(S.MODEL, str(model))
        settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=output_factory, probe=False)
    qtbot.addWidget(win)
    win.show()
    if active:
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow)
    return win


def separating_window(qtbot, settings_store, make_separator, model_name: str) -> MainWindow:
    """A window, not shown, with nothing queued, that separates each song with a separator of
    ``make_separator()`` named ``model_name`` and plays through ``FakeOutput``."""
    win = MainWindow(
        S.Settings(settings_store),
        separator_factory=lambda options: (make_separator(), model_name),
        output_factory=FakeOutput,
        probe=False,
    )
    qtbot.addWidget(win)
    return win


def null_window(qtbot, settings_store, outputs):
    """A window shown, active, with nothing queued, playing each song through a
    ``NullOutput`` (256-frame blocks) that is appended to ``outputs``."""

    def factory(stemset, mixer, transport):
        output = NullOutput(stemset, mixer, transport, blocksize=256)
        outputs.append(output)
        return output

    return model_window(qtbot, settings_store, None, factory, active=True)


def song_window(qtbot, settings_store, tmp_path, output_factory=None, model=None) -> tuple:
    """(window, job): a window shown with a separated song on screen ("Shown.wav",
    ``make_stemset``), playing through ``output_factory`` (None: the window's own, on the
    device chosen in Playback ▸ Output device); ``model``: the checkpoint to separate with."""
    win = model_window(qtbot, settings_store, model, output_factory)
    return win, show_song(win, tmp_path / "Shown.wav")


def show_song(
    win: MainWindow, song: Path, stemset: StemSet | None = None, model_name: str = "tiny"
) -> Job:
    """The job of ``song`` (written empty), separated by ``model_name`` into ``stemset``
    (``make_stemset``'s), added to ``win``'s queue and shown."""
    song.write_bytes(b"")
    job = Job(
        song,
        state=JobState.DONE,
        fraction=1.0,
        stemset=stemset or make_stemset(),
        model_name=model_name,
    )
    win.controller.model._jobs.append(job)  # as if it had been separated
    win.show_job(job)
    return job


def done_job(win, tmp_path, stemset=None) -> Job:
    """``show_song`` of "My Song.wav" in ``tmp_path``."""
    return show_song(win, tmp_path / "My Song.wav", stemset)


def click(qtbot, button):
    """A left click on ``button``."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
