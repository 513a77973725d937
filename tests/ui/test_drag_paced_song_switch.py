"""A stem dragged at a pace is written on a thread (``stemgui.ui.stem_drags``): the last song's
write, still going as the next song is shown, neither holds up nor is dropped as the next
song's drag."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication

from stemgui.export.pace import Pace
from stemgui.ui.drag_out import DragFiles
from stemgui.ui.drag_part import DragPart
from tests.ui.song_window import done_job, null_window, show_song


def test_the_next_song_s_paced_drag_is_not_held_by_the_last_song_s_write(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """The last song's write kept the drags busy: the next song's drag at a pace said "Still
    writing Bass to drag: a moment, please" until it ended, and a result could take the place
    of the other's, dragging the last song's file as the next song's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops: list[Path] = []

    def exec_(drag, actions):
        drops.append(Path(drag.mimeData().urls()[0].toLocalFile()))
        return Qt.DropAction.CopyAction

    monkeypatch.setattr(QDrag, "exec", exec_)
    monkeypatch.setattr(
        QApplication, "mouseButtons", staticmethod(lambda: Qt.MouseButton.LeftButton)
    )
    gates: dict[str, threading.Event] = {}  # track -> let its write go on
    file = DragFiles.file

    def gated(self, **asked):
        gates.setdefault(asked["track"], threading.Event()).wait(20)
        return file(self, **asked)

    monkeypatch.setattr(DragFiles, "file", gated)
    win = null_window(qtbot, settings_store, [])
    # as the export dialog was last ticked: at 80 %, the speed heard
    monkeypatch.setattr(win.exports, "drag_part", lambda: DragPart(pace=Pace(0.8)))
    done_job(win, tmp_path)
    win.stems.drag_out("bass")
    show_song(win, tmp_path / "Other.wav")
    win.stems.drag_out("bass")
    said = win.statusBar().currentMessage
    assert said() == "Writing the stems of Other 80% to drag them…"
    with qtbot.waitSignal(win.stems.drags._written, timeout=20_000):
        gates.setdefault("My Song", threading.Event()).set()
    assert drops == []  # the button still held, but over the other song: not dropped
    assert said() == "Writing the stems of Other 80% to drag them…"
    gates.setdefault("Other", threading.Event()).set()
    qtbot.waitUntil(lambda: bool(drops), timeout=20_000)
    assert [path.name for path in drops] == ["Other 80% - bass.wav"]
    assert win.stems.drags.writing is None
    win.close()
