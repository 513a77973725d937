"""Labels that never widen their window: a one-line label whose text too long for it is cut in
the middle, and ``wrapped_label``, word-wrapped; and ``counted``, a number of things in words."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ISOLATE, POP_ISOLATE = "\u2068", "\u2069"  # FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE
_MARKS = {Qt.LayoutDirection.LeftToRight: "\u200e", Qt.LayoutDirection.RightToLeft: "\u200f"}


def counted(number: int, noun: str) -> str:
    """ "1 song", "2 songs": a message reads as written, not "1 song(s)"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def one_line(text: str) -> str:
    """``text`` with its line breaks, tabs and other control characters as spaces: a file
    name may hold them, and a one-line label or a queue row showed its first line alone."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def wrapped_label(accessible_name: str) -> QLabel:
    """Word-wrapped, selectable text that never widens the window: a word longer than the
    label's width (a deep folder's path, a file name without spaces) is cut at its edge, not
    given room; selected, it copies whole."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(accessible_name)
    policy = label.sizePolicy()  # height for width kept: the wrapped lines get their height
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


class ElidedLabel(QLabel):
    """Shows as much of its text as fits, on one line (``one_line``), "…" in the middle, the
    whole text in the tooltip.
    ``text()`` is the whole text. A ``tail`` given to ``setText`` (a song's state) stays whole
    while there is room for a little of the rest, and so does ``kept`` (a song's tempo and key),
    read right after the text; an ``aside`` (a song's model, read between those and the tail)
    is left out first, before anything of the text is cut; then ``shorter`` forms, where given
    (the loop readout without "Loop ", then without its length).

    A plain QLabel asks for its text's width: a 164-character file name made the window 1957
    pixels wide, past the screen, and kept it that wide. This one's minimum width is nothing;
    its size hint is its whole text, which shows where the layout has room for it. ``note``, a
    tooltip of its own, follows the whole text in the tooltip.

    The text before the tail (a file name) is shown as a bidi isolate, in its own direction,
    on a line in the label's layout direction: an Arabic title made the whole line right to
    left and mixed ".wav — stemgui-htdemucs-small" into the Arabic.
    """

    def __init__(self, parent: QWidget | None = None, note: str = "") -> None:
        super().__init__(parent)
        self._full = self._tail = self._aside = self._kept = ""
        self._shorter: list[str] = []
        self._note = note
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)  # a song named "<b>Live<i>" is not HTML

    def setText(
        self,
        text: str,
        tail: str = "",
        aside: str = "",
        kept: str = "",
        shorter: Sequence[str] = (),
    ) -> None:
        """``shorter``: shorter forms of the whole, shown whole in their order where it does
        not fit (past the aside), the last cut in the middle where none fits."""
        before = self._whole()
        text, tail, aside, kept = one_line(text), one_line(tail), one_line(aside), one_line(kept)
        self._full, self._tail, self._aside = text + kept + aside + tail, tail, aside
        self._kept, self._shorter = kept, [one_line(form) for form in shorter]
        if self._whole() != before:  # its size hint is the whole text's
            self.updateGeometry()
        self._fit()

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._whole()) + 2 * self.margin()
        return QSize(width + margins.left() + margins.right(), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def text(self) -> str:
        return self._full

    def clear(self) -> None:
        self.setText("")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LayoutDirectionChange:
            self._fit()

    def _head(self) -> str:
        after = len(self._kept) + len(self._aside) + len(self._tail)
        return self._full[: len(self._full) - after]

    def _whole(self) -> str:
        after = self._kept + self._aside + self._tail
        return self._line(self._head(), after) if self._full else ""

    def _fit(self) -> None:
        metrics, tail, head = self.fontMetrics(), self._kept + self._tail, self._head()
        room = self.width() - metrics.horizontalAdvance(tail)
        whole = self._whole()
        if not self._full or metrics.horizontalAdvance(whole) <= self.width():
            shown = whole
        elif metrics.horizontalAdvance(without := self._line(head, tail)) <= self.width():
            shown = without  # the aside alone gives way
        elif self._shorter:
            shown = self._short()
        elif tail and room >= metrics.horizontalAdvance(head[:4] + "…"):
            shown = self._line(metrics.elidedText(head, Qt.TextElideMode.ElideMiddle, room), tail)
        else:
            shown = self._cut(head, tail)
        super().setText(shown)
        tip = whole if shown != whole else ""
        if self._note and self._full:
            tip = f"{tip}\n{self._note}" if tip else self._note
        self.setToolTip(tip)

    def _short(self) -> str:
        """The first of the shorter forms that fits, else the last cut in the middle."""
        for form in self._shorter:
            line = self._line(form, "")
            if self.fontMetrics().horizontalAdvance(line) <= self.width():
                return line
        return self._cut(self._shorter[-1], "")

    def _line(self, head: str, tail: str) -> str:
        """``head`` isolated, then ``tail``, after a mark that sets the line's direction."""
        return f"{_MARKS[self.layoutDirection()]}{ISOLATE}{head}{POP_ISOLATE}{tail}"

    def _cut(self, head: str, tail: str) -> str:
        """``head + tail`` cut in the middle to the label's width (the tail does not fit whole),
        what is left of the head still isolated."""
        text, end = head + tail, len(head)

        def shown(keep: int) -> str:
            a, b = keep - keep // 2, len(text) - keep // 2  # text[a:b] gives way to "…"
            while b < len(text) and unicodedata.combining(text[b]):  # not an accent alone
                b += 1
            if b <= end:  # only the head is cut
                return self._line(f"{text[:a]}…{text[b:end]}", tail)
            if a >= end:  # only the tail is cut
                return self._line(head, f"{text[end:a]}…{text[b:]}")
            return self._line(text[:a], f"…{text[b:]}")

        fits, over = 0, len(text) + 1  # the most characters kept that fit: binary search
        while over - fits > 1:
            keep = (fits + over) // 2
            if self.fontMetrics().horizontalAdvance(shown(keep)) <= self.width():
                fits = keep
            else:
                over = keep
        return shown(fits)
