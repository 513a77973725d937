"""Two exports at once: the status bar says one percent for both, not each one's in turn."""

from __future__ import annotations

import queue
from pathlib import Path

from stemgui.export import exporter
from stemgui.export.exporter import ExportRequest
from stemgui.ui.export_targets import Existing
from stemgui.ui.exporting import ExportRunner
from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import make_stemset, model_window


def step_by_step(monkeypatch):
    """``exporter.export`` made to report the fractions put in ``steps[song's stem]`` and to
    return at a None (its request's folder / "stem.wav" as the file written); ``steps``
    returned."""
    steps = {name: queue.Queue() for name in ("a", "b")}

    def export(stemset, request, track, model, on_progress, cancel):
        while (fraction := steps[track.stem].get(timeout=20)) is not None:
            on_progress(fraction)
        return [Path(request.folder) / "stem.wav"]

    monkeypatch.setattr(exporter, "export", export)
    return steps


def test_two_exports_at_once_say_one_percent_for_their_songs(qtbot, tmp_path, monkeypatch):
    """a.wav at 50 % and b.wav beginning: "Exporting 2 songs… 25%", not "a.wav… 50%" and
    "b.wav… 0%" in turn; each song's own line again once the other has ended."""
    steps = step_by_step(monkeypatch)
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
    then(report, "a", None, "Exporting b.wav… 20%")  # at once, not at b's next percent
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
        "Exporting b.wav… 20%",
        "Exporting b.wav… 60%",
    ]


def test_the_status_bar_keeps_the_line_of_both_while_both_run(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """b's "Exporting b.wav…" and a's "Exported 1 file to …" stood in the status bar in
    place of "Exporting 2 songs… 35%" until the next percent came; a's result is said once,
    then b's line at once."""
    from tests.ui.test_export_all import add_done

    steps = step_by_step(monkeypatch)
    win = model_window(qtbot, settings_store, None)
    shown = []
    win.statusBar().messageChanged.connect(shown.append)
    jobs = {name: add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b")}

    def then(step, *expected):
        step()
        qtbot.waitUntil(lambda: shown[-len(expected) :] == list(expected), timeout=20_000)

    def start(name):
        return lambda: win.exports.export_job(jobs[name], ExportRequest(folder=tmp_path / name))

    def report(name, fraction):
        return lambda: steps[name].put(fraction)

    then(start("a"), "Exporting a.wav… 0%")
    then(report("a", 0.5), "Exporting a.wav… 50%")
    then(start("b"), "Exporting 2 songs… 25%")
    then(report("b", 0.2), "Exporting 2 songs… 35%")
    then(report("a", None), f"Exported 1 file to {tmp_path / 'a'}", "Exporting b.wav… 20%")
    then(report("b", 0.6), "Exporting b.wav… 60%")
    then(report("b", None), f"Exported 1 file to {tmp_path / 'b'}")
    assert [text for text in shown if text] == [
        "Exporting a.wav…",
        "Exporting a.wav… 0%",
        "Exporting a.wav… 50%",
        "Exporting 2 songs… 25%",
        "Exporting 2 songs… 35%",
        f"Exported 1 file to {tmp_path / 'a'}",
        "Exporting b.wav… 20%",
        "Exporting b.wav… 60%",
        f"Exported 1 file to {tmp_path / 'b'}",
    ]
