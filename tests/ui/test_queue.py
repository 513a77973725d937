"""The queue and its worker: one song at a time; each ends finished, failed or cancelled.
The worker's memory, scratch files and thread: test_worker_resources.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from stemgui.ui import eta as eta_module
from stemgui.ui import worker as worker_module
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import Job, JobState
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.queue_rig import _wait_idle


@pytest.fixture
def controller(qtbot, tiny_model_file):
    ctl = QueueController(lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"))
    yield ctl
    ctl.shutdown()


def test_songs_separate_in_order_and_stems_are_complete(qtbot, controller, songs):
    ended = []
    controller.job_ended.connect(ended.append)
    jobs = controller.add(songs)
    assert [j.state for j in jobs][1] is JobState.WAITING
    _wait_idle(qtbot, controller)
    assert [j.path for j in ended] == songs
    for job in jobs:
        assert job.state is JobState.DONE, job.error
        stems = job.stemset
        assert stems.names == ("drums", "bass", "other", "vocals")
        assert stems.complete and stems.frames == 8000 and stems.samplerate == 8000
        assert np.abs(stems.data).max() > 0
        assert stems.mix is not None and stems.mix.shape == (2, 8000)
        assert job.model_name == "tiny"


def test_a_song_whose_file_name_is_not_utf8_separates(qtbot, controller, tmp_path):
    """A Latin-1 name (an old archive's, on Linux): Python keeps its bytes as surrogates, which
    a Qt ``str`` on the way to the worker dropped, so the song was said not to exist."""
    song = tmp_path / os.fsdecode(b"caf\xe9.wav")  # "caf\udce9.wav"
    write_song(tmp_path / "cafe.wav").rename(song)
    (job,) = controller.add([song])
    _wait_idle(qtbot, controller)
    assert job.state is JobState.DONE, job.error
    assert job.stemset.frames == 8000 and np.abs(job.stemset.data).max() > 0


def test_corrupt_file_fails_with_its_reason_and_the_queue_goes_on(
    qtbot, controller, songs, corrupt_song
):
    jobs = controller.add([corrupt_song, songs[0]])
    _wait_idle(qtbot, controller)
    bad, good = jobs
    assert bad.state is JobState.FAILED
    assert bad.error.startswith(f"{corrupt_song}: ")
    assert bad.status_text() == f"failed: {bad.error[len(str(corrupt_song)) + 2 :]}"  # no path
    assert good.state is JobState.DONE


class GatedSeparator:
    """Blocks in its first chunk until the test opens ``gate``; honours cancel."""

    sources: ClassVar[list[str]] = ["drums", "bass"]
    samplerate = 8000

    class model:
        audio_channels = 2

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import SeparationCancelled

        assert self.gate.wait(TIMEOUT_MS / 1000)
        if cancel.is_set():
            raise SeparationCancelled("cancelled")
        out[...] = buffer[None] / 2
        return out


class OutOfMemorySeparator(GatedSeparator):
    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        raise MemoryError


def test_a_song_out_of_memory_says_what_helps_and_can_be_retried(qtbot, songs):
    # Every quality preset separates chunks of the same length, so none needs less memory:
    # the message must not send the user to one.
    ctl = QueueController(
        separator_factory=lambda options: (OutOfMemorySeparator(threading.Event()), "oom")
    )
    (job,) = ctl.add(songs[:1])
    _wait_idle(qtbot, ctl)
    assert job.state is JobState.FAILED and job.retry_helps
    assert job.error == (
        f"{songs[0]}: not enough memory to separate this song. Close other programs, then retry."
    )
    ctl.shutdown()


def test_cancel_waiting_and_running_jobs(qtbot, songs, tiny_model_file):
    gate = threading.Event()
    ctl = QueueController(separator_factory=lambda options: (GatedSeparator(gate), "gated"))
    try:
        running, waiting = ctl.add(songs)
        qtbot.waitUntil(lambda: running.state is JobState.SEPARATING, timeout=TIMEOUT_MS)
        ctl.cancel(waiting)
        assert waiting.state is JobState.CANCELLED
        with qtbot.waitSignal(ctl.job_ended, timeout=TIMEOUT_MS) as blocker:
            ctl.cancel(running)
            gate.set()
        assert blocker.args == [running]
        assert running.state is JobState.CANCELLED
        _wait_idle(qtbot, ctl)
        ctl.retry(waiting)
        qtbot.waitUntil(lambda: waiting.state is JobState.DONE, timeout=TIMEOUT_MS)
        np.testing.assert_allclose(waiting.stemset.data[1], waiting.stemset.mix / 2)
    finally:
        gate.set()
        ctl.shutdown()


def test_a_running_song_being_cancelled_or_removed_says_so_until_it_stops(
    qtbot, songs, settings_store
):
    from stemgui.ui import settings as S
    from tests.ui.song_window import separating_window

    gate = threading.Event()
    win = separating_window(qtbot, settings_store, lambda: GatedSeparator(gate), "gated")
    try:
        running, _ = win.add_paths(songs)
        qtbot.waitUntil(lambda: running.state is JobState.SEPARATING, timeout=TIMEOUT_MS)
        win.select(running)
        win.queue.cancel_button.click()
        assert running.status_text() == "cancelling…"
        assert not win.queue.cancel_button.isEnabled() and win.queue.remove_button.isEnabled()
        win.save_session()  # quit now: it does not come back at the next start
        assert [Path(song["path"]).name for song in json.loads(win.settings.get(S.SESSION))] == [
            songs[1].name
        ]
        win.queue.remove_button.click()
        assert running.status_text() == "removing…"
        assert running in win.controller.model.jobs  # until the worker stops at its chunk
        assert not win.queue.remove_button.isEnabled()
        assert not win.queue.cancel_button.isEnabled()
        gate.set()
        qtbot.waitUntil(lambda: running not in win.controller.model.jobs, timeout=TIMEOUT_MS)
    finally:
        gate.set()
        win.close()


def test_a_song_dropped_again_while_its_row_goes_is_queued_and_retry_never_doubles_it(qtbot, songs):
    gate = threading.Event()
    ctl = QueueController(separator_factory=lambda options: (GatedSeparator(gate), "gated"))
    try:
        running, waiting = ctl.add(songs)
        qtbot.waitUntil(lambda: running.state is JobState.SEPARATING, timeout=TIMEOUT_MS)
        ctl.remove(running)  # "removing…" until the worker stops at its chunk
        (again,) = ctl.add(songs[:1])  # was refused as busy, and then the old row went
        ctl.cancel(waiting)
        (waiting_again,) = ctl.add(songs[1:])
        assert not ctl.retry(waiting)  # was a second waiting row of the same song
        gate.set()
        qtbot.waitUntil(lambda: waiting_again.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert again.state is JobState.DONE and running not in ctl.model.jobs
        assert [job.path for job in ctl.model.jobs] == [songs[1], songs[0], songs[1]]
        assert waiting.state is JobState.CANCELLED
    finally:
        gate.set()
        ctl.shutdown()


def test_no_model_says_so(qtbot, songs, monkeypatch):
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: [])
    ctl = QueueController(lambda: SeparationOptions(model=""))
    try:
        (job,) = ctl.add(songs[:1])
        _wait_idle(qtbot, ctl)
        assert job.state is JobState.FAILED
        assert "No separation model" in job.error
    finally:
        ctl.shutdown()


def test_a_model_whose_network_cannot_run_is_said_as_the_model_s_fault(qtbot, songs):
    """A network failing inside its forward (shapes that do not line up) was said as the
    song's failure ('unexpected error'), and the next song failed alike."""
    from stemgui.errors import ModelRunError

    class BrokenSeparator(GatedSeparator):
        def separate(self, buffer, on_progress=None, cancel=None, out=None):
            raise ModelRunError("the model's HTDemucs network cannot separate any song")

    ctl = QueueController(
        lambda: SeparationOptions(model="broken"),
        separator_factory=lambda options: (BrokenSeparator(threading.Event()), "broken"),
    )
    said = []
    ctl.model_failed.connect(lambda *args: said.append(args))
    try:
        (job,) = ctl.add(songs[:1])
        _wait_idle(qtbot, ctl)
        assert said == [("broken", "the model's HTDemucs network cannot separate any song", True)]
        assert job.state is JobState.FAILED
    finally:
        ctl.shutdown()


def test_remove_and_reorder(qtbot, songs, tmp_path):
    from stemgui.ui.queue import QueueModel

    model = QueueModel()
    a, b = model.add(songs)
    assert model.add(songs) == []  # already queued
    model.move(b, -1)
    assert model.jobs == [b, a]
    model.remove(b)
    assert model.jobs == [a]
    assert model.rowCount() == 1


def test_a_song_reached_two_ways_is_queued_once(songs, tmp_path):
    """It was matched by its path as given: a link to it, or sub/../a.wav, queued it again."""
    from stemgui.ui.queue import QueueModel

    link = tmp_path / "link.wav"
    link.symlink_to(songs[0])
    roundabout = songs[1].parent / ".." / songs[0].name
    model = QueueModel()
    (job,) = model.add(songs[:1])
    assert model.add([link]) == [] and model.add([roundabout]) == []
    model.update(job, state=JobState.CANCELLED)
    assert len(model.add([link])) == 1  # cancelled: queued again
    assert model.busy_paths() == {songs[0].resolve()}


def test_retry_knows_a_song_waiting_under_another_path(qtbot, songs, tmp_path):
    gate = threading.Event()
    ctl = QueueController(separator_factory=lambda options: (GatedSeparator(gate), "gated"))
    try:
        _running, waiting = ctl.add(songs)
        ctl.cancel(waiting)
        link = tmp_path / "link.wav"
        link.symlink_to(songs[1])
        assert len(ctl.add([link])) == 1
        assert not ctl.retry(waiting)  # it waits already, through the link
        assert waiting.state is JobState.CANCELLED
    finally:
        gate.set()
        ctl.shutdown()


def test_a_finished_song_says_what_separated_it():
    from stemgui.stems.stemset import StemSet

    four = StemSet(("drums", "bass", "other", "vocals"), 8000, np.zeros((4, 2, 8), np.float32))
    pair = StemSet(("vocals", "no_vocals"), 8000, np.zeros((2, 2, 8), np.float32))
    song = Path("song.wav")
    assert Job(song, state=JobState.DONE, stemset=four, model_name="m").status_text() == (
        "done (m)"
    )
    assert Job(song, state=JobState.DONE, stemset=pair, model_name="m").status_text() == (
        "done (m, vocals / no vocals)"
    )
    assert Job(song, state=JobState.DONE).status_text() == "done"
    # the quality too, unless the default: the same song redone Fast is told from the first
    key = (str(song), 1, 1)
    fast = SeparationOptions(overlap=0.1)
    assert Job(
        song, state=JobState.DONE, stemset=pair, model_name="m", cache_key=(*key, fast)
    ).status_text() == ("done (m, Fast, vocals / no vocals)")
    balanced = Job(
        song,
        state=JobState.DONE,
        stemset=four,
        model_name="m",
        cache_key=(*key, SeparationOptions()),
    )
    assert balanced.status_text() == "done (m)"
    best = SeparationOptions(shifts=2)
    assert Job(song, state=JobState.DONE, stemset=four, cache_key=(*key, best)).status_text() == (
        "done (Best)"
    )


def test_the_time_left_is_measured_past_the_first_chunk_and_afresh_after_a_restart(
    controller, tmp_path, monkeypatch
):
    clock = [100.0]
    monkeypatch.setattr(eta_module.time, "monotonic", lambda: clock[0])
    job = Job(tmp_path / "song.wav", state=JobState.WAITING)
    controller.model._jobs.append(job)
    controller._current = job  # as if the worker had taken it

    def report(at: float, fraction: float, notes: tuple = ()) -> float | None:
        clock[0] = at
        controller._on_progress(job.id, fraction, 0, notes)
        return job.eta

    controller._on_stage(job.id, "separating")
    assert report(100.0, 0.0) is None  # the separator's report before the first chunk
    # the first chunk took 3 s (1.5 s of warm-up); then 1.5 s for each tenth of the song
    assert report(103.0, 0.1) is None
    assert report(104.5, 0.2) == pytest.approx(12.0)  # 8 tenths left at 1.5 s: not 16 s
    assert report(106.0, 0.3) == pytest.approx(10.5)
    # the GPU ran out of memory: the song goes on on the CPU, at its own pace
    cpu = ("The GPU ran out of memory; separating on the CPU instead (slower).",)
    assert report(107.0, 0.3, cpu) is None
    assert report(111.0, 0.4, cpu) == pytest.approx(24.0)


def test_the_controller_imports_the_audio_package_before_its_worker_can():
    # The GUI thread's lazy import of stemgui.audio.decode and the worker's probe importing the
    # same package at once raised "partially initialized module" and lost the song: the whole
    # package is imported on the controller's (the GUI) thread first.
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from stemgui.ui.controller import QueueController\n"
        "assert 'stemgui.audio.decode' not in sys.modules\n"
        "app = QCoreApplication([])\n"
        "controller = QueueController()\n"
        "assert 'stemgui.audio.decode' in sys.modules\n"
        "controller.shutdown()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_probe_that_fails_in_any_way_still_answers(qtbot, monkeypatch, tmp_path):
    import stemgui.ui.models as models

    def broken():
        raise ImportError("cannot import name 'X' from partially initialized module")

    monkeypatch.setattr(models, "store_names", broken)
    worker = worker_module.SeparationWorker(None, tmp_path, 1 << 20, None, None)
    with qtbot.waitSignal(worker.probed, timeout=TIMEOUT_MS) as blocker:
        worker.probe()
    assert blocker.args[:3] == [[], [], []] and "partially initialized" in blocker.args[3]
