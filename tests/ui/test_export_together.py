"""Two exports at once: the status bar says one percent for both, not each one's in turn."""

from __future__ import annotations

import queue

from stemgui.export import exporter
from stemgui.export.exporter import ExportRequest
from stemgui.ui.export_targets import Existing
from stemgui.ui.exporting import ExportRunner
from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import make_stemset


def test_two_exports_at_once_say_one_percent_for_their_songs(qtbot, tmp_path, monkeypatch):
    """a.wav at 50 % and b.wav beginning: "Exporting 2 songs… 25%", not "a.wav… 50%" and
    "b.wav… 0%" in turn; each song's own line again once the other has ended."""
    steps = {name: queue.Queue() for name in ("a", "b")}  # fractions to report; None: done

    def export(stemset, request, track, model, on_progress, cancel):
        while (fraction := steps[track.stem].get(timeout=20)) is not None:
            on_progress(fraction)
        return []

    monkeypatch.setattr(exporter, "export", export)
    runner = ExportRunner(lambda message: Existing.CANCEL)
    said = []
    runner.progress.connect(said.append)

    def job(name):
        stems = make_stemset(frames=100)
        return Job(tmp_path / f"{name}.wav", state=JobState.DONE, stemset=stems, model_name="m")

    def then(step, name, fraction, *expected):
        step(name, fraction)
        qtbot.waitUntil(lambda: said[-len(expected) :] == list(expected), timeout=20_000)

    def start(name, _fraction):
        runner.start(job(name), ExportRequest(folder=tmp_path / name))

    def report(name, fraction):
        steps[name].put(fraction)

    then(start, "a", None, "Exporting a.wav… 0%")
    then(report, "a", 0.5, "Exporting a.wav… 50%")
    then(start, "b", None, "Exporting 2 songs… 25%")
    then(report, "b", 0.2, "Exporting 2 songs… 35%")
    then(report, "a", 0.9, "Exporting 2 songs… 55%")
    then(report, "a", 0.901, "Exporting 2 songs… 55%")  # the same: not said again
    then(report, "a", None, "Exporting 2 songs… 55%")
    qtbot.waitUntil(lambda: len(runner.tasks) == 1, timeout=20_000)
    then(report, "b", 0.6, "Exporting b.wav… 60%")
    then(report, "b", None, "Exporting b.wav… 60%")
    qtbot.waitUntil(lambda: not runner.tasks, timeout=20_000)
    assert said == [
        "Exporting a.wav… 0%",
        "Exporting a.wav… 50%",
        "Exporting 2 songs… 25%",
        "Exporting 2 songs… 35%",
        "Exporting 2 songs… 55%",
        "Exporting b.wav… 60%",
    ]
