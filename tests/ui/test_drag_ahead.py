"""A stem dragged out as it is is written from the moment the mouse is pressed on its row, on a
thread, while the hand moves the drag distance: the drag finds it written, once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from tests.ui.drag_rig import drag_row, dropped


def _count_writes(monkeypatch) -> list[Path]:
    import stemgui.audio.stream as stream

    writes = []
    real = stream.write_blocks
    monkeypatch.setattr(
        stream, "write_blocks", lambda *a, **k: writes.append(a[0]) or real(*a, **k)
    )
    return writes


def test_a_stem_is_written_from_the_press_on_its_row(qtbot, panel, tmp_path, monkeypatch):
    """Written on the window's thread as the drag started, a 4-minute stem held the window
    still for 0.5–0.7 s at every first drag; the hand takes about as long to move the drag
    distance after the press."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    writes = _count_writes(monkeypatch)
    panel.track = "My Song"
    row = panel.rows["bass"]
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"
    start = row.label.geometry().center()
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    qtbot.waitUntil(path.is_file, timeout=20_000)  # before any move: written ahead
    assert drops == []
    qtbot.mouseMove(row, start + QPoint(QApplication.startDragDistance() + 5, 0))
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton)
    assert drops == [[path]] and writes == [path]  # the file written ahead, not again
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("bass"))


def test_a_drag_right_after_the_press_waits_for_the_file_written_ahead(
    qtbot, panel, tmp_path, monkeypatch
):
    """The drag reaching the file while the thread writes it wrote it a second time, or
    dropped it half written."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    writes = _count_writes(monkeypatch)
    panel.track = "My Song"
    drag_row(qtbot, panel.rows["drums"])
    ((path,),) = drops
    assert path.name == "My Song - drums.wav" and writes == [path]
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("drums"))
    assert panel.drag_file("drums") == path and len(writes) == 1
