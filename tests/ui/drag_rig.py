"""What the drag-out tests share: drops caught where a DAW would take them, and a hand's
press and move past the drag distance."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication


def dropped(monkeypatch) -> list[list[Path]]:
    """The files of each drag started from now on, one list a drag, in order (``QDrag.exec``
    faked: each drag is dropped at once, as a copy)."""
    drops: list[list[Path]] = []

    def exec_(drag, actions):
        drops.append([Path(url.toLocalFile()) for url in drag.mimeData().urls()])
        return Qt.DropAction.CopyAction

    monkeypatch.setattr(QDrag, "exec", exec_)
    return drops


def drag_row(qtbot, row) -> None:
    """Press on ``row``'s name and move past the drag distance, as a hand does."""
    start = row.label.geometry().center()
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(row, start + QPoint(QApplication.startDragDistance() + 5, 0))
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton)
