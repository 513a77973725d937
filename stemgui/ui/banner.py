"""A message strip above the stems: errors in plain words, with a button to act and one to close.

The buttons stand beside the words, or under them where beside them the words would take more
room: a 500-character message beside two buttons at the window's smallest got a third of the
banner's width and lost its last lines; under them it has the whole width.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QToolButton,
    QWidget,
)

from stemgui.ui.elided import wrapped_label

logger = logging.getLogger(__name__)


class Banner(QFrame):
    """Hidden until ``show_message``; the × hides it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        # the × too: in the palette's button text it was black on the brown in the light theme
        self.setStyleSheet(
            "#banner { background: #5a4a1a; border-radius: 4px; }"
            "#banner QLabel, #banner QToolButton { color: #ffe9a8; }"
        )
        layout = QGridLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setColumnStretch(0, 1)
        self.label = wrapped_label("Message")  # a long file name does not widen the window
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages name files: not HTML
        self.buttons: list[QPushButton] = []
        self._actions = QWidget()  # the buttons, in a row beside the words or under them
        self._row = QHBoxLayout(self._actions)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._under = False
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAccessibleName("Close the message")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        self._layout = layout
        layout.addWidget(self.label, 0, 0)
        layout.addWidget(self._actions, 0, 1)
        layout.addWidget(self.close_button, 0, 2, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_message(
        self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = ()
    ) -> None:
        """Show ``text`` with one button per (label, callback) of ``actions``."""
        self.label.setText(text)
        for button in self.buttons:
            self._row.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for label, callback in actions:
            button = QPushButton(label)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keyboard_focus says why
            button.clicked.connect(callback)
            self._row.addWidget(button)
            self.buttons.append(button)
        self._actions.setVisible(bool(self.buttons))
        # Tab: the buttons from left to right, then ×, where the banner is (a new widget
        # comes last, after the transport below the stems); from the words, which Tab passes
        chain = [self.label, *self.buttons, self.close_button]
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)
        self._arrange(self.width())
        self.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(event.size().width())

    def _arrange(self, width: int) -> None:
        """The buttons beside the words at ``width``, or under them where the words and the
        buttons take less height that way."""
        under = bool(self.buttons) and self._height_under(width) < self._height_beside(width)
        if under == self._under:
            return
        self._under = under
        self._layout.removeWidget(self._actions)
        if under:  # right-aligned under the words, the × staying at the top right
            self._layout.addWidget(self._actions, 1, 0, 1, 2, Qt.AlignmentFlag.AlignRight)
        else:
            self._layout.addWidget(self._actions, 0, 1)

    def _words_width(self, width: int, beside: bool) -> int:
        margins = self._layout.contentsMargins()
        gap = self._layout.horizontalSpacing()
        room = width - margins.left() - margins.right() - self.close_button.sizeHint().width()
        room -= gap
        if beside:
            room -= self._actions.sizeHint().width() + gap
        return max(room, 1)

    def _height_beside(self, width: int) -> int:
        words = self.label.heightForWidth(self._words_width(width, beside=True))
        return max(words, self._actions.sizeHint().height())

    def _height_under(self, width: int) -> int:
        words = self.label.heightForWidth(self._words_width(width, beside=False))
        return words + self._layout.verticalSpacing() + self._actions.sizeHint().height()
