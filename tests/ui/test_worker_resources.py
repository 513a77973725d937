"""The worker's resources: a long song's stems and mix in scratch files (gone with the song), a
thread that yields to the GUI's, memory given back once the queue rests, and a separation thread
that ignores cancel at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from stemgui.run_folders import LOCK_NAME
from stemgui.ui import memory_trim
from stemgui.ui import worker as worker_module
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions, default_separator_factory
from stemgui.ui.worker import WORKER_NICENESS
from tests.fakes import resident
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.queue_rig import _wait_idle


def _files(scratch: Path) -> list[str]:
    """The names of the files in a run's scratch folder but its lock file, sorted."""
    return sorted(path.name for path in scratch.iterdir() if path.name != LOCK_NAME)


def _one_long_song(qtbot, song, model_file, scratch):
    """A controller whose every song counts as long (stems and mix in ``scratch``), after it
    ran ``song``: (controller, job)."""
    ctl = QueueController(
        lambda: SeparationOptions(model=str(model_file), device="cpu"),
        scratch_dir=scratch,
        memmap_bytes=1000,
    )
    (job,) = ctl.add([song])
    _wait_idle(qtbot, ctl)
    return ctl, job


def test_long_songs_keep_their_stems_in_a_file(qtbot, songs, tiny_model_file, tmp_path):
    scratch = tmp_path / "scratch"
    ctl, job = _one_long_song(qtbot, songs[0], tiny_model_file, scratch)
    assert job.state is JobState.DONE, job.error
    assert isinstance(job.stemset.data, np.memmap)
    # the song's mix too: it stayed in RAM, 1.3 GB for 60 minutes
    assert isinstance(job.stemset.mix, np.memmap)
    assert _files(scratch) == ["stems-1-mix.f32", "stems-1.f32"]
    assert (scratch / "stems-1.f32").stat().st_size == 4 * 2 * 8000 * 4
    assert (scratch / "stems-1-mix.f32").stat().st_size == 2 * 8000 * 4
    # separated, drawn: no page of either file left in the process's memory
    assert resident(job.stemset.mix, 0, 8000) == 0 and resident(job.stemset.data, 0, 8000) == 0
    assert np.abs(job.stemset.data).max() > 0
    from stemgui.audio.decode import decode

    np.testing.assert_array_equal(job.stemset.mix, decode(songs[0], samplerate=8000).samples)
    stems, mix = np.array(job.stemset.data), np.array(job.stemset.mix)
    ctl.remove(job)  # a long session does not keep the files of removed songs
    assert _files(scratch) == []
    np.testing.assert_array_equal(job.stemset.data, stems)  # still readable while mapped
    np.testing.assert_array_equal(job.stemset.mix, mix)
    ctl.shutdown()
    assert not scratch.exists()


def test_a_long_song_failing_once_decoded_leaves_no_file(
    qtbot, songs, tiny_model_file, tmp_path, monkeypatch
):
    import importlib

    from stemgui.errors import DecodeError

    decoding = importlib.import_module("stemgui.audio.decode")  # the module, not its function

    real = decoding.decode

    def decoded_then_refused(path, *args, **kwargs):
        song = real(path, *args, **kwargs)  # into the scratch file the worker hands out
        assert isinstance(song.samples, np.memmap)
        raise DecodeError(path, "is damaged after all")

    monkeypatch.setattr(decoding, "decode", decoded_then_refused)
    scratch = tmp_path / "scratch"
    ctl, job = _one_long_song(qtbot, songs[0], tiny_model_file, scratch)
    assert job.state is JobState.FAILED and "damaged after all" in job.error
    assert _files(scratch) == []
    ctl.shutdown()


def test_two_stem_mode_keeps_only_the_two_stems_file(qtbot, songs, tiny_model_file, tmp_path):
    scratch = tmp_path / "scratch"
    ctl = QueueController(
        lambda: SeparationOptions(model=str(tiny_model_file), device="cpu", two_stems="vocals"),
        scratch_dir=scratch,
        memmap_bytes=1000,
    )
    (job,) = ctl.add(songs[:1])
    _wait_idle(qtbot, ctl)
    assert job.state is JobState.DONE, job.error
    assert job.stemset.names == ("vocals", "no_vocals")
    kept = sorted([Path(job.stemset.data.filename).name, Path(job.stemset.mix.filename).name])
    # the four stems' file goes once the pair is handed over (the worker may still be at it:
    # the test read the folder before it had, now and then)
    qtbot.waitUntil(lambda: _files(scratch) == kept, timeout=TIMEOUT_MS)
    ctl.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values")
