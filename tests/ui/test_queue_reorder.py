"""Reordering the queue: only waiting songs move, by drag and drop, buttons or Ctrl+Up/Down,
and the order is what separates next."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from stemgui.ui.queue import JobState, QueueModel
from stemgui.ui.queue_view import QueuePanel
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS, write_song

MOVE = Qt.DropAction.MoveAction


@pytest.fixture
def model():
    model = QueueModel()
    model.add([Path(f"/songs/{name}.wav") for name in "abcde"])
    return model


def names(model: QueueModel) -> str:
    return "".join(job.path.stem for job in model.jobs)


def job(model: QueueModel, name: str):
    return next(j for j in model.jobs if j.path.stem == name)


def test_waiting_jobs_move_and_others_keep_their_place(model):
    moves = []
    model.rowsMoved.connect(lambda *args: moves.append((args[1], args[4])))
    assert model.move_to(job(model, "d"), 0)
    assert names(model) == "dabce"
    assert moves == [(3, 0)]  # Qt was told: row 3 goes before row 0
    assert model.move(job(model, "a"), 1) and names(model) == "dbace"
    assert model.move(job(model, "e"), 1) is False  # already last
    assert model.move_to(job(model, "b"), 5) and names(model) == "daceb"

    model.update(job(model, "a"), state=JobState.SEPARATING)
    model.update(job(model, "c"), state=JobState.DONE)
    for name in "ac":
        assert not model.can_move(job(model, name))
        assert model.move(job(model, name), -1) is False
        assert model.move_to(job(model, name), 5) is False
    assert names(model) == "daceb"
    assert model.move_to(job(model, "b"), 1)  # a waiting job may pass the others
    assert names(model) == "dbace"
    assert model.can_move(job(model, "d"), 1) and not model.can_move(job(model, "d"), -1)

    # Qt's own move API (the list view's internal move) follows the same rule.
    assert model.moveRow(QModelIndex(), 4, QModelIndex(), 0)
    assert names(model) == "edbac"
    assert not model.moveRow(QModelIndex(), 3, QModelIndex(), 0)  # "a" is separating


def test_up_and_down_pass_the_next_waiting_song_not_just_the_next_row(model):
    model.update(job(model, "a"), state=JobState.DONE)
    model.update(job(model, "b"), state=JobState.SEPARATING)
    model.update(job(model, "d"), state=JobState.DONE)  # retried songs, say
    # c is the first to wait: moving it above the running b would change nothing
    assert not model.can_move(job(model, "c"), -1) and not model.move(job(model, "c"), -1)
    assert model.can_move(job(model, "e"), -1)
    assert model.move(job(model, "e"), -1) and names(model) == "abecd"  # before c, past d
    assert not model.can_move(job(model, "e"), -1)
    assert model.can_move(job(model, "e"), 1) and not model.can_move(job(model, "c"), 1)
    assert model.move(job(model, "e"), 1) and names(model) == "abced"


def test_drag_payload_holds_waiting_jobs_only_and_drops_keep_their_order(model):
    model.update(job(model, "c"), state=JobState.SEPARATING)
    index = {name: model.index(model.row_of(job(model, name))) for name in "abcde"}
    assert model.flags(index["b"]) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(index["c"]) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(index["b"]) & Qt.ItemFlag.ItemIsDropEnabled  # between rows only
    assert model.flags(QModelIndex()) & Qt.ItemFlag.ItemIsDropEnabled

    mime = model.mimeData([index["d"], index["c"], index["b"]])
    assert bytes(mime.data(QueueModel.MIME_TYPE).data()) == (
        f"{job(model, 'b').id},{job(model, 'd').id}".encode()
    )
    assert model.canDropMimeData(mime, MOVE, 0, 0, QModelIndex())
    assert model.dropMimeData(mime, MOVE, 5, 0, QModelIndex())  # to the end
    assert names(model) == "acebd"
    assert model.dropMimeData(mime, MOVE, 0, 0, QModelIndex())  # to the top
    assert names(model) == "bdace"
    assert model.dropMimeData(mime, MOVE, 4, 0, QModelIndex())  # before "e"
    assert names(model) == "acbde"
    assert model.dropMimeData(mime, MOVE, -1, 0, index["a"])  # onto "a": before it
    assert names(model) == "bdace"

    running = model.mimeData([model.index(model.row_of(job(model, "c")))])
    assert not model.canDropMimeData(running, MOVE, 0, 0, QModelIndex())
    assert not model.dropMimeData(running, MOVE, 0, 0, QModelIndex())
    files = QMimeData()
    files.setUrls([QUrl.fromLocalFile("/songs/f.wav")])
    assert not model.canDropMimeData(files, MOVE, 0, 0, QModelIndex())
    assert names(model) == "bdace"


def test_the_order_decides_what_separates_next(qtbot, tmp_path):
    from stemgui.ui.controller import QueueController
    from stemgui.ui.separation_options import SeparationOptions

    class HalfSeparator:
        sources: ClassVar[list[str]] = ["drums", "bass"]
        samplerate = 8000

        class model:
            audio_channels = 2

        def separate(self, buffer, on_progress=None, cancel=None, out=None):
            out[...] = buffer[None] / 2
            return out

    songs = [write_song(tmp_path / f"{name}.wav", seconds=0.1) for name in "abc"]
    hold = ["waiting for the test"]
    ctl = QueueController(
        lambda: SeparationOptions(model="half"),
        lambda options: (HalfSeparator(), "half"),
        scratch_dir=tmp_path / "scratch",
        blocker=lambda: hold[0],
    )
    ended = []
    ctl.job_ended.connect(lambda j: ended.append(j.path.stem))
    try:
        a, _b, c = ctl.add(songs)
        ctl.model.move_to(c, 0)
        ctl.model.move(a, 1)
        assert names(ctl.model) == "cba"
        hold[0] = None
        ctl.resume()
        qtbot.waitUntil(lambda: len(ended) == 3, timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()
    assert ended == ["c", "b", "a"]


@pytest.fixture
def queue_panel(qtbot, model):
    """The queue panel over ``model``, in an active window (shortcuts need one)."""
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    widget = QueuePanel(model)
    window.setCentralWidget(widget)
    qtbot.addWidget(window)
    window.resize(300, 600)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts only reach the active window
    yield widget
    window.close()


def _drag_and_drop(view, mime: QMimeData, row: int) -> QDropEvent:
    """Drag ``mime`` over the view and drop it on the upper edge of ``row``."""
    rect = view.visualRect(view.model().index(row))
    point = QPointF(QPoint(rect.center().x(), rect.top() + 2))
    args = (MOVE, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(point.toPoint(), *args)
    QApplication.sendEvent(view.viewport(), enter)
    move = QDragMoveEvent(point.toPoint(), *args)
    QApplication.sendEvent(view.viewport(), move)
    drop = QDropEvent(point, *args)
    if enter.isAccepted() and move.isAccepted():
        QApplication.sendEvent(view.viewport(), drop)
    return drop


def test_dropping_in_the_list_moves_a_waiting_song(qtbot, queue_panel, model):
    mime = model.mimeData([model.index(3)])  # "d", kept referenced until the drop is done
    drop = _drag_and_drop(queue_panel.view, mime, 1)
    assert drop.isAccepted()
    assert names(model) == "adbce"
    model.update(job(model, "b"), state=JobState.DECODING)
    busy = model.mimeData([model.index(model.row_of(job(model, "b")))])
    drop = _drag_and_drop(queue_panel.view, busy, 0)
    assert not drop.isAccepted()
    assert names(model) == "adbce"


def test_ctrl_up_and_down_move_the_selected_waiting_song(qtbot, queue_panel, model):
    view = queue_panel.view
    queue_panel.select(job(model, "c"))
    view.setFocus()
    assert queue_panel.up_button.isEnabled() and queue_panel.down_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert names(model) == "acbde"
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert names(model) == "cabde"
    assert queue_panel.selected_job() is job(model, "c")  # the song stays selected
    assert not queue_panel.up_button.isEnabled()  # at the top
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert names(model) == "acbde"
    queue_panel.down_button.click()
    assert names(model) == "abcde"

    model.update(job(model, "c"), state=JobState.SEPARATING)
    assert not queue_panel.up_button.isEnabled() and not queue_panel.down_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert names(model) == "abcde"  # a song being separated keeps its place


def test_song_files_dropped_on_the_queue_list_reach_the_window(qtbot, settings_store, songs):
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow

    settings = S.Settings(settings_store)  # no model set: songs wait, nothing loads
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(song)) for song in songs])
    view = win.queue.view
    point = QPointF(view.viewport().width() / 2, view.viewport().height() / 2)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton)
    enter = QDragEnterEvent(point.toPoint(), *args, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, *args, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    assert [j.path for j in win.controller.model.jobs] == songs
    win.close()
