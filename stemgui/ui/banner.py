"""A message strip above the stems: errors in plain words, with a button to act and one to close."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QWidget

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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = wrapped_label("Message")  # a long file name does not widen the window
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages name files: not HTML
        self.buttons: list[QPushButton] = []
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAccessibleName("Close the message")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        self._layout = layout
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_message(
        self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = ()
    ) -> None:
        """Show ``text`` with one button per (label, callback) of ``actions``."""
        self.label.setText(text)
        for button in self.buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for label, callback in actions:
            button = QPushButton(label)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keyboard_focus says why
            button.clicked.connect(callback)
            self._layout.insertWidget(self._layout.count() - 1, button)
            self.buttons.append(button)
        # Tab: the buttons from left to right, then ×, where the banner is (a new widget
        # comes last, after the transport below the stems)
        chain = [self.close_button.previousInFocusChain(), *self.buttons, self.close_button]
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)
        self.show()