def test_the_worker_thread_yields_to_the_gui_thread(qtbot, songs, tiny_model_file):
    seen = []

    def factory(options):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return default_separator_factory(options)

    gui_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ctl = QueueController(
        lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"),
        separator_factory=factory,
    )
    try:
        (job,) = ctl.add(songs[:1])
        _wait_idle(qtbot, ctl)
    finally:
        ctl.shutdown()
    assert job.state is JobState.DONE, job.error
    assert seen and seen[0] >= max(WORKER_NICENESS, gui_before)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui_before


def test_freed_memory_goes_back_on_the_worker_once_the_queue_rests(
    qtbot, songs, tiny_model_file, monkeypatch
):
    trims = []
    monkeypatch.setattr(memory_trim, "IDLE_TRIM_MS", 100)
    monkeypatch.setattr(
        worker_module, "release_free_memory", lambda: trims.append(threading.get_ident())
    )
    ctl = QueueController(lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"))
    during = []
    ctl.job_ended.connect(lambda job: during.append(len(trims)))
    try:
        jobs = ctl.add(songs)
        _wait_idle(qtbot, ctl)
        assert during == [0] * len(songs)  # never between or during songs
        qtbot.waitUntil(lambda: len(trims) == 1, timeout=TIMEOUT_MS)
        assert trims[0] != threading.get_ident()  # on the worker's thread, not the GUI's
        ctl.remove(jobs[0])  # a removed song's stems go back too, once more
        qtbot.waitUntil(lambda: len(trims) == 2, timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()
    assert all(job.state is JobState.DONE for job in jobs[1:])


def test_a_long_queue_gives_memory_back_every_few_songs(
    qtbot, tmp_path, tiny_model_file, monkeypatch
):
    trims = []
    monkeypatch.setattr(memory_trim, "TRIM_EVERY_SONGS", 2)
    monkeypatch.setattr(memory_trim, "IDLE_TRIM_MS", 60_000)  # not within this test
    monkeypatch.setattr(worker_module, "release_free_memory", lambda: trims.append(1))
    ctl = QueueController(lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"))
    trims_at_end = []
    ctl.job_ended.connect(lambda job: trims_at_end.append(len(trims)))
    try:
        songs = [write_song(tmp_path / f"{i}.wav", 0.2, seed=i) for i in range(6)]
        ctl.add(songs)  # a trim before the 3rd song and before the 5th
        _wait_idle(qtbot, ctl)
    finally:
        ctl.shutdown()
    assert trims_at_end == [0, 0, 1, 1, 2, 2]


STUCK_SCRIPT = """
import sys, threading, time
import numpy as np, soundfile as sf
from PySide6.QtWidgets import QApplication
app = QApplication([])
from stemgui.ui import controller as C, separation_thread
separation_thread.UNSTOPPED_WAIT_MS = int(sys.argv[3])

class Stuck:  # a chunk that ignores cancel for a while
    sources = ["a", "b"]
    samplerate = 8000
    class model:
        audio_channels = 2
    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        threading.Event().wait(float(sys.argv[2]))
        raise RuntimeError("stuck chunk ended")

sf.write(sys.argv[1], np.zeros((800, 2), np.float32), 8000)
ctl = C.QueueController(separator_factory=lambda options: (Stuck(), "stuck"))
(job,) = ctl.add([sys.argv[1]])
while job.state.value != "separating":
    app.processEvents()
    time.sleep(0.01)
ctl.shutdown(timeout_ms=100)
del ctl
print("closed", flush=True)
"""


@pytest.mark.parametrize(
    ("stuck_s", "wait_ms", "leaves_early"), [(1.0, 20_000, False), (20.0, 300, True)]
)
def test_a_thread_that_ignores_cancel_does_not_crash_the_exit(
    tmp_path, stuck_s, wait_ms, leaves_early
):
    # Qt aborts the process (SIGABRT) when a QThread is destroyed while it runs.
    run = subprocess.run(
        [sys.executable, "-c", STUCK_SCRIPT, str(tmp_path / "s.wav"), str(stuck_s), str(wait_ms)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", STEMGUI_LOG_DIR=str(tmp_path)),
    )
    assert run.returncode == 0, run.stderr
    assert "closed" in run.stdout
    assert "did not stop within 100 ms" in run.stderr
    assert ("leaving with a separation thread still running" in run.stderr) is leaves_early
    assert ("stuck chunk ended" in run.stderr) is not leaves_early  # it finished, was waited for
