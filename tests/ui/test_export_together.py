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


class Exports:
    """An ``ExportRunner`` whose exports go step by step (``step_by_step``), with what it
    said (``said``)."""

    def __init__(self, qtbot, tmp_path, monkeypatch) -> None:
        self.qtbot, self.folder = qtbot, tmp_path
        self.steps = step_by_step(monkeypatch)
        self.runner = ExportRunner(lambda message: Existing.CANCEL)
        self.said: list[str] = []
        self.runner.progress.connect(self.said.append)

    def start(self, name: str, frames: int = 100, **request) -> None:
        """Export the song ``name``.wav, ``frames`` long."""
        stems = make_stemset(frames=frames)
        song = self.folder / f"{name}.wav"
        job = Job(song, state=JobState.DONE, stemset=stems, model_name="m")
        self.runner.start(job, ExportRequest(folder=self.folder / name, **request))

    def report(self, name: str, fraction: float | None) -> None:
        """``name``'s export reports ``fraction``; None: it returns."""
        self.steps[name].put(fraction)

    def then(self, *expected: str) -> None:
        """Wait until the last lines said are ``expected``."""
        said = self.said
        self.qtbot.waitUntil(lambda: said[-len(expected) :] == list(expected), timeout=20_000)

    def wait(self, running: int) -> None:
        self.qtbot.waitUntil(lambda: len(self.runner.tasks) == running, timeout=20_000)


def test_two_exports_at_once_say_one_percent_for_their_songs(qtbot, tmp_path, monkeypatch):
    """a.wav at 50 % and b.wav beginning: "Exporting 2 songs… 25%", not "a.wav… 50%" and
    "b.wav… 0%" in turn; each song's own line again once the other has ended."""
    run = Exports(qtbot, tmp_path, monkeypatch)
    run.start("a")
    run.then("Exporting a.wav… 0%")
    run.report("a", 0.5)
    run.then("Exporting a.wav… 50%")
    run.start("b")
    run.then("Exporting 2 songs… 25%")
    run.report("b", 0.2)
    run.then("Exporting 2 songs… 35%")
    run.report("a", 0.9)
    run.then("Exporting 2 songs… 55%")
    run.report("a", 0.901)  # the same: not said again
    run.report("a", None)
    run.then("Exporting b.wav… 20%")  # at once, not at b's next percent
    run.wait(1)
    run.report("b", 0.6)
    run.then("Exporting b.wav… 60%")
    run.report("b", None)
    run.wait(0)
    assert run.said == [
        "Exporting a.wav… 0%",
        "Exporting a.wav… 50%",
        "Exporting 2 songs… 25%",
        "Exporting 2 songs… 35%",
        "Exporting 2 songs… 55%",
        "Exporting b.wav… 20%",
        "Exporting b.wav… 60%",
    ]


def test_the_percent_of_exports_at_once_weighs_each_song_by_its_length(
    qtbot, tmp_path, monkeypatch
):
    """A 10-minute song half written and a 1-minute one begun are 45 % of the work, not 25 %;
    the short one done too, 54 %, not 75 % (600 and 60 frames: the same ratio). A loop region
    weighs its own frames: 540 of a.wav's 600."""
    run = Exports(qtbot, tmp_path, monkeypatch)
    run.start("a", frames=600)
    run.report("a", 0.5)
    run.then("Exporting a.wav… 50%")
    run.start("b", frames=60)
    run.then("Exporting 2 songs… 45%")  # (300 + 0) / 660
    run.report("b", 1.0)
    run.then("Exporting 2 songs… 54%")  # (300 + 60) / 660 = 54.5
    run.report("b", None)
    run.report("a", None)
    run.wait(0)
    run.start("a", frames=600, span=(0.0, 540 / 8000))
    run.report("a", 0.5)
    run.start("b", frames=60)
    run.then("Exporting 2 songs… 45%")  # (270 + 0) / 600
    run.report("a", None)
    run.report("b", None)
    run.wait(0)


def test_the_status_bar_keeps_the_line_of_both_while_both_run(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """b's "Exporting b.wav…" and a's "Exported 1 file to …" stood in the status bar in
    place of "Exporting 2 songs… 35%" until the next percent came; a's result is said once,
    then b's line at once."""
    from tests.ui.export_all_rig import add_done

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
