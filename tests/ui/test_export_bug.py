"""An export that fails for a bug of stemgui's says so, not that the disk or format failed; one
that runs out of memory says how to make room, not that stemgui is at fault."""

from __future__ import annotations

import logging
from pathlib import Path

from stemgui.audio import stream
from stemgui.audio.encode import AudioFormat
from stemgui.export.exporter import ExportRequest
from stemgui.ui.export_targets import Existing
from stemgui.ui.exporting import ExportRunner
from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import make_stemset


def export_a_song(qtbot, tmp_path) -> tuple[Path, list[str]]:
    """A song of 100 frames exported into tmp_path/out, to the end: the song and what the
    runner said failed."""
    runner = ExportRunner(lambda message: Existing.CANCEL)
    said = []
    runner.failed.connect(said.append)
    song = tmp_path / "a.wav"
    job = Job(song, state=JobState.DONE, stemset=make_stemset(frames=100), model_name="m")
    request = ExportRequest(folder=tmp_path / "out", fmt=AudioFormat(clip="none"))
    runner.start(job, request)
    qtbot.waitUntil(lambda: not runner.tasks, timeout=20_000)
    return song, said


def test_a_bug_while_writing_is_said_as_a_fault_of_stemgui(qtbot, tmp_path, monkeypatch, caplog):
    """An IndexError from a block reader said "could not be written (list index out of
    range); try another folder or format": no folder nor format mends a bug. It says whose
    fault it is and where the log is, which keeps its traceback; no file is left."""

    def buggy(samples):
        def read(start, stop):
            raise IndexError("list index out of range")

        return read

    monkeypatch.setattr(stream, "array_reader", buggy)
    with caplog.at_level(logging.ERROR, logger="stemgui.ui.exporting"):
        song, said = export_a_song(qtbot, tmp_path)
    assert said == [
        f"{song}: unexpected error (IndexError: list index out of range), a fault in stemgui. "
        "Details are in the log file (Help ▸ Open log folder)."
    ]
    (record,) = [r for r in caplog.records if r.name == "stemgui.ui.exporting"]
    assert record.exc_info[0] is IndexError  # the traceback, in the log file
    assert list((tmp_path / "out").rglob("*")) == []


def test_running_out_of_memory_while_writing_is_said_as_memory(qtbot, tmp_path, monkeypatch):
    """numpy failing to allocate a block (its ``_ArrayMemoryError``, a ``MemoryError``) was
    said as "unexpected error (Unable to allocate …), a fault in stemgui": it is the machine's
    memory, and the words say how to make room, as a separation's do."""
    import numpy as np

    def greedy(samples):
        def read(start, stop):
            return np.empty(2**62, dtype=np.uint8)  # more than any machine has

        return read

    monkeypatch.setattr(stream, "array_reader", greedy)
    song, said = export_a_song(qtbot, tmp_path)
    assert said == [
        f"{song}: not enough memory to export this song. Close other programs, or export fewer "
        "stems at once or a part of the song, then retry."
    ]
    assert list((tmp_path / "out").rglob("*")) == []
