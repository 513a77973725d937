"""A one-line label that never widens its window: a text too long for it is cut in the middle;
and ``counted``, a number of things in words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def counted(number: int, noun: str) -> str:
    """ "1 song", "2 songs": a message reads as written, not "1 song(s)"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


class ElidedLabel(QLabel):
    """Shows as much of its text as fits, "…" in the middle, the whole text in the tooltip.
    ``text()`` is the whole text. A ``tail`` given to ``setText`` (a song's model and state)
    stays whole while there is room for a little of the rest.

    A plain QLabel asks for its text's width: a 164-character file name made the window 1957
    pixels wide, past the screen, and kept it that wide.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = self._tail = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str, tail: str = "") -> None:
        self._full, self._tail = text + tail, tail
        self._fit()

    def text(self) -> str:
        return self._full

    def clear(self) -> None:
        self.setText("")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics, middle = self.fontMetrics(), Qt.TextElideMode.ElideMiddle
        head = self._full[: len(self._full) - len(self._tail)]
        room = self.width() - metrics.horizontalAdvance(self._tail)
        if self._tail and room >= metrics.horizontalAdvance(head[:4] + "…"):
            shown = metrics.elidedText(head, middle, room) + self._tail
        else:
            shown = metrics.elidedText(self._full, middle, self.width())
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
