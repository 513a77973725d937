"""The song header: a long title cut in the middle, a right-to-left title kept in one piece."""

from __future__ import annotations

from PySide6.QtGui import QTextLayout
from PySide6.QtWidgets import QLabel

from stemgui.ui.elided import ElidedLabel

ISOLATE, POP_ISOLATE = "\u2068", "\u2069"  # FIRST STRONG ISOLATE, POP DIRECTIONAL ISOLATE
ARABIC = "فيروز - أغنية الليل الطويل.wav"
TAIL = " — stemgui-htdemucs-small  (separating 40 %)"


def _x(label: ElidedLabel, shown: str, index: int) -> float:
    """Where the character at ``index`` of ``shown`` is drawn, laid out as QLabel lays out a
    plain text (its direction taken from the text)."""
    layout = QTextLayout(shown, label.font())
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(100_000)
    layout.endLayout()
    return line.cursorToX(index)[0]


def test_a_right_to_left_title_reads_whole_with_the_tail_after_it(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()  # resized while shown: a hidden widget gets its resize events later
    label.resize(2000, 30)
    label.setText(ARABIC, TAIL)
    shown = QLabel.text(label)
    assert label.text() == ARABIC + TAIL and label.toolTip() == ""
    start = shown.index(TAIL)
    title = [_x(label, shown, i) for i in range(shown.index(ARABIC), start)]
    assert _x(label, shown, start) >= max(title) - 0.5  # was at the far left, in the Arabic
    assert _x(label, shown, len(shown)) > _x(label, shown, start)  # the tail reads on rightwards
    # the title is one isolated run, the model and state after it on a left-to-right line
    assert shown.endswith(f"{ISOLATE}{ARABIC}{POP_ISOLATE}{TAIL}")

    label.resize(label.fontMetrics().horizontalAdvance(TAIL + "فيروز - أغ…"), 30)
    shown = QLabel.text(label)
    assert "…" in shown and shown.endswith(f"{POP_ISOLATE}{TAIL}")  # cut, the tail whole
    assert shown.count(ISOLATE) == shown.count(POP_ISOLATE) == 1
    assert label.fontMetrics().horizontalAdvance(shown) <= label.width()
    start = shown.index(TAIL)
    title = [_x(label, shown, i) for i in range(shown.index(ISOLATE) + 1, start - 1)]
    assert _x(label, shown, start) >= max(title) - 0.5
    assert label.toolTip().endswith(f"{ISOLATE}{ARABIC}{POP_ISOLATE}{TAIL}")


def test_a_label_too_narrow_for_the_tail_cuts_both_and_keeps_the_title_isolated(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()
    label.setText(ARABIC, TAIL)
    metrics = label.fontMetrics()
    for width in (20, 60, metrics.horizontalAdvance(TAIL) // 2, metrics.horizontalAdvance(TAIL)):
        label.resize(width, 30)
        shown = QLabel.text(label)
        assert "…" in shown and metrics.horizontalAdvance(shown) <= width
        # whatever is left of the title is closed off before the tail's end
        assert shown.count(ISOLATE) == shown.count(POP_ISOLATE) == 1
        assert shown.index(ISOLATE) < shown.index(POP_ISOLATE) <= shown.index("…")
        assert label.toolTip().endswith(f"{ISOLATE}{ARABIC}{POP_ISOLATE}{TAIL}")
    label.clear()
    assert QLabel.text(label) == label.text() == label.toolTip() == ""
