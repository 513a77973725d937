"""The window's keys and the widget with the keyboard focus.

A focused button takes Space, Return and Enter as a press, as in any desktop app. Space is also
the window's play / pause shortcut, and Qt tries shortcuts before the focused widget sees a key:
with Remove focused, Space started playback instead of pressing it, and Return did nothing (a push
button outside a dialog ignores it). Space plays and pauses wherever else the focus is (the queue,
a gain, nowhere). The buttons take the focus from Tab only, not from a click, so that Space after
clicking Remove still plays rather than removing the next song. Fusion drew no visible focus on
a button: a ring in the highlight colour, as around a focused gain (``DbSlider``), shows which
one Space would press.

A control of a stem row reached by Tab from outside the rows (Shift+Tab from Play) is scrolled
into view, as Tab between the rows' own controls does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QAbstractButton, QApplication, QScrollArea, QWidget

from stemgui.ui.dbslider import FOCUS_PEN

PRESS_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)


class FocusRing(QWidget):
    """A ring in the palette's highlight colour (the theme's) over the border of its parent,
    the focused button: drawn over it, not around it (as Qt's ``QFocusFrame`` is), since the M
    buttons and Remove sit at their panel's edge, which cut what was drawn outside them."""

    def __init__(self, button: QWidget) -> None:
        super().__init__(button)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(button.rect())
        button.installEventFilter(self)  # resized: the ring too
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_PEN))
        inset = FOCUS_PEN / 2
        painter.drawRoundedRect(self.rect().toRectF().adjusted(inset, inset, -inset, -inset), 3, 3)
        painter.end()


class KeyboardFocus(QObject):
    """Watches ``window``'s keys for its focused button, and the focus for ``scroll``'s rows."""

    def __init__(self, window: QWidget, scroll: QScrollArea) -> None:
        super().__init__(window)
        self.window = window
        self.scroll = scroll
        self.ring: FocusRing | None = None  # on the focused button, if any
        window.installEventFilter(self)  # the focused widget's unhandled keys come up to it
        app = QApplication.instance()
        app.focusChanged.connect(self._focus_changed)

    def focused_button(self) -> QAbstractButton | None:
        """The enabled button of the window that has the keyboard focus, or None."""
        widget = QApplication.focusWidget()
        if (
            isinstance(widget, QAbstractButton)
            and widget.isEnabled()
            and widget.window() is self.window
        ):
            return widget
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is not self.window or kind not in (
            QEvent.Type.ShortcutOverride,
            QEvent.Type.KeyPress,
        ):
            return False
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() not in PRESS_KEYS or modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        button = self.focused_button()
        if button is None:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut: the key goes to the button (Space presses it)
            return True
        if event.key() != Qt.Key.Key_Space:  # Return / Enter, which the button let pass
            button.animateClick()
            return True
        return False

    def _forget(self, ring: FocusRing) -> None:
        if self.ring is ring:
            self.ring = None

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self.ring is not None:
            self.ring.hide()  # now: deleteLater waits for the event loop
            self.ring.deleteLater()
            self.ring = None
        button = self.focused_button()
        if button is not None:
            self.ring = ring = FocusRing(button)
            # gone with its button (a stem row of the song shown before): forgotten
            ring.destroyed.connect(lambda _=None: self._forget(ring))
        rows = self.scroll.widget()
        if new is not None and rows is not None and rows.isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new)
