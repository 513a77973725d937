"""Every kind of bad or odd input, through the app's queue in one batch with good songs.

The whole corpus (``corpus.make_corpus``) goes into one ``MainWindow`` queue with the
known-answer ``TinyNet`` (``helpers``): each bad file ends FAILED with one line that names it and
says what is wrong (no traceback; the log file keeps it), every other file ends DONE with the
stems ``TinyNet`` must give for what was decoded (finite: NaN and infinite samples become
silence), and the songs around the bad ones still finish. The hour-long song is a benchmark
(``bench/``); here the corpus's long song lasts a few seconds.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from stemgui.logs import LOG_FILE_NAME, setup_logging
from stemgui.ui.queue import JobState
from tests.fakes import FakeOutput
from tests.reliability.corpus import make_corpus
from tests.reliability.helpers import NAMES, expected_stems, write_song

TIMEOUT_MS = 120_000
LONG_SECONDS = 5.0


@pytest.fixture
def window(qtbot, isolated, model_file):
    from PySide6.QtCore import QSettings

    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow

    setup_logging(console=False)  # as the app does: the log file is in isolated/logs
    store = QSettings(str(isolated / "settings.ini"), QSettings.Format.IniFormat)
    settings = S.Settings(store)
    settings.set(S.MODEL, str(model_file))
    settings.set(S.DEVICE, "cpu")
    settings.set(S.KEEP_STEMS, False)  # copies of one song in the corpus: separate each
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    win.controller.scratch_dir = win.controller.worker.scratch_dir = isolated / "scratch"
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_bad_input_through_the_app_queue(qtbot, window, isolated, monkeypatch):
    root = isolated
    decode_module = importlib.import_module("stemgui.audio.decode")
    original_decode = decode_module.decode
    decoded: dict[Path, np.ndarray] = {}  # what the worker decoded: the known answer's input

    def recording_decode(path, *args, **kwargs):
        song = original_decode(path, *args, **kwargs)
        decoded[Path(path)] = song.samples
        return song

    monkeypatch.setattr(decode_module, "decode", recording_decode)
    cases = make_corpus(root / "corpus", long_seconds=LONG_SECONDS)
    first = write_song(root / "good" / "first.wav", seed=1)
    middle = write_song(root / "good" / "middle.wav", seed=2)
    last = write_song(root / "good" / "last.wav", seed=3)
    paths = [case.path for case in cases]
    half = len(paths) // 2
    paths = [root / "good" / "first.wav", *paths[:half], root / "good" / "middle.wav"]
    paths += [*[case.path for case in cases[half:]], root / "good" / "last.wav"]

    folders = [case.path for case in cases if case.path.is_dir()]  # expanded, not queued
    assert [case.kind for case in cases if case.path in folders] == ["directory given as a file"]
    ended = []
    window.controller.job_ended.connect(ended.append)
    jobs = window.add_paths(paths)  # as a drop or File > Open does
    said = window.statusBar().currentMessage()
    assert f"No audio or video files in {folders[0]}." in said
    paths = [path for path in paths if path not in folders]
    assert [job.path for job in jobs] == paths  # every file is a job, none refused early
    qtbot.waitUntil(lambda: len(ended) == len(jobs), timeout=TIMEOUT_MS)
    by_path = {job.path: job for job in jobs}
    assert [job.path for job in ended] == paths  # in queue order, each exactly once

    for case in cases:
        if case.error is None or case.path in folders:
            continue
        job = by_path[case.path]
        assert job.state is JobState.FAILED, (case.kind, job.state, job.error)
        assert str(case.path) in job.error, (case.kind, job.error)
        assert case.error in job.error, (case.kind, job.error)
        assert "\n" not in job.error and "Traceback" not in job.error, (case.kind, job.error)
        assert job.stemset is None, case.kind
        assert job.status_text() == f"failed: {job.reason}"  # the queue line names the song
        assert job.error == f"{case.path}: {job.reason}"

    good = {root / "good" / "first.wav": first}
    good[root / "good" / "middle.wav"] = middle
    good[root / "good" / "last.wav"] = last
    for case in cases:
        if case.error is None:
            good[case.path] = None
    for path, original in good.items():
        job = by_path[path]
        assert job.state is JobState.DONE, (path.name, job.error)
        stems = job.stemset
        assert stems.names == tuple(NAMES) and stems.complete, path.name
        assert np.isfinite(stems.data).all(), path.name  # NaN/inf input: never NaN stems
        mix = decoded[path]
        assert np.isfinite(mix).all(), path.name
        np.testing.assert_allclose(stems.data, expected_stems(mix), atol=2e-5, err_msg=path.name)
        if original is not None:  # the good songs: decoded exactly as written
            np.testing.assert_allclose(mix, original, atol=1e-7)

    odd = [case for case in cases if case.kind in ("nan samples", "inf samples")]
    assert len(odd) == 2
    for case in odd:  # NaN and infinite samples became silence, the others kept their values
        clean = np.where(np.isfinite(case.original), case.original, 0)
        np.testing.assert_allclose(decoded[case.path], clean, atol=1e-7)
        notes = by_path[case.path].notes  # the repair is on the job (its tooltip), not only logged
        assert any("replaced by silence" in note for note in notes), (case.kind, notes)

    # The window said so, in the banner: the last failure, by name.
    last_failed = [job for job in ended if job.state is JobState.FAILED][-1]
    assert window.message == f"{last_failed.title}: {last_failed.reason}"
    assert window.banner.isVisibleTo(window)

    # The details are in the log file: each failure's line, then its traceback.
    log = (root / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8").splitlines()
    for job in jobs:
        if job.state is JobState.FAILED:
            at = [i for i, line in enumerate(log) if f"job {job.id} ({job.path}) failed" in line]
            assert len(at) == 1, job.path.name
            assert log[at[0] + 1].startswith("Traceback"), job.path.name


def test_a_folder_without_songs_is_named_in_the_window(qtbot, window, isolated):
    empty = isolated / "album"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes" / "lyrics.txt").write_text("la la la", encoding="utf-8")
    assert window.add_paths([empty]) == []
    assert window.controller.model.jobs == []
    assert str(empty) in window.statusBar().currentMessage()
    assert "no audio or video files" in window.statusBar().currentMessage().lower()


def test_an_unexpected_engine_failure_is_one_line_naming_the_song(qtbot, isolated):
    """A multi-line error from deep in the engine (torch's are) becomes one line; the queue
    goes on with the next song."""
    from stemgui.ui.controller import QueueController
    from stemgui.ui.separation_options import SeparationOptions

    class FlakySeparator:
        sources: ClassVar[list[str]] = ["drums", "bass"]
        samplerate = 44100

        class model:
            audio_channels = 2

        def separate(self, buffer, on_progress=None, cancel=None, out=None):
            if buffer.shape[1] == BAD_FRAMES:
                raise RuntimeError("shape mismatch\n  at layer 3\n\n  (internal)")
            out[...] = buffer[None] / 2
            return out

    BAD_FRAMES = 4410
    bad = isolated / "songs" / "odd one.wav"
    write_song(bad, seconds=BAD_FRAMES / 44100, seed=4)
    good = isolated / "songs" / "fine.wav"
    write_song(good, seconds=0.2, seed=5)
    ctl = QueueController(
        lambda: SeparationOptions(model="flaky"),
        lambda options: (FlakySeparator(), "flaky"),
        scratch_dir=isolated / "scratch",
    )
    try:
        first, second = ctl.add([bad, good])
        qtbot.waitUntil(lambda: second.state.ended, timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()
    assert first.state is JobState.FAILED
    assert first.error.startswith(
        f"{bad}: unexpected error (RuntimeError: shape mismatch at layer 3 (internal))"
    )
    assert "\n" not in first.error and "log file" in first.error
    assert second.state is JobState.DONE
