"""A slider of whole decibels that a double-click sets back to 0 dB, as on a mixing desk.

Its readout label shows the value as "+3 dB", "−8 dB" (a true minus sign, as in "−∞") and, at
the minimum, which is silence, "−∞ dB".

A focused slider is framed in the palette's highlight colour: the wheel turns only the slider
that has focus, and Fusion draws a slider's focus faintly, only after a Tab.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import QLabel, QSlider, QWidget

FOCUS_PEN = 2.0
"""Width in pixels of the frame drawn around a focused slider."""


def db_text(db: int, silent: int) -> str:
    """How a level of ``db`` is written; at or below ``silent``, "−∞ dB"."""
    if db <= silent:
        return "−∞ dB"
    return f"{db:+d} dB".replace("-", "−")  # U+2212, as in −∞: "-8" beside "−∞" looked odd


class DbSlider(QSlider):
    """Horizontal, from ``low`` to ``high`` dB (``low`` is silence); ``readout``, the label
    showing its value (``db_text``), follows it, and a double-click on either sets 0 dB."""

    def __init__(
        self, low: int, high: int, readout: QLabel | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(low, high)
        # A click beside the handle moves it by the page step, Qt's 10 by default: a tap meant
        # to focus the slider took vocals from 0 to -10 dB. One dB, as the arrow keys.
        self.setPageStep(1)
        if readout is not None:
            readout.installEventFilter(self)
            readout.setText(db_text(self.value(), low))
            self.valueChanged.connect(lambda db: readout.setText(db_text(db, self.minimum())))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # A focused slider jumps a whole range on these (End: +12 dB at once, loud); arrows
        # still step it a dB at a time.
        if event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            event.ignore()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        # The wheel scrolling past an unfocused slider changed that stem's gain (-1 dB a notch,
        # unseen); it turns a slider only once clicked or tabbed to, else the rows scroll.
        if not self.hasFocus():
            event.ignore()
            return
        super().wheelEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.hasFocus():  # under the handle, which stays whole
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_PEN))
            inset = FOCUS_PEN / 2
            frame = self.rect().toRectF().adjusted(inset, inset, -inset, -inset)
            painter.drawRoundedRect(frame, 4, 4)
            painter.end()
        super().paintEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.setValue(0)
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick:
            self.setValue(0)
            return True
        return super().eventFilter(watched, event)
