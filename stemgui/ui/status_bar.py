"""The window's status bar: a message too long for it is cut in the middle, the whole in its
tooltip; the labels that stay beside the messages (``lasting``).

Qt's status bar cuts a message at the right, mid-word, under the device label: a song's name
or a model file's path pushed out what the message was there to say ("… keeps the settings it
started with. To redo a separ"). Cut in the middle, its start and its end stay in view.
``currentMessage()`` is still the whole message.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

from stemgui.ui.elided import one_line


class StatusBar(QStatusBar):
    """A ``QStatusBar`` whose message, short of room, is cut in the middle (``shown_message``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messageChanged.connect(lambda _message: self._fit())

    def lasting(self, text: str, name: str, first: bool = False) -> QLabel:
        """A label beside the messages that stays, where a message is replaced by the next
        one: the device, "Playback off". ``name``: its accessible name; ``first``: left of
        those there already."""
        label = QLabel(text)
        label.setAccessibleName(name)
        if first:
            self.insertPermanentWidget(0, label)
        else:
            self.addPermanentWidget(label)
        return label

    def message_rect(self) -> QRect:
        """Where the message is drawn: from the left edge to the first widget beside it (as
        Qt's own status bar lays it out)."""
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        left, right = 6, self.width() - 12
        direct = Qt.FindChildOption.FindDirectChildrenOnly
        beside = [
            child.geometry()
            for child in self.findChildren(QWidget, options=direct)
            if child.isVisible() and not isinstance(child, QSizeGrip)
        ]
        if beside and rtl:
            left = max(left, max(r.right() for r in beside) + 3)
        elif beside:
            right = min(right, min(r.left() for r in beside) - 2)
        return QRect(left, 0, max(0, right - left), self.height())

    def shown_message(self) -> str:
        """The message as it is drawn: whole where it fits, else cut in the middle."""
        message = one_line(self.currentMessage())
        return self.fontMetrics().elidedText(
            message, Qt.TextElideMode.ElideMiddle, self.message_rect().width()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        message = self.currentMessage()
        shown = self.shown_message()
        if shown == message:
            super().paintEvent(event)
            return
        painter = QPainter(self)  # Qt's own painting, with the message cut (Fusion draws no
        option = QStyleOption()  # frames around the widgets beside it)
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.message_rect(), flags | Qt.TextFlag.TextSingleLine, shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def _fit(self) -> None:
        """The whole message in the tooltip while it is cut."""
        message = self.currentMessage()
        self.setToolTip(message if message and self.shown_message() != message else "")
