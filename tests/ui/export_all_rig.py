"""What the tests of exporting many songs share: separated songs put in a window's queue, the
export dialog answered in advance, waiting for the export and reading what it wrote."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from stemgui.ui.export_dialog import ExportDialog
from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import RATE, make_stemset, vocals_and_rest


def add_done(win, path, scale=1.0, two_stem: bool = False) -> Job:
    """A separated song at ``path`` (written empty) in ``win``'s queue: ``make_stemset``'s four
    stems times ``scale``, or with ``two_stem`` vocals and the rest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    stemset = make_stemset()
    if two_stem:
        stemset = vocals_and_rest(stemset, keep_mix=True)
    stemset.data *= scale
    job = Job(path, state=JobState.DONE, fraction=1.0, stemset=stemset, model_name="tiny")
    win.controller.model._jobs.append(job)
    win.update_buttons()  # as the queue's change would
    return job


def accept_with(monkeypatch, choose):
    """Make the dialog answer Export at once, after ``choose(dialog)``."""
    seen = []

    def exec_(dialog):
        seen.append(dialog)
        choose(dialog)
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    return seen


def wait_export(qtbot, win):
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)


def read(path):
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return audio.T


def songs_with_a_file_each(win, tmp_path, monkeypatch) -> tuple[list[Job], Path]:
    """Songs a.wav and b.wav separated, their export into ``out`` (``{track}-{stem}``, 32-bit
    float) accepted in advance, and a bass file of each there already ("keep me")."""
    jobs = [add_done(win, tmp_path / name) for name in ("a.wav", "b.wav")]
    out = tmp_path / "out"

    def choose(dialog):
        dialog.folder.setText(str(out))
        dialog.template.setText("{track}-{stem}.{ext}")
        dialog.format.setCurrentIndex(dialog.format.findData("wav32f"))

    accept_with(monkeypatch, choose)
    out.mkdir()
    for job in jobs:
        (out / f"{job.path.stem}-bass.wav").write_bytes(b"keep me")
    return jobs, out
