"""The original mix row dragged out drops the song file itself, beside its stems: nothing is
written; a song file that is gone is said in the status bar instead of a drag."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication

from tests.ui.song_window import done_job, null_window


def _drag_row(qtbot, row) -> None:
    """Press on ``row``'s name and move past the drag distance, as a hand does."""
    start = row.label.geometry().center()
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(row, start + QPoint(QApplication.startDragDistance() + 5, 0))
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton)


def test_the_original_mix_drags_out_as_the_song_file(qtbot, settings_store, tmp_path, monkeypatch):
    """A DAW user wanting the full track beside its stems could not drag the top row."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = []

    def exec_(drag, actions):
        drops.append([Path(url.toLocalFile()) for url in drag.mimeData().urls()])
        return Qt.DropAction.CopyAction

    monkeypatch.setattr(QDrag, "exec", exec_)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    _drag_row(qtbot, win.stems.mix_row)
    assert drops == [[job.path]]  # the song's own file, as it is
    assert not (tmp_path / "cache" / "stemgui" / "drag").exists()  # nothing written
    _drag_row(qtbot, win.stems.rows["bass"])  # the stems still drag out as files
    assert drops[1] == [tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"]
    win.close()


def test_the_original_mix_of_a_song_file_gone_says_so(qtbot, settings_store, tmp_path, monkeypatch):
    """A song on a drive unplugged since it was separated: a drag of a path that is not there
    drops nothing in the DAW, without a word."""
    monkeypatch.setattr(QDrag, "exec", lambda drag, actions: drops.append(drag))
    drops = []
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.path.unlink()
    _drag_row(qtbot, win.stems.mix_row)
    assert drops == []
    assert win.statusBar().currentMessage() == (
        f"{job.path} is not there any more (on a drive unplugged?): plug its drive back in "
        "to drag the original mix, or drag its stems"
    )
    win.close()
